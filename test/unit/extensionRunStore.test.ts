// Runs read back from their folders: run.json as the trainer writes it, metrics.jsonl (a torn last line
// included), checkpoints with best/last labels, and a "running" run whose trainer is gone shown as interrupted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseRunInfo } from '../../common/runFolder/runJson';
import { outputDirOf, readRunFolder, runFromJson, scanRunsFolders } from '../../extension/runStore';

const alive = (pids: number[]) => ({ isAlive: (pid: number) => pids.includes(pid) });

function runFolder(
  root: string,
  id: string,
  runJson: Record<string, unknown>,
  metrics: string[],
  checkpoints: number[] = [],
): string {
  const dir = path.join(root, id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'run.json'), JSON.stringify(runJson));
  writeFileSync(path.join(dir, 'metrics.jsonl'), metrics.join('\n'));
  for (const s of checkpoints) {
    mkdirSync(path.join(dir, `checkpoint-${s}`));
    writeFileSync(path.join(dir, `checkpoint-${s}`, 'trainer_state.json'), JSON.stringify({ global_step: s }));
  }
  return dir;
}

const step = (n: number, loss: number) =>
  JSON.stringify({
    type: 'step',
    step: n,
    epoch: n / 10,
    loss,
    learningRate: 1e-4,
    gradNorm: 1,
    samplesPerSecond: 10,
    tokensPerSecond: 100,
    elapsedMs: n * 10,
    etaMs: 100,
  });
const evalMsg = (n: number, acc: number, isBest: boolean) =>
  JSON.stringify({
    type: 'eval',
    step: n,
    epoch: n / 10,
    split: 'validation',
    metrics: { loss: 0.5, accuracy: acc },
    isBest,
  });

const trainerRunJson = (over: Record<string, unknown> = {}) => ({
  formatVersion: 1,
  runId: 'sst-20260101-120000',
  status: 'completed',
  mode: 'fine-tune',
  task: 'text-classification',
  configFile: '/w/sst.finetune.yaml',
  startedAt: '2026-01-01T12:00:00.000Z',
  endedAt: '2026-01-01T12:05:00.000Z',
  pid: 4242,
  backend: { name: 'wasm', reason: 'auto', tried: [] },
  step: 20,
  totalSteps: 20,
  metricForBestModel: 'accuracy',
  bestMetric: 0.875,
  checkpoints: [],
  ...over,
});

test('run.json as the trainer writes it, through the run-folder guard, becomes the run the extension shows', () => {
  const text = JSON.stringify(trainerRunJson({ error: { code: 'x', message: 'out of memory' } }));
  const r = runFromJson(parseRunInfo(text, '/w/runs/sst-1/run.json'), '/w/runs/sst-1');
  assert.equal(r.status, 'completed');
  assert.equal(r.configPath, '/w/sst.finetune.yaml');
  assert.equal(r.backend, 'wasm');
  assert.deepEqual(r.bestMetric, { name: 'accuracy', value: 0.875 });
  assert.equal(r.startedAt, Date.parse('2026-01-01T12:00:00.000Z'));
  assert.equal(r.endedAt, Date.parse('2026-01-01T12:05:00.000Z'));
  assert.equal(r.reason, 'out of memory');
  assert.equal(r.name, 'sst', 'without a name, the config file names the run');
  assert.throws(() => parseRunInfo('[1]', '/w/run.json'), /\/w\/run\.json cannot be read: expected object/);
  // Fields the trainer never wrote are not guessed at: a run.json without its status is refused, not read.
  const { status: _s, ...noStatus } = trainerRunJson({ id: 'x', run_name: 'y', finishedAt: 'z' });
  assert.throws(() => parseRunInfo(JSON.stringify(noStatus), '/w/run.json'), /status: expected one of/);
});

