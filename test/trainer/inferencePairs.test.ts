/**
 * Sentence pairs after training: `predict` on a checkpoint encodes a pair exactly as training encoded it
 * ([CLS] A [SEP] B [SEP], token_type_ids, longest_first truncation at the run's max_length) and gives the logits
 * of the training path's own batch; the trainer process takes the pair from a `predict_input` message.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { collate } from '../../trainer/data/collate';
import { loadConfig } from '../../trainer/engine/loadConfig';
import { evaluateFile, loadModelFolder, predictText } from '../../trainer/engine/inference';
import type { LoadedModel } from '../../trainer/engine/inference';
import { encodeRows, readRows } from '../../trainer/engine/setup';
import { loadTokenizer } from '../../trainer/hf/tokenizer';
import { generatePairs, pairsCsv } from '../fixtures/paraphrasePairs.mjs';
import { makeWorkspace } from './engineFixtures';
import { runEngine } from './engineRunner';
import { REPO, startTrainer } from './trainerProcess';
import { EVAL_ROWS } from '../../common/protocol';
import { evaluationGuard } from '../../common/webviewProtocol';
import { evaluateColumnArgs, maxLengthArgs } from '../../extension/panels/checkpointStore';
import { evaluateCheckpoint } from '../../extension/panels/trainerCommand';
import { readRunConfig } from '../../extension/runConfig';

/** Short enough that most pairs of the fixture are cut, so that truncation is part of what is compared. */
const MAX_LENGTH = 12;

const ws = makeWorkspace({
  data: {
    train_file: 'pairs-train.csv',
    validation_file: 'pairs-validation.csv',
    text_column: 'sentence1',
    text_pair_column: 'sentence2',
    max_length: MAX_LENGTH,
  },
  training: { max_steps: 4, save_strategy: 'steps', save_steps: 4, eval_strategy: 'steps', eval_steps: 4 },
});
writeFileSync(path.join(ws.dir, 'pairs-train.csv'), pairsCsv(generatePairs(32, 21)));
writeFileSync(path.join(ws.dir, 'pairs-validation.csv'), pairsCsv(generatePairs(8, 22)));
after(() => rmSync(ws.dir, { recursive: true, force: true }));

const trained = runEngine(ws.configFile).then((run) => {
  assert.equal(run.done.status, 'completed', JSON.stringify(run.done));
  return run;
});
const checkpoint = trained.then((run) => path.join(run.runDir, 'checkpoint-4'));

/** The validation rows as training encodes them: the same reader, tokenizer, max_length and label ids. */
async function trainingEncoding(m: LoadedModel) {
  const { config, dir } = await loadConfig(ws.configFile);
  const rows = (await readRows(config, dir)).validation;
  const tokenizer = await loadTokenizer(path.join(ws.dir, 'tokenizer'));
  return { rows, encoded: encodeRows(rows, tokenizer, config.data.max_length, m.labels, 'pairs-validation.csv') };
}

test("predict on a pair gives the training path's ids, token types and logits", async () => {
  const m = await loadModelFolder(await checkpoint, { maxLength: MAX_LENGTH });
  try {
    const { rows, encoded } = await trainingEncoding(m);
    assert.ok(
      rows.every((r) => r.textPair !== undefined && r.textPair !== ''),
      'the rows are pairs',
    );
    let cut = 0;
    for (const [i, row] of rows.entries()) {
      const batch = collate([encoded[i]!], m.tokenizer.padId, 'text-classification');
      const trained = await m.model.predict(batch);
      const p = await predictText(m, row.text, row.textPair);
      assert.deepEqual(p.inputIds, [...batch.inputIds], `row ${row.line}: input ids`);
      assert.deepEqual(p.tokenTypeIds, [...batch.tokenTypeIds], `row ${row.line}: token types`);
      assert.ok(p.tokenTypeIds.includes(1), `row ${row.line}: the second text is segment 1`);
      assert.deepEqual(p.logits, [...trained.logits], `row ${row.line}: logits`);
      if (p.inputIds.length === MAX_LENGTH) cut++;
    }
    assert.ok(cut >= rows.length / 2, `${cut} of ${rows.length} pairs were cut at max_length`);
  } finally {
    m.model.dispose();
  }
});

test('without the run max_length, a long pair is cut at the model limit instead: the option is what matches', async () => {
  const m = await loadModelFolder(await checkpoint);
  try {
    const { rows, encoded } = await trainingEncoding(m);
    const long = rows.findIndex((_, i) => encoded[i]!.inputIds.length === MAX_LENGTH);
    assert.ok(long >= 0, 'a pair longer than max_length');
    const p = await predictText(m, rows[long]!.text, rows[long]!.textPair);
    assert.ok(p.inputIds.length > MAX_LENGTH, `cut at ${p.inputIds.length}, the model's 32 positions`);
  } finally {
    m.model.dispose();
  }
});

test('the second text changes the prediction: it reaches the model', async () => {
  const m = await loadModelFolder(await checkpoint, { maxLength: MAX_LENGTH });
  try {
    const single = await predictText(m, 'the phone is great.');
    const pair = await predictText(m, 'the phone is great.', 'the phone is awful.');
    assert.ok(single.tokenTypeIds.every((t) => t === 0));
    assert.notDeepEqual(pair.logits, single.logits);
  } finally {
    m.model.dispose();
  }
});

