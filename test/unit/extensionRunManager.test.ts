// The run manager against fake trainers (small node scripts speaking the protocol): how each run ends, what the
// user is told, the queue, graceful stop with a grace period, and stopping everything on shutdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { RunManager } from '../../extension/runManager';
import type { RunManagerOptions } from '../../extension/runManager';
import type { RunInfo } from '../../extension/runModel';

const dir = mkdtempSync(path.join(tmpdir(), 'ft-manager-'));
const trainer = path.join(dir, 'fake-trainer.js');
// The scenario is the config's base name; the fake trainer behaves accordingly.
writeFileSync(
  trainer,
  `
const scenario = require('path').basename(process.argv[3]).replace('.finetune.yaml', '');
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
const hello = () => send({ type: 'hello', protocolVersion: 1, engineVersion: 'fake', pid: process.pid, backend: { name: 'cpu', reason: 'fake', tried: [] } });
const plan = () => send({ type: 'plan', runId: scenario + '-run', runDir: '.finetune/runs/' + scenario + '-run', mode: 'fine-tune', task: 'text-classification', totalSteps: 100, stepsPerEpoch: 10, epochs: 10, trainExamples: 10, evalExamples: 2 });
const step = (n) => send({ type: 'step', step: n, epoch: n / 10, loss: 1 / n, learningRate: 1e-4, gradNorm: 1, samplesPerSecond: 1, tokensPerSecond: 1, elapsedMs: n, etaMs: 100 - n });
const done = (status, n) => send({ type: 'done', status, step: n, elapsedMs: 5 });
let stdin = '';
process.stdin.on('data', (c) => { stdin += c; onHost(); });
let onHost = () => {};
hello(); plan();
if (scenario === 'ok') { step(1); step(2); send({ type: 'checkpoint', step: 2, path: 'checkpoint-2', isBest: true, deleted: [] }); done('completed', 2); process.exit(0); }
if (scenario === 'crash') { step(1); process.stderr.write('loading weights\\nRangeError: out of memory\\n'); process.exit(3); }
if (scenario === 'nodone') { step(1); process.exit(0); }
if (scenario === 'garbage') { step(1); process.stdout.write('Hi there 👋\\n'); setInterval(() => {}, 1000); }
if (scenario === 'badversion') { send({ type: 'hello', protocolVersion: 99, engineVersion: 'x', pid: 1, backend: { name: 'cpu', reason: '', tried: [] } }); setInterval(() => {}, 1000); }
if (scenario === 'slow' || scenario === 'stubborn') {
  let n = 0;
  const t = setInterval(() => step(++n), 20);
  onHost = () => {
    if (scenario === 'stubborn') return; // ignores stop: must be killed after the grace period
    if (stdin.includes('"stop"')) { clearInterval(t); send({ type: 'checkpoint', step: n, path: 'checkpoint-' + n, isBest: false, deleted: [] }); done('stopped', n); process.exit(0); }
    if (stdin.includes('"cancel"')) { clearInterval(t); done('cancelled', n); process.exit(0); }
    if (stdin.includes('"save_now"')) { stdin = ''; send({ type: 'checkpoint', step: n, path: 'checkpoint-' + n, isBest: false, deleted: [] }); }
  };
}
`,
);

function manager(over: Partial<RunManagerOptions> = {}): RunManager {
  return new RunManager({
    trainerPath: trainer,
    maxParallel: () => 1,
    stopGraceMs: () => 2000,
    cancelGraceMs: 500,
    ...over,
  });
}
const config = (scenario: string) => path.join(dir, `${scenario}.finetune.yaml`);
const ended = (m: RunManager, id: string) =>
  new Promise<RunInfo>((resolve) => m.onDidEndRun((r) => r.id === id && resolve(r)));
const until = (m: RunManager, f: (r: RunInfo) => boolean) =>
  new Promise<RunInfo>((resolve) => m.onDidChangeRun((r) => f(r) && resolve(r)));

test('a run that says done completes, with its folder, steps and checkpoints; every message is passed on', async () => {
  const m = manager();
  const seen: string[] = [];
  const r = m.start(config('ok'));
  m.onMessage(r.id, (msg) => seen.push(msg.type));
  const end = await ended(m, r.id);
  assert.equal(end.status, 'completed');
  assert.equal(end.runDir, path.join(dir, '.finetune/runs/ok-run'));
  assert.equal(end.step, 2);
  assert.deepEqual(
    end.checkpoints.map((c) => [path.basename(c.path), c.isBest, c.isLast]),
    [['checkpoint-2', true, true]],
  );
  assert.deepEqual(seen, ['hello', 'plan', 'step', 'step', 'checkpoint', 'done']);
  assert.equal(m.getRun('ok-run'), end, 'a run is found by its folder name too');
  m.dispose();
});

