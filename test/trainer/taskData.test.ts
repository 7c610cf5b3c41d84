/**
 * Labels per problem type: label lists in JSONL, separator-joined labels in CSV, numbers for regression, and the
 * errors that name the file, the line and the key to change when the data does not fit the declared type.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { validateConfigText } from '../../common/config/validate';
import { FineTuneError } from '../../common/errors';
import { readDataset } from '../../files/data/readDataset';
import { collate } from '../../trainer/data/collate';
import { checkLabelCount } from '../../trainer/data/labels';
import { encodeTargets, taskLabelMap } from '../../trainer/data/targets';
import { runProblemType } from '../../trainer/engine/problemTypeCheck';
import { multiLabelCsv, stsbLike } from './taskFixtures';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-task-data-'));
const file = (name: string, text: string) => {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
};

test('multi-label: JSONL lists and separator-joined CSV cells give the same multi-hot targets', async () => {
  const jsonl = file(
    'm.jsonl',
    '{"text": "a", "labels": ["x", "y"]}\n{"text": "b", "labels": []}\n{"text": "c", "labels": ["z"]}\n',
  );
  const csv = file('m.csv', 'text,labels\na,"x| y"\nb,\nc,z\n');
  const fromJson = await readDataset(jsonl, { textColumn: 'text', labelColumn: 'labels' });
  assert.deepEqual(fromJson.rows[1]!.labelList, []);
  const map = taskLabelMap(fromJson.rows, 'multi_label_classification', '|');
  assert.deepEqual(map.labels, ['x', 'y', 'z']);
  assert.deepEqual(encodeTargets(fromJson.rows, map, jsonl, '|'), [
    { target: [1, 1, 0] },
    { target: [0, 0, 0] },
    { target: [0, 0, 1] },
  ]);
  // A CSV row without labels is a missing label (write [] in JSONL for "none"); with labels, the same targets.
  await assert.rejects(readDataset(csv, { textColumn: 'text', labelColumn: 'labels' }), /line 3 has no value/);
  const csv2 = file('m2.csv', 'text,labels\na,"x| y"\nc,z\n');
  const rows = (await readDataset(csv2, { textColumn: 'text', labelColumn: 'labels' })).rows;
  assert.deepEqual(encodeTargets(rows, map, csv2, '|'), [{ target: [1, 1, 0] }, { target: [0, 0, 1] }]);
  // The default separator is a comma; the fixture's CSV uses it.
  const fixture = file('f.csv', multiLabelCsv(12, 3, ','));
  const fx = (await readDataset(fixture, { textColumn: 'text', labelColumn: 'labels' })).rows;
  const fxMap = taskLabelMap(fx, 'multi_label_classification', ',');
  assert.ok(fxMap.labels.includes('positive') && fxMap.labels.includes('negative'), fxMap.labels.join());
  // data.max_labels counts the labels of the lists, not the distinct lists.
  checkLabelCount(fx, { maxLabels: 4, file: fixture, column: 'labels', problemType: 'multi_label_classification' });
});

test('multi-label batches carry [size, labels] float targets; regression [size]', () => {
  const b = collate(
    [
      { inputIds: [2, 5, 3], tokenTypeIds: [0, 0, 0], target: [1, 0, 1] },
      { inputIds: [2, 3], tokenTypeIds: [0, 0], target: [0, 1, 0] },
    ],
    0,
    'text-classification',
  );
  assert.deepEqual([...b.targets!], [1, 0, 1, 0, 1, 0]);
  const r = collate([{ inputIds: [2, 3], tokenTypeIds: [0, 0], target: [3.8] }], 0, 'text-classification');
  assert.deepEqual(
    [...r.targets!].map((x) => Math.round(x * 10) / 10),
    [3.8],
  );
});

test('regression: numbers from CSV; a label that is not a number names its line and the fix', async () => {
  const good = file('s.csv', stsbLike(6, 1));
  const rows = (await readDataset(good, { textColumn: 'sentence1', textPairColumn: 'sentence2', labelColumn: 'score' }))
    .rows;
  const map = taskLabelMap(rows, 'regression', ',');
  assert.deepEqual(map.labels, ['LABEL_0']);
  const targets = encodeTargets(rows, map, good, ',');
  assert.ok(targets.every((t) => 'target' in t && t.target.length === 1 && t.target[0]! >= 0 && t.target[0]! <= 5));
  // No row count or label limit applies to a regression's values.
  checkLabelCount(rows, { maxLabels: 2, file: good, column: 'score', problemType: 'regression' });

  const bad = file('bad.csv', 'text,score\na,1.5\nb,high\n');
  const badRows = (await readDataset(bad, { textColumn: 'text', labelColumn: 'score' })).rows;
  assert.throws(
    () => encodeTargets(badRows, map, bad, ','),
    (e: unknown) =>
      e instanceof FineTuneError &&
      e.code === 'data-label-not-a-number' &&
      e.file === bad &&
      e.line === 3 &&
      /'high'.*regression/.test(e.message) &&
      /single_label_classification/.test(e.fix ?? ''),
  );
});

test('a list label under single_label_classification names its line and suggests multi-label', async () => {
  const f = file('l.jsonl', '{"text": "a", "label": "x"}\n{"text": "b", "label": ["x", "y"]}\n');
  const rows = (await readDataset(f, { textColumn: 'text', labelColumn: 'label' })).rows;
  const map = taskLabelMap(rows, 'single_label_classification', ',');
  assert.throws(
    () => encodeTargets(rows, map, f, ','),
    (e: unknown) =>
      e instanceof FineTuneError &&
      e.code === 'data-label-is-a-list' &&
      e.line === 2 &&
      /multi_label_classification/.test(e.fix ?? ''),
  );
  // A list item that is not a label (an object, an empty string) is refused where it is read.
  const g = file('g.jsonl', '{"text": "a", "label": ["x", {"y": 1}]}\n');
  await assert.rejects(readDataset(g, { textColumn: 'text', labelColumn: 'label' }), /line 1: item 2 of the list/);
});

test('the run settles the problem type from the data, then checks metric_for_best_model against it', async () => {
  const text = (extra: string) =>
    `mode: from-scratch\nmodel:\n  tokenizer: tok\ndata:\n  train_file: t.jsonl\n  validation_split: 0.2\ntraining:\n${extra}`;
  const f = file('inferred.jsonl', '{"text": "a", "label": ["x"]}\n{"text": "b", "label": "y"}\n');
  const rows = (await readDataset(f, { textColumn: 'text', labelColumn: 'label' })).rows;
  const ok = validateConfigText(text('  metric_for_best_model: eval_f1_micro\n')).config;
  assert.deepEqual(runProblemType(ok, rows, undefined, f), {
    problemType: 'multi_label_classification',
    separator: ',',
    threshold: 0.5,
  });
  // The validator let `pearson` pass (no problem_type was written); the list labels make this multi-label.
  const wrong = validateConfigText(text('  metric_for_best_model: pearson\n')).config;
  assert.throws(
    () => runProblemType(wrong, rows, undefined, f),
    (e: unknown) =>
      e instanceof FineTuneError &&
      e.code === 'metric-not-reported' &&
      e.message.includes('multi_label_classification') &&
      e.message.includes(f) &&
      /f1_micro/.test(e.fix ?? ''),
  );
  // A pre-trained regression model makes an undeclared run a regression.
  const reg = runProblemType(wrong, rows.slice(1), { problem_type: 'regression' }, f);
  assert.equal(reg.problemType, 'regression');
});

test('a label list nested thousands deep is a clear data error, not a stack overflow', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-deep-'));
  const file = path.join(dir, 'deep.jsonl');
  const deep = '['.repeat(20_000) + ']'.repeat(20_000);
  writeFileSync(file, `{"text": "a", "label": ["ok"]}\n{"text": "b", "label": [${deep}]}\n`);
  await assert.rejects(readDataset(file, { textColumn: 'text', labelColumn: 'label' }), (e: unknown) => {
    assert.ok(e instanceof FineTuneError, String(e));
    assert.equal(e.code, 'data-bad-value');
    assert.match(e.message, /line 2: item 1 of the list in 'label' is a list, not a label/);
    return true;
  });
});
