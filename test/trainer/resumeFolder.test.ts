// Resume continues in the run folder of its checkpoint (as HF's Trainer resumes into the same output_dir):
// one run folder, metrics.jsonl continued without the records past the checkpoint, run.json running again and
// then done, temp folders of dead trainers cleaned (a live one's kept). An older checkpoint starts a new folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseMetricsLines } from '../../common/runFolder/metricsLog';
import { readRunJson } from '../../common/runFolder/runJson';
import { makeWorkspace } from './engineFixtures';
import { runEngine } from './engineRunner';

const training = {
  max_steps: 6,
  save_strategy: 'steps',
  save_steps: 2,
  eval_strategy: 'steps',
  eval_steps: 2,
  logging_steps: 1,
};

function recorded(runDir: string): string[] {
  const { messages, invalid } = parseMetricsLines(readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8'));
  assert.equal(invalid, 0);
  return messages.map((m) => `${m.type}@${'step' in m ? m.step : '-'}`);
}

test('a resume from the newest checkpoint continues the same run folder', async () => {
  const ws = makeWorkspace({ training });
  const control = { stop: false, saveNow: false, cancel: false };
  const first = await runEngine(ws.configFile, { control, onStepEnd: (s) => void (control.stop = s === 3) });
  assert.equal(first.done.status, 'stopped');
  const before = (await readRunJson(first.runDir))!;
  // As if the trainer had gone on to step 4 and been killed before its next save.
  appendFileSync(path.join(first.runDir, 'metrics.jsonl'), JSON.stringify({ ...first.of('step')[2]!, step: 4 }) + '\n');
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  mkdirSync(path.join(first.runDir, `.checkpoint-4.tmp-${dead}`));
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  mkdirSync(path.join(first.runDir, `.checkpoint-4.tmp-${sleeper.pid}`));

  try {
    const resumed = await runEngine(ws.configFile, { resumeFrom: path.join(first.runDir, 'checkpoint-3') });
    assert.equal(resumed.runDir, first.runDir);
    assert.equal(resumed.done.status, 'completed');
    assert.deepEqual(readdirSync(path.dirname(first.runDir)), [path.basename(first.runDir)], 'one run folder');
    assert.deepEqual(recorded(first.runDir), [
      ...['step@1', 'step@2', 'eval@2', 'checkpoint@2', 'step@3', 'checkpoint@3'],
      ...['step@4', 'eval@4', 'checkpoint@4', 'step@5', 'step@6', 'eval@6', 'checkpoint@6', 'done@6'],
    ]);
    const after = (await readRunJson(first.runDir))!;
    assert.equal(after.status, 'completed');
    assert.equal(after.runId, before.runId);
    assert.equal(after.startedAt, before.startedAt);
    assert.equal(after.resumedFrom, path.join(first.runDir, 'checkpoint-3'));
    assert.ok(after.resumedAt);
    assert.deepEqual(
      after.checkpoints.map((c) => path.basename(c)),
      ['checkpoint-2', 'checkpoint-3', 'checkpoint-4', 'checkpoint-6'],
    );
    assert.ok(!existsSync(path.join(first.runDir, `.checkpoint-4.tmp-${dead}`)), "a dead trainer's temp folder goes");
    assert.ok(existsSync(path.join(first.runDir, `.checkpoint-4.tmp-${sleeper.pid}`)), "a live process's stays");
  } finally {
    sleeper.kill('SIGKILL');
  }
});

test('a resume from an older checkpoint starts a new run folder and leaves the first one as it was', async () => {
  const ws = makeWorkspace({ training });
  const first = await runEngine(ws.configFile);
  const metrics = readFileSync(path.join(first.runDir, 'metrics.jsonl'), 'utf8');
  const branch = await runEngine(ws.configFile, { resumeFrom: path.join(first.runDir, 'checkpoint-2') });
  assert.notEqual(branch.runDir, first.runDir);
  assert.equal(readFileSync(path.join(first.runDir, 'metrics.jsonl'), 'utf8'), metrics);
  assert.equal((await readRunJson(first.runDir))!.status, 'completed');
  assert.ok(branch.of('log').some((m) => /new run folder: checkpoint-2 is not the newest/.test(m.message)));
  assert.deepEqual(
    branch.of('step').map((m) => m.step),
    [3, 4, 5, 6],
  );
});