test('a crash fails the run with the exit code and the last stderr lines', async () => {
  const m = manager();
  const r = m.start(config('crash'));
  const end = await ended(m, r.id);
  assert.equal(end.status, 'failed');
  assert.match(end.reason!, /exited with code 3/);
  assert.match(end.reason!, /RangeError: out of memory/);
  assert.deepEqual(m.stderrTail(r.id), ['loading weights', 'RangeError: out of memory']);
  m.dispose();
});

test('an exit without done, invalid output, or another protocol version fail the run with the reason', async () => {
  const m = manager({ maxParallel: () => 3 });
  const [a, b, c] = [m.start(config('nodone')), m.start(config('garbage')), m.start(config('badversion'))];
  const [ea, eb, ec] = await Promise.all([ended(m, a.id), ended(m, b.id), ended(m, c.id)]);
  assert.equal(ea.status, 'failed');
  assert.match(ea.reason!, /without saying it was done/);
  assert.equal(eb.status, 'failed');
  assert.match(eb.reason!, /not a protocol message \(not JSON: Hi there/);
  assert.equal(ec.status, 'failed');
  assert.match(ec.reason!, /protocol 99/);
  m.dispose();
});

test('stop asks the trainer to save and exit; it ends stopped with its checkpoint', async () => {
  const m = manager();
  const r = m.start(config('slow'));
  await until(m, (x) => x.id === r.id && x.step >= 3);
  assert.ok(m.stop(r.id));
  assert.equal(m.getRun(r.id)!.status, 'stopping');
  const end = await ended(m, r.id);
  assert.equal(end.status, 'stopped');
  assert.equal(end.checkpoints.length, 1);
  assert.ok(end.checkpoints[0]!.step >= 3);
  assert.equal(m.stop(r.id), false, 'a finished run cannot be stopped again');
  m.dispose();
});

test('a trainer that ignores stop is killed after the grace period and the run says why', async () => {
  const m = manager({ stopGraceMs: () => 300 });
  const r = m.start(config('stubborn'));
  await until(m, (x) => x.id === r.id && x.step >= 1);
  const t0 = Date.now();
  m.stop(r.id);
  const end = await ended(m, r.id);
  assert.ok(Date.now() - t0 >= 280, 'not killed before the grace period');
  assert.equal(end.status, 'failed');
  assert.match(end.reason!, /did not save its checkpoint and exit within 0 s|within 0 s|within 1 s/);
  assert.match(end.reason!, /stopGracePeriodSeconds/);
  m.dispose();
});

test('runs beyond maxParallel wait in a queue; a queued run can be cancelled without ever starting', async () => {
  const m = manager({ maxParallel: () => 1 });
  const first = m.start(config('slow'));
  const second = m.start(config('ok'));
  const third = m.start(config('ok'));
  assert.equal(second.status, 'queued');
  assert.equal(third.status, 'queued');
  assert.ok(m.cancel(third.id));
  assert.equal(third.status, 'cancelled');
  assert.equal(third.pid, undefined);
  await until(m, (x) => x.id === first.id && x.step >= 2);
  assert.equal(second.status, 'queued', 'still waiting while the first runs');
  m.cancel(first.id);
  assert.equal((await ended(m, first.id)).status, 'cancelled');
  assert.equal((await ended(m, second.id)).status, 'completed');
  m.dispose();
});

test('save_now reaches the trainer; stopAll stops every run and waits for them within the bound', async () => {
  const m = manager({ maxParallel: () => 2 });
  const a = m.start(config('slow'));
  const b = m.start(config('slow'));
  await until(m, (x) => x.id === a.id && x.step >= 2);
  const saved = new Promise<void>((resolve) => m.onMessage(a.id, (msg) => msg.type === 'checkpoint' && resolve()));
  assert.ok(m.saveCheckpointNow(a.id));
  await saved;
  await until(m, (x) => x.id === b.id && x.status === 'running');
  await m.stopAll(5000);
  assert.equal(m.getRun(a.id)!.status, 'stopped');
  assert.equal(m.getRun(b.id)!.status, 'stopped');
  assert.deepEqual(m.activeRuns(), []);
  m.dispose();
});
