/**
 * The training-loop bench's parts that need no training: its arithmetic (bench/loopStats.ts), its generated data
 * and config (bench/loopWorkspace.ts) and its command line (bench/loopArgs.ts). The rate spans the timed steps
 * only, a run with a missing step gives a reason instead of a number, every generated row is long enough to be
 * cut to exactly `seq` tokens, and a bad flag is a usage error that names it.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loopStats } from '../../bench/loopStats';
import type { TimedStep } from '../../bench/loopStats';
import { generateRows, loopConfig } from '../../bench/loopWorkspace';
import { loopOptions } from '../../bench/loopArgs';
import { trainerEntry } from '../../bench/loopRun';
import { trainerThreads } from '../../trainer/parallel/threads';

/** Steps 1..n, step i ending at ends[i-1] ms, each reporting `own` ms of compute for a batch of 8, 64 tokens each. */
function steps(ends: number[], own = 100, cpu?: number[]): TimedStep[] {
  return ends.map((elapsedMs, i) => ({
    step: i + 1,
    elapsedMs,
    samplesPerSecond: 8000 / own,
    tokensPerSecond: (8 * 64 * 1000) / own,
    cpuS: cpu ? cpu[i]! : null,
  }));
}

test('the rate spans the end of the warm-up to the end of the last timed step', () => {
  // A slow first step (warm-up), then steps of 150, 250 and 200 ms on the engine's clock.
  const s = loopStats(steps([2000, 2150, 2400, 2600], 100, [5, 5.3, 5.8, 6.2]), 8, 1, 3);
  assert.ok(typeof s !== 'string', String(s));
  assert.equal(s.steps, 3);
  assert.equal(s.samples_per_s, (3 * 8 * 1000) / 600);
  assert.equal(s.tokens_per_s, s.samples_per_s * 64);
  assert.equal(s.step_ms_median, 200);
  // The messages' own windows (100 ms each) leave out the loop's time between steps.
  assert.ok(Math.abs(s.reported_samples_per_s - 80) < 1e-9, `${s.reported_samples_per_s}`);
  assert.ok(Math.abs(s.samples_per_cpu_s! - 24 / 1.2) < 1e-9);
});

test('steps may arrive in any order; CPU time is null where it could not be read', () => {
  const s = loopStats(steps([100, 300, 500]).reverse(), 8, 1, 2);
  assert.ok(typeof s !== 'string', String(s));
  assert.equal(s.samples_per_s, 16000 / 400);
  assert.equal(s.samples_per_cpu_s, null);
});

test('an incomplete run gives the reason, not a number', () => {
  assert.match(String(loopStats(steps([100, 200]), 8, 3, 2)), /no step message for the last warm-up step \(3\)/);
  assert.match(String(loopStats(steps([100, 200, 300]), 8, 1, 3)), /expected step messages 2\.\.4, got 2, 3/);
  const gap = steps([100, 200, 300, 400]).filter((s) => s.step !== 3);
  assert.match(String(loopStats(gap, 8, 1, 3)), /got 2, 4/);
  assert.match(String(loopStats(steps([100, 100]), 8, 1, 1)), /took 0 ms/);
  assert.match(String(loopStats([], 8, 1, 1)), /no step message/);
});

test('the generated rows are whole-word tokens of the tokenizer, more than max_length, the same for a seed', () => {
  const vocab = new Set(
    readFileSync(path.join(__dirname, '..', '..', 'examples', 'tokenizer', 'vocab.txt'), 'utf8').split('\n'),
  );
  const csv = generateRows(20, 40, 3);
  assert.equal(csv, generateRows(20, 40, 3));
  assert.notEqual(csv, generateRows(20, 40, 4));
  const [header, ...rows] = csv.trimEnd().split('\n');
  assert.equal(header, 'text,label');
  assert.equal(rows.length, 20);
  for (const row of rows) {
    const [text, label] = row.split(',');
    const words = text!.split(' ');
    assert.equal(words.length, 40);
    for (const w of words) assert.ok(vocab.has(w), `${w} is one token`);
    assert.ok(label === 'positive' || label === 'negative');
  }
});