test('the trainer process takes a pair from predict_input and cuts it at --max-length', async () => {
  const m = await loadModelFolder(await checkpoint, { maxLength: MAX_LENGTH });
  const { rows, encoded } = await trainingEncoding(m);
  m.model.dispose();
  const long = rows.findIndex((_, i) => encoded[i]!.inputIds.length === MAX_LENGTH);
  const row = rows[long]!;
  const args = ['predict', '--model', await checkpoint, '--backend', 'wasm', `--max-length=${MAX_LENGTH}`];
  const t = startTrainer(args, { cwd: ws.dir, env: { ...process.env, FINETUNE_THREADS: '1' } });
  t.child.stdin.write(JSON.stringify({ type: 'predict_input', text: row.text, textPair: row.textPair }) + '\n');
  const result = await t.waitFor((x) => x.type === 'result' || x.type === 'error');
  assert.equal(result.type, 'result', `${JSON.stringify(result)}\n${t.stderr()}`);
  const value = (result as { value: { label: string; inputIds: number[]; tokenTypeIds: number[] } }).value;
  assert.deepEqual(value.inputIds, encoded[long]!.inputIds);
  assert.deepEqual(value.tokenTypeIds, encoded[long]!.tokenTypeIds);
  assert.ok(['equivalent', 'not_equivalent'].includes(value.label), value.label);
  assert.equal(await t.exit, 0);
});

test('predict refuses --text-pair without --text and a --max-length too short for a pair', async () => {
  for (const [flags, why] of [
    [['--text-pair', 'second'], /--text-pair needs --text/],
    [['--text', 'first', '--max-length', '2'], /--max-length must be an integer of at least 3/],
  ] as const) {
    const t = startTrainer(['predict', '--model', await checkpoint, '--backend', 'wasm', ...flags], { cwd: ws.dir });
    t.child.stdin.end();
    const error = await t.waitFor((x) => x.type === 'error');
    assert.match(JSON.stringify(error), why);
    assert.notEqual(await t.exit, 0);
  }
});

test('evaluate on a pair file: the rows carry both texts, the misclassified first, within EVAL_ROWS', async () => {
  const m = await loadModelFolder(await checkpoint, { maxLength: MAX_LENGTH });
  const file = path.join(ws.dir, 'pairs-more.csv');
  const pairs = generatePairs(EVAL_ROWS.max + 10, 23);
  writeFileSync(file, pairsCsv(pairs));
  try {
    const e = await evaluateFile(m, file, { textColumn: 'sentence1', textPairColumn: 'sentence2' });
    assert.equal(e.examples, pairs.length);
    const rows = e.rows ?? [];
    assert.equal(rows.length, EVAL_ROWS.max);
    const wrong = rows.map((r) => r.predicted !== r.label);
    const misclassified = Math.round(pairs.length * (1 - e.metrics['accuracy']!));
    assert.equal(wrong.filter(Boolean).length, Math.min(misclassified, EVAL_ROWS.max));
    assert.equal(wrong.indexOf(false), wrong.includes(false) ? wrong.filter(Boolean).length : -1, 'wrong ones first');
    for (const r of rows) {
      // Line 1 is the header: the row of line n is pair n - 2.
      const source = pairs[r.line - 2]!;
      assert.deepEqual([r.text, r.textPair, r.label], [source.sentence1, source.sentence2, source.label]);
      assert.ok(r.probability >= 0.5 && r.probability <= 1, `the predicted class is the likelier: ${r.probability}`);
    }
  } finally {
    m.model.dispose();
  }
});

test("Evaluate from the checkpoint explorer passes the run's pair column and max_length to the trainer", async () => {
  const run = await trained;
  const flat = (await readRunConfig(run.runDir, ws.configFile))?.flat ?? {};
  const args = [...evaluateColumnArgs(flat), ...maxLengthArgs(flat)];
  assert.deepEqual(args, [
    '--text-column=sentence1',
    '--text-pair-column=sentence2',
    '--label-column=label',
    // No problem_type declared: the checkpoint's config.json decides, so the separator comes along.
    '--label-separator=,',
    `--max-length=${MAX_LENGTH}`,
  ]);
  const tsx = ['--import', pathToFileURL(require.resolve('tsx')).href];
  const trainer = { trainerPath: path.join(REPO, 'trainer', 'main.ts'), execArgv: tsx, cwd: ws.dir };
  const e = await evaluateCheckpoint(trainer, await checkpoint, path.join(ws.dir, 'pairs-validation.csv'), args);
  assert.equal(evaluationGuard.check(e, 'evaluation'), undefined);
  assert.equal(e.examples, 8);
  // The same accuracy as the run's own evaluation of this file at this step: the same encoding, pairs and all.
  const own = run.of('eval').at(-1);
  assert.ok(own, 'the run evaluated');
  assert.equal(e.metrics['accuracy'], own.metrics['accuracy']);
  assert.ok(
    Math.abs(e.metrics['loss']! - own.metrics['loss']!) < 1e-5,
    `${e.metrics['loss']} vs ${own.metrics['loss']}`,
  );
  const pairs = generatePairs(8, 22);
  assert.deepEqual((e.rows ?? []).map((r) => r.textPair).sort(), pairs.map((p) => p.sentence2).sort());
});
