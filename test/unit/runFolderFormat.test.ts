// The run folder as a declared format (common/runFolder/): a folder written by the trainer before the format had
// a home still opens for every reader; run.json is guarded; one retention rule; stale temp folders of dead
// writers are cleaned and live ones kept; a resume truncates metrics.jsonl at its step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { checkpointInRun, checkpointsToDelete, listCheckpointDirs } from '../../common/runFolder/checkpoints';
import { parseMetricsLines, readMetricsLog, truncateMetricsLog } from '../../common/runFolder/metricsLog';
import { parseRunInfo, readRunJson, runFolderStatus } from '../../common/runFolder/runJson';
import { cleanStaleFiles, staleEntry } from '../../common/runFolder/staleFiles';
import { loggedAt, readTrainerStateFile } from '../../common/runFolder/trainerState';
import { readCheckpoints } from '../../extension/panels/checkpointStore';
import { readRunFolder } from '../../extension/runStore';

const FIXTURE = path.join(__dirname, 'fixtures', 'runFolderV1', 'reviews-20261206-045707');
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

function copyFixture(): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'ft-format-')), path.basename(FIXTURE));
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

test("a run folder in today's format opens for the trainer's and the extension's readers", async () => {
  const dir = copyFixture();
  const info = (await readRunJson(dir))!;
  assert.equal(info.status, 'completed');
  assert.equal(info.name, 'reviews');
  assert.equal(info.backend?.name, 'wasm');
  assert.equal(
    runFolderStatus(info, () => false),
    'completed',
  );

  const run = (await readRunFolder(dir, { isAlive: () => false }))!;
  assert.equal(run.status, 'completed');
  assert.equal(run.step, 6);
  assert.equal(run.configPath, '/tmp/ft-engine-TfIxQa/reviews.finetune.yaml');
  assert.deepEqual(run.bestMetric, { name: 'accuracy', value: 0.4375 });
  // The paths run.json records are the writer's; the best checkpoint is found in this copy all the same.
  assert.deepEqual(
    run.checkpoints.map((c) => [path.basename(c.path), c.isBest, c.isLast]),
    [
      ['checkpoint-2', true, false],
      ['checkpoint-6', false, true],
    ],
  );

  const state = await readTrainerStateFile(path.join(dir, 'checkpoint-6'));
  assert.equal(state.global_step, 6);
  assert.equal(loggedAt(state, 6).get('eval_accuracy'), 0.4375);
  const panel = await readCheckpoints(dir, { saveTotalLimit: 2 });
  assert.deepEqual(
    panel.map((c) => [c.name, c.broken, c.isBest, c.deletedNext]),
    [
      ['checkpoint-2', undefined, true, false],
      ['checkpoint-6', undefined, false, true],
    ],
  );
  assert.equal(panel[1]!.epoch, 0.75);
  const messages = await readMetricsLog(dir);
  assert.deepEqual(
    messages.map((m) => m.type),
    ['step', 'step', 'eval', 'checkpoint', 'step', 'eval', 'checkpoint', 'step', 'eval', 'checkpoint', 'done'],
  );
});

test('run.json is refused with the file and the field when it is not one, and when it is newer', () => {
  const text = readFileSync(path.join(FIXTURE, 'run.json'), 'utf8');
  const ok = JSON.parse(text) as Record<string, unknown>;
  assert.throws(() => parseRunInfo('{"status": "runn', '/r/run.json'), /\/r\/run\.json cannot be read: it is not JSON/);
  assert.throws(() => parseRunInfo(JSON.stringify({ ...ok, step: -1 }), '/r/run.json'), /step: expected a count/);
  assert.throws(() => parseRunInfo(JSON.stringify({ ...ok, status: 'queued' }), '/r/run.json'), /status: expected/);
  assert.throws(
    () => parseRunInfo(JSON.stringify({ ...ok, formatVersion: 2 }), '/r/run.json'),
    (e: Error & { code?: string; fix?: string }) => e.code === 'run-format-too-new' && /Update/.test(e.fix ?? ''),
  );
  assert.equal(
    runFolderStatus(parseRunInfo(JSON.stringify({ ...ok, status: 'running' }), 'x'), () => false),
    'interrupted',
  );
  assert.equal(
    runFolderStatus(parseRunInfo(JSON.stringify({ ...ok, status: 'running' }), 'x'), () => true),
    'running',
  );
});