test("the config is the bench model's shape with batch, sequence, seed and steps, without eval or checkpoints", () => {
  const shape = { model: 'mini' as const, batch: 32, seq: 128, warmup: 3, steps: 10, seed: 42 };
  const c = loopConfig(shape, 'pytorch', undefined, '/w') as {
    engine: string;
    backend?: string;
    model: { architecture: Record<string, number> };
    data: { max_length: number };
    training: Record<string, unknown>;
  };
  assert.equal(c.engine, 'pytorch');
  assert.equal(c.backend, undefined);
  assert.deepEqual(
    [c.model.architecture.hidden_size, c.model.architecture.num_hidden_layers, c.model.architecture.vocab_size],
    [256, 4, 30522],
  );
  assert.equal(c.data.max_length, 128);
  assert.equal(c.training.max_steps, 13);
  assert.equal(c.training.per_device_train_batch_size, 32);
  assert.equal(c.training.seed, 42);
  assert.equal(c.training.logging_steps, 1);
  assert.deepEqual([c.training.eval_strategy, c.training.save_strategy], ['no', 'no']);
  assert.equal((loopConfig(shape, 'tfjs', 'wasm', '/w') as { backend?: string }).backend, 'wasm');
});

const SHARED = { models: ['tiny', 'mini'], warmup: 3, steps: 10, only: [] };

test('--engines selects the loop cases with the defaults of the issue: batch 32 x 128, wasm, the trainer threads', () => {
  const o = loopOptions(['--engines', 'tfjs,pytorch'], SHARED);
  assert.ok(typeof o !== 'string', String(o));
  assert.deepEqual(o.engines, ['tfjs', 'pytorch']);
  assert.deepEqual(o.backends, ['wasm']);
  assert.deepEqual(o.models, ['tiny', 'mini']);
  assert.deepEqual([o.batch, o.seq, o.warmup, o.steps, o.seed], [32, 128, 3, 10, 42]);
  assert.equal(o.threads, trainerThreads());
  assert.equal(o.dist, false);
  assert.equal(o.workdir, undefined);
});

test('the loop flags are read: threads, steps, backends, python, workdir, dist', () => {
  const argv = ['--engines', 'pytorch', '--threads', '3', '--steps', '4', '--warmup', '2', '--backends', 'wasm,cpu'];
  const o = loopOptions([...argv, '--python', '/opt/py', '--workdir', '/tmp/w', '--seed', '0'], SHARED);
  assert.ok(typeof o !== 'string', String(o));
  assert.deepEqual(o.engines, ['pytorch']);
  assert.deepEqual([o.threads, o.steps, o.warmup, o.seed], [3, 4, 2, 0]);
  assert.deepEqual(o.backends, ['wasm', 'cpu']);
  assert.deepEqual([o.python, o.workdir, o.dist], ['/opt/py', '/tmp/w', false]);
});

test('--dist runs the built trainer, and says to build it when it is not there', () => {
  const o = loopOptions(['--engines', 'tfjs', '--dist'], SHARED);
  if (existsSync(trainerEntry(true)[0]!)) assert.equal(typeof o !== 'string' && o.dist, true);
  else assert.match(String(o), /--dist runs dist\/trainer\.js: build it first \(npm run build\)/);
});

test('a bad flag is a usage error naming the flag and what it takes', () => {
  const bad = (argv: string[], models = SHARED.models) => String(loopOptions(argv, { ...SHARED, models }));
  assert.match(bad(['--engines', 'tfjs,jax']), /--engines takes tfjs,pytorch; got 'jax'/);
  assert.match(bad(['--engines', ',']), /--engines takes tfjs,pytorch/);
  assert.match(bad(['--engines', 'tfjs', '--batch', '0']), /--batch takes a whole number of at least 1; got '0'/);
  assert.match(bad(['--engines', 'tfjs', '--threads', 'two']), /--threads takes a whole number .*got 'two'/);
  assert.match(bad(['--engines', 'tfjs', '--backends', 'tpu']), /--backends takes wasm,cpu,webgpu; got 'tpu'/);
  assert.match(bad(['--engines', 'tfjs'], ['tiny', 'large']), /--models takes tiny,mini,base; got 'large'/);
});