test('a finished run shows its final metrics, best metric and labelled checkpoints', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'ft-store-'));
  const dir = runFolder(
    root,
    'sst-1',
    trainerRunJson({ bestCheckpoint: path.join(root, 'sst-1', 'checkpoint-10') }),
    [step(5, 0.9), evalMsg(10, 0.875, true), step(20, 0.3), evalMsg(20, 0.8, false), '{"type":"step","step":2'],
    [10, 20],
  );
  const run = (await readRunFolder(dir, alive([])))!;
  assert.equal(run.status, 'completed');
  assert.equal(run.name, 'sst');
  assert.equal(run.step, 20);
  assert.equal(run.loss, 0.3);
  assert.deepEqual(run.lastEval, { loss: 0.5, accuracy: 0.8 });
  assert.deepEqual(run.bestMetric, { name: 'accuracy', value: 0.875 });
  assert.deepEqual(
    run.checkpoints.map((c) => [c.step, c.isBest, c.isLast]),
    [
      [10, true, false],
      [20, false, true],
    ],
  );
});

test('a "running" run whose pid is dead is interrupted and says where Resume continues', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'ft-store-'));
  const dir = runFolder(root, 'r', trainerRunJson({ status: 'running', pid: 999999 }), [step(3, 1)], [3]);
  const dead = (await readRunFolder(dir, alive([])))!;
  assert.equal(dead.status, 'interrupted');
  assert.match(dead.reason!, /pid 999999/);
  assert.match(dead.reason!, /step 3/);
  const live = (await readRunFolder(dir, alive([999999])))!;
  assert.equal(live.status, 'running');
  assert.equal(live.reason, undefined);
});

test('an interrupted run without checkpoints says it cannot be resumed; a broken run.json still shows the run', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'ft-store-'));
  const none = (await readRunFolder(
    runFolder(root, 'a', trainerRunJson({ status: 'running', pid: 1234567 }), []),
    alive([]),
  ))!;
  assert.equal(none.status, 'interrupted');
  assert.match(none.reason!, /cannot be resumed/);
  const b = path.join(root, 'b');
  mkdirSync(b);
  writeFileSync(path.join(b, 'run.json'), '{"status": "runn');
  const broken = (await readRunFolder(b, alive([])))!;
  assert.equal(broken.status, 'failed');
  assert.match(broken.reason!, /run.json cannot be read/);
});

test('without run.json a folder is not a run; the scan finds runs of several folders, newest first, once each', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'ft-store-'));
  mkdirSync(path.join(root, 'not-a-run'));
  mkdirSync(path.join(root, '.checkpoint-3.tmp-1'));
  assert.equal(await readRunFolder(path.join(root, 'not-a-run')), undefined);
  runFolder(root, 'old', trainerRunJson({ startedAt: '2026-01-01T00:00:00Z' }), []);
  runFolder(root, 'new', trainerRunJson({ startedAt: '2026-02-01T00:00:00Z' }), []);
  const other = mkdtempSync(path.join(tmpdir(), 'ft-store-'));
  runFolder(other, 'mid', trainerRunJson({ startedAt: '2026-01-15T00:00:00Z' }), []);
  const runs = await scanRunsFolders([root, other, root, path.join(root, 'missing')], alive([]));
  assert.deepEqual(
    runs.map((r) => r.id),
    ['new', 'mid', 'old'],
  );
});

test('the runs folder of a config is its top-level output_dir, else .finetune/runs', () => {
  assert.equal(outputDirOf('mode: fine-tune\n'), '.finetune/runs');
  assert.equal(outputDirOf('output_dir: runs # mine\nmode: x\n'), 'runs');
  assert.equal(outputDirOf('output_dir: "my runs"\n'), 'my runs');
  assert.equal(outputDirOf("output_dir: '/abs/runs'\n"), '/abs/runs');
  assert.equal(outputDirOf('training:\n  output_dir: nested\n'), '.finetune/runs', 'only the top-level key counts');
  assert.equal(outputDirOf('output_dir:\n'), '.finetune/runs');
});