test('save_total_limit: the oldest go, never a kept one; the panel predicts what the trainer deletes', () => {
  const steps = [10, 20, 30, 40].map((step) => ({ step }));
  const best = (c: { step: number }) => c.step === 10 || c.step === 40;
  assert.deepEqual(
    checkpointsToDelete(steps, 2, best).map((c) => c.step),
    [20, 30],
  );
  assert.deepEqual(
    checkpointsToDelete(steps, 1, best).map((c) => c.step),
    [20, 30],
  );
  assert.deepEqual(
    checkpointsToDelete(steps, 3, () => false).map((c) => c.step),
    [10],
  );
  assert.deepEqual(
    checkpointsToDelete(steps, undefined, () => false),
    [],
  );
  assert.deepEqual(
    checkpointsToDelete(steps, 0, () => false),
    [],
  );
});

test('leftovers of dead writers are cleaned, a live writer and anything else are left alone', async () => {
  const dir = copyFixture();
  const dead = deadPid();
  const put = (name: string) => mkdirSync(path.join(dir, name));
  put(`.checkpoint-8.tmp-${dead}`);
  put(`.checkpoint-4.deleting-${dead}`);
  put(`.checkpoint-10.tmp-${process.pid}`);
  writeFileSync(path.join(dir, `.run.json.tmp-${dead}-ab12cd`), '{');
  writeFileSync(path.join(dir, 'notes.old-2020'), 'mine');
  // A save that replaced checkpoint-6 was killed between moving the old one aside and renaming the new one in.
  cpSync(path.join(dir, 'checkpoint-6'), path.join(dir, `checkpoint-6.old-${dead}`), { recursive: true });
  cpSync(path.join(dir, 'checkpoint-2'), path.join(dir, `checkpoint-2.old-${dead}`), { recursive: true });
  cpSync(path.join(dir, 'checkpoint-6'), path.join(dir, `.checkpoint-6.tmp-${dead}`), { recursive: true });
  writeFileSync(path.join(dir, 'checkpoint-6', 'gone'), '');
  await import('node:fs/promises').then((fs) => fs.rm(path.join(dir, 'checkpoint-6'), { recursive: true }));

  const cleaned = await cleanStaleFiles(dir);
  assert.equal(cleaned.length, 6, cleaned.join(', '));
  const left = readdirSync(dir).sort();
  assert.deepEqual(
    left.filter((n) => n.startsWith('.') || /^checkpoint-\d+\.old-/.test(n)),
    [`.checkpoint-10.tmp-${process.pid}`],
  );
  assert.ok(left.includes('notes.old-2020'));
  assert.deepEqual(
    (await listCheckpointDirs(dir)).map((c) => c.step),
    [2, 6],
  );
  assert.ok(existsSync(path.join(dir, 'checkpoint-6', 'model.safetensors')), 'the aside is moved back');
  assert.equal(staleEntry('checkpoint-6'), undefined);
  assert.equal(staleEntry('my.tmp-12'), undefined, 'a visible tmp name is not ours');
});

test('a resume from step N drops what was logged after N, the earlier done and torn lines', async () => {
  const dir = copyFixture();
  const file = path.join(dir, 'metrics.jsonl');
  writeFileSync(file, readFileSync(file, 'utf8') + '{"type":"step","step":7,"epo');
  assert.equal(await truncateMetricsLog(dir, 4), 5);
  const { messages, invalid } = parseMetricsLines(readFileSync(file, 'utf8'));
  assert.equal(invalid, 0);
  assert.deepEqual(
    messages.map((m) => `${m.type}@${'step' in m ? m.step : '-'}`),
    ['step@1', 'step@2', 'eval@2', 'checkpoint@2', 'step@4', 'eval@4', 'checkpoint@4'],
  );
  assert.equal(await truncateMetricsLog(dir, 4), 0, 'nothing more to drop');
  assert.equal(await truncateMetricsLog(path.join(dir, 'missing'), 4), 0);
});

test('a recorded checkpoint path maps into a moved run folder only when it names that run', () => {
  assert.equal(checkpointInRun('/new/runs/r1', '/old/runs/r1/checkpoint-2'), '/new/runs/r1/checkpoint-2');
  assert.equal(checkpointInRun('/new/runs/r1', '/old/runs/r2/checkpoint-2'), '/old/runs/r2/checkpoint-2');
  assert.equal(checkpointInRun('/new/runs/r1', '/old/runs/r1/model'), '/old/runs/r1/model');
});
