/**
 * The checkpoint explorer's Evaluate names the run's own columns: the arguments come from the run's resolved
 * config (config.resolved.yaml), through the same readRunConfig → evaluateColumnArgs → evaluateCheckpoint path the
 * panel takes, here without VS Code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { evaluationGuard } from '../../common/webviewProtocol';
import { evaluateColumnArgs, maxLengthArgs } from '../../extension/panels/checkpointStore';
import { evaluateCheckpoint } from '../../extension/panels/trainerCommand';
import { readRunConfig } from '../../extension/runConfig';
import { makeWorkspace } from './engineFixtures';
import { runEngine } from './engineRunner';
import { multiLabelCsv } from './taskFixtures';
import { REPO } from './trainerProcess';

/** The trainer from source, forked as the panel forks dist/trainer.js; every path is absolute. */
function sourceTrainer() {
  const tsx = ['--import', pathToFileURL(require.resolve('tsx')).href];
  return { trainerPath: path.join(REPO, 'trainer', 'main.ts'), execArgv: tsx, cwd: REPO, timeoutMs: 120_000 };
}

test('evaluateColumnArgs names the text, pair and label columns a run was trained on, as --flag=value', () => {
  const config = { 'data.text_column': 'premise', 'data.text_pair_column': 'hypothesis', 'data.label_column': 'gold' };
  assert.deepEqual(evaluateColumnArgs(config), [
    '--text-column=premise',
    '--text-pair-column=hypothesis',
    '--label-column=gold',
  ]);
  // A column named like a flag stays the value of its flag.
  assert.deepEqual(evaluateColumnArgs({ 'data.text_column': '--model' }), ['--text-column=--model']);
  // Missing, empty or non-string values (a hand-edited config) leave the trainer's defaults.
  assert.deepEqual(evaluateColumnArgs({ 'data.text_column': '', 'data.label_column': 3 }), []);
  assert.deepEqual(evaluateColumnArgs({}), []);
  // Only the config's own keys count, never inherited ones.
  assert.deepEqual(
    evaluateColumnArgs(Object.create({ 'data.label_column': 'inherited' }) as Record<string, unknown>),
    [],
  );
});

test("evaluateColumnArgs gives a multi-label run's label_separator, and only to a run that may be multi-label", () => {
  const multi = { 'model.problem_type': 'multi_label_classification', 'data.label_separator': '|' };
  assert.deepEqual(evaluateColumnArgs({ ...multi, 'data.label_column': 'tags' }), [
    '--label-column=tags',
    '--label-separator=|',
  ]);
  // Undeclared: the data or the pre-trained model decided, and the checkpoint's config.json says which.
  assert.deepEqual(evaluateColumnArgs({ 'data.label_separator': ';' }), ['--label-separator=;']);
  for (const problemType of ['single_label_classification', 'regression']) {
    assert.deepEqual(evaluateColumnArgs({ 'model.problem_type': problemType, 'data.label_separator': '|' }), []);
  }
  assert.deepEqual(evaluateColumnArgs({ task: 'masked-lm', 'data.label_separator': '|' }), []);
  assert.deepEqual(evaluateColumnArgs({ ...multi, 'data.label_separator': '' }), []);
});

test('maxLengthArgs passes the run max_length to evaluate and predict, and nothing it cannot be', () => {
  assert.deepEqual(maxLengthArgs({ 'data.max_length': 128 }), ['--max-length=128']);
  for (const v of [undefined, '128', 2, 12.5, -1]) assert.deepEqual(maxLengthArgs({ 'data.max_length': v }), []);
  assert.deepEqual(maxLengthArgs(Object.create({ 'data.max_length': 64 }) as Record<string, unknown>), []);
});

/** Renames the sample's `text,label` header, as a user's own data names its columns. */
function renameColumns(file: string): void {
  const text = readFileSync(file, 'utf8');
  assert.ok(text.startsWith('text,label\n'), text.slice(0, 40));
  writeFileSync(file, 'sentence,sentiment\n' + text.slice('text,label\n'.length));
}

