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
import { REPO } from './trainerProcess';

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
    assert.deepEqual(columns, ['--text-column=sentence', '--label-column=sentiment']);

    // The trainer from source, forked as the panel forks dist/trainer.js; every path is absolute.
    const tsx = ['--import', pathToFileURL(require.resolve('tsx')).href];
    const trainerPath = path.join(REPO, 'trainer', 'main.ts');
    const trainer = { trainerPath, execArgv: tsx, cwd: REPO, timeoutMs: 120_000 };
    const value = await evaluateCheckpoint(trainer, checkpoint, validation, columns);
    assert.equal(evaluationGuard.check(value, 'evaluation'), undefined, JSON.stringify(value));
    assert.equal(value.examples, 32);
    // What Evaluate did before: the trainer's default columns, which this file does not have.
    await assert.rejects(evaluateCheckpoint(trainer, checkpoint, validation, []), /there is no column 'text'/);
  } finally {
    rmSync(ws.dir, { recursive: true, force: true });
  }
});
