/**
 * Issue 13, defect 4 (label count): a label_column that names a free-text column gives thousands of classes. The
 * trainer refuses more than `data.max_labels` before building anything; the language server says so from a sample.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { checkConfigFiles } from '../../common/config/fileChecks';
import { validateConfigText } from '../../common/config/validate';
import { FineTuneError } from '../../common/errors';
import { checkLabelCount } from '../../trainer/data/labels';
import { readRows } from '../../trainer/engine/setup';
import { memoryHost } from '../unit/configHelpers';

const dir = mkdtempSync(path.join(tmpdir(), 'label-count-'));
const reviews = (n: number) =>
  Array.from({ length: n }, (_, i) => `"review ${i} text",${i % 2 ? 'pos' : 'neg'},"summary ${i}"`);
writeFileSync(path.join(dir, 'train.csv'), `text,label,summary\n${reviews(2_900).join('\n')}\n`);

function config(extra: string) {
  const r = validateConfigText(`mode: from-scratch
model:
  tokenizer: tok
  architecture: {hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64}
data:
  train_file: train.csv
${extra}`);
  assert.deepEqual(
    r.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  return r;
}

test('the trainer refuses 2,900 free-text labels up front, naming the column, count and limit', async () => {
  await assert.rejects(readRows(config('  label_column: summary\n').config, dir), (e: unknown) => {
    assert.ok(e instanceof FineTuneError, String(e));
    assert.equal(e.code, 'data-too-many-labels');
    assert.equal(e.file, path.join(dir, 'train.csv'));
    assert.match(
      e.message,
      /the label column 'summary' has 2900 distinct values in 2900 rows, more than data\.max_labels \(1000\)/,
    );
    assert.match(e.message, /looks like free text: 100% of the rows/);
    assert.match(e.fix ?? '', /raise data\.max_labels to at least 2900/);
    return true;
  });
  // The real label column reads; raising the documented key lets a task with that many classes through.
  assert.equal((await readRows(config('').config, dir)).train.length, 2_900);
  const raised = await readRows(config('  label_column: summary\n  max_labels: 3000\n').config, dir);
  assert.equal(new Set(raised.train.map((r) => r.label)).size, 2_900);
  // masked-lm has no labels to count.
  const mlm = config('  label_column: summary\ntask: masked-lm\n').config;
  assert.equal((await readRows(mlm, dir)).train.length, 2_900);
});

test('checkLabelCount passes at the limit and refuses one more', () => {
  const rows = (k: number) => Array.from({ length: 2 * k }, (_, i) => ({ text: 't', label: `c${i % k}`, line: i + 2 }));
  const limit = { maxLabels: 10, file: 'f.csv', column: 'label' };
  checkLabelCount(rows(10), limit);
  assert.throws(
    () => checkLabelCount(rows(11), limit),
    (e: unknown) => {
      assert.ok(e instanceof FineTuneError && e.code === 'data-too-many-labels');
      assert.doesNotMatch(e.message, /free text/, 'two rows per class is not free text');
      return true;
    },
  );
});

test('server: too many labels in a complete file is an error; many labels in few rows a warning', async () => {
  const files = {
    '/ws/many.csv': `text,label,topic\n${Array.from({ length: 40 }, (_, i) => `t${i},l${i},${i % 4}`).join('\n')}\n`,
    '/ws/tiny.csv': 'text,label\na,x\nb,y\nc,z\n',
  };
  const check = async (text: string) => {
    const r = validateConfigText(text);
    return checkConfigFiles(r.config, r.document, memoryHost({ files, models: {} }));
  };
  const head =
    'mode: from-scratch\nmodel:\n  tokenizer: tok\n' +
    '  architecture: {hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64}\n';
  const capped = await check(`${head}data:\n  train_file: many.csv\n  max_labels: 30\n`);
  const d = capped.find((x) => x.code === 'label-column-free-text');
  assert.ok(d, JSON.stringify(capped));
  assert.equal(d.severity, 'error');
  assert.match(d.message, /40 distinct values in its 40 rows of many\.csv; the trainer refuses more than 30 classes/);
  assert.match(d.message, /Did you mean `topic`\?/);
  assert.equal(d.fixes, undefined, 'label_column is not written, so there is no value to replace');
  const under = await check(`${head}data:\n  train_file: many.csv\n`);
  assert.equal(under.find((x) => x.code === 'label-column-free-text')?.severity, 'warning');
  // Three rows are too few to call anything free text.
  assert.deepEqual(await check(`${head}data:\n  train_file: tiny.csv\n`), []);
});
