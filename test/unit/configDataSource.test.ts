/**
 * Issue 17, item 3: the data comes from files (`train_file`) or a Hub data set (`dataset_name`), HF `datasets`
 * naming; both at once, or neither, is a clear diagnostic on the key to change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfigText } from '../../common/config/validate';

const HEAD = `mode: fine-tune
model:
  name_or_path: bert-base-uncased
data:
`;

const codes = (text: string) =>
  validateConfigText(HEAD + text).diagnostics.map((d) => [d.severity, d.code, d.path.join('.')]);

test('dataset_name alone is a complete data section, with the split names defaulted as run_classification.py does', () => {
  const r = validateConfigText(`${HEAD}  dataset_name: nyu-mll/glue\n  dataset_config_name: mrpc\n`);
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.config.data.dataset_name, 'nyu-mll/glue');
  assert.deepEqual(
    [r.config.data.train_split_name, r.config.data.validation_split_name, r.config.data.test_split_name],
    ['train', 'validation', 'test'],
  );
});

test('train_file and dataset_name together: an error on each file key, naming both ways out', () => {
  const r = validateConfigText(`${HEAD}  dataset_name: nyu-mll/glue\n  train_file: train.csv\n  test_file: test.csv\n`);
  const conflicts = r.diagnostics.filter((d) => d.code === 'data-source-conflict');
  assert.deepEqual(
    conflicts.map((d) => [d.severity, d.path.join('.')]),
    [
      ['error', 'data.train_file'],
      ['error', 'data.test_file'],
    ],
  );
  assert.match(conflicts[0]!.message, /remove `train_file`.*remove `dataset_name`/);
});

test('neither train_file nor dataset_name: train_file is still required', () => {
  assert.deepEqual(codes('  text_column: text\n'), [['error', 'missing-required', 'data']]);
});

test('Hub data set keys without dataset_name are said to be ignored; a malformed name is refused', () => {
  assert.deepEqual(codes('  train_file: train.csv\n  dataset_config_name: mrpc\n'), [
    ['warning', 'dataset-key-unused', 'data.dataset_config_name'],
  ]);
  assert.deepEqual(codes('  dataset_name: ../glue\n'), [['error', 'dataset-name-invalid', 'data.dataset_name']]);
});
