// The checkpoint explorer's one-shot commands (extension/panels/trainerCommand.ts) against the real trainer,
// forked directly: the typed text reaches the model over stdin even when it looks like a flag, and evaluate
// reads the columns it is given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { evaluateCheckpoint, predictCheckpoint } from '../../extension/panels/trainerCommand';
import type { TrainerProcess } from '../../extension/panels/trainerCommand';
import { generateReviews } from '../../examples/sample/generate.mjs';
import { makeWorkspace } from './engineFixtures';
import { runEngine } from './engineRunner';
import { REPO, startTrainer } from './trainerProcess';

/** The trainer from source, forked as the extension forks dist/trainer.js. */
const TRAINER = {
  trainerPath: path.join(REPO, 'trainer', 'main.ts'),
  execArgv: ['--import', pathToFileURL(require.resolve('tsx')).href],
};

async function trainedCheckpoint(): Promise<{ dir: string; checkpoint: string }> {
  const ws = makeWorkspace({ training: { max_steps: 2, save_strategy: 'steps', save_steps: 2 } }, { trainRows: 16 });
  const run = await runEngine(ws.configFile);
  const checkpoint = run.of('checkpoint').at(-1)?.path;
  assert.ok(checkpoint, 'the run saved a checkpoint');
  return { dir: ws.dir, checkpoint: path.resolve(run.runDir, checkpoint) };
}

const ready = trainedCheckpoint();

test('predict: a text that starts with -- is predicted as typed, not read as a flag', async () => {
  const { dir, checkpoint } = await ready;
  const p: TrainerProcess = { ...TRAINER, cwd: dir, env: { FINETUNE_THREADS: '1' } };
  const r = await predictCheckpoint(p, checkpoint, {
    text: '--text great lamp, works well',
    textPair: 'a second text',
  });
  assert.ok(['positive', 'negative'].includes(r.label), JSON.stringify(r));
  const total = Object.values(r.probabilities).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(total - 1) < 1e-4, `probabilities sum to ${total}`);
});

test('the trainer takes the texts of predict from a predict_input message when --text is absent', async () => {
  const { dir, checkpoint } = await ready;
  const t = startTrainer(['predict', '--model', checkpoint, '--backend', 'wasm'], { cwd: dir });
  t.child.stdin.write(JSON.stringify({ type: 'predict_input', text: '--help' }) + '\n');
  const result = await t.waitFor((m) => m.type === 'result' || m.type === 'error');
  assert.equal(result.type, 'result', t.stderr());
  assert.equal(await t.exit, 0);
});

test("evaluate: the run's own columns are passed on", async () => {
  const { dir, checkpoint } = await ready;
  const rows = generateReviews(12, 5);
  const csv = 'review,sentiment\n' + rows.map((r) => `"${r.text.replace(/"/g, '""')}",${r.label}`).join('\n') + '\n';
  writeFileSync(path.join(dir, 'renamed.csv'), csv);
  const p: TrainerProcess = { ...TRAINER, cwd: dir, env: { FINETUNE_THREADS: '1' } };
  const columns = ['--text-column=review', '--label-column=sentiment'];
  const e = await evaluateCheckpoint(p, checkpoint, path.join(dir, 'renamed.csv'), columns);
  assert.equal(e.examples, 12);
  assert.equal(typeof e.metrics['accuracy'], 'number');
  await assert.rejects(evaluateCheckpoint(p, checkpoint, path.join(dir, 'renamed.csv'), []), /text/i);
});