test('a checkpoint of a run trained on sentence/sentiment evaluates on a file with those columns', async () => {
  const ws = makeWorkspace({
    data: { text_column: 'sentence', label_column: 'sentiment' },
    training: { max_steps: 2, save_strategy: 'no' },
  });
  try {
    for (const f of ['train.csv', 'validation.csv']) renameColumns(path.join(ws.dir, f));
    const run = await runEngine(ws.configFile);
    assert.equal(run.done.status, 'completed', JSON.stringify(run.done));
    const checkpoint = path.join(run.runDir, 'checkpoint-2');
    const validation = path.join(ws.dir, 'validation.csv');
    // The config file is gone: the columns must come from the run's own resolved config.
    rmSync(ws.configFile);
    const columns = evaluateColumnArgs((await readRunConfig(run.runDir, ws.configFile))?.flat ?? {});
    assert.deepEqual(columns, ['--text-column=sentence', '--label-column=sentiment', '--label-separator=,']);

    const trainer = sourceTrainer();
    const value = await evaluateCheckpoint(trainer, checkpoint, validation, columns);
    assert.equal(evaluationGuard.check(value, 'evaluation'), undefined, JSON.stringify(value));
    assert.equal(value.examples, 32);
    // What Evaluate did before: the trainer's default columns, which this file does not have.
    await assert.rejects(evaluateCheckpoint(trainer, checkpoint, validation, []), /there is no column 'text'/);
  } finally {
    rmSync(ws.dir, { recursive: true, force: true });
  }
});

test("a multi-label run's checkpoint evaluates on its |-separated file with the run's own metrics", async () => {
  const ws = makeWorkspace({
    model: { problem_type: 'multi_label_classification' },
    data: {
      train_file: 'multi-train.csv',
      validation_file: 'multi-validation.csv',
      label_column: 'labels',
      label_separator: '|',
    },
    training: { max_steps: 4, eval_strategy: 'steps', eval_steps: 4, save_strategy: 'steps', save_steps: 4 },
  });
  try {
    writeFileSync(path.join(ws.dir, 'multi-train.csv'), multiLabelCsv(64, 41, '|'));
    const validation = path.join(ws.dir, 'multi-validation.csv');
    writeFileSync(validation, multiLabelCsv(24, 42, '|'));
    assert.match(readFileSync(validation, 'utf8'), /\|friend/, 'some rows have two labels');
    const run = await runEngine(ws.configFile);
    assert.equal(run.done.status, 'completed', JSON.stringify(run.done));
    const own = run.of('eval').at(-1);
    assert.ok(own && own.step === 4, 'the run evaluated at its checkpoint');

    const flat = (await readRunConfig(run.runDir, ws.configFile))?.flat ?? {};
    const args = [...evaluateColumnArgs(flat), ...maxLengthArgs(flat)];
    assert.ok(args.includes('--label-separator=|'), args.join(' '));
    const checkpoint = path.join(run.runDir, 'checkpoint-4');
    const value = await evaluateCheckpoint(sourceTrainer(), checkpoint, validation, args);
    assert.equal(evaluationGuard.check(value, 'evaluation'), undefined, JSON.stringify(value));
    assert.equal(value.examples, 24);
    // The same model on the same data, its labels split as training split them: the run's own evaluation.
    assert.deepEqual(Object.keys(value.metrics).sort(), Object.keys(own.metrics).sort());
    for (const [k, v] of Object.entries(own.metrics)) {
      assert.ok(Math.abs(value.metrics[k]! - v) < 1e-5, `${k}: ${value.metrics[k]} vs the run's ${v}`);
    }
    assert.deepEqual(value.perClass, own.perClass);
    // What Evaluate did before: the trainer's default separator, which reads 'positive|friend' as one label.
    const without = args.filter((a) => !a.startsWith('--label-separator='));
    await assert.rejects(evaluateCheckpoint(sourceTrainer(), checkpoint, validation, without), /not in the training/);
  } finally {
    rmSync(ws.dir, { recursive: true, force: true });
  }
});
