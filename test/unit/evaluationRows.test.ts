// The rows of a checkpoint's evaluation (issue 17): the protocol bounds them, and the panel's table heads each
// text with the run's own column, both texts of a pair side by side, the misclassified marked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVAL_ROWS, checkResult } from '../../common/protocol';
import type { EvaluationRow } from '../../common/protocol';
import { rowsTable } from '../../webview/evaluationView';

const row = (over: Partial<EvaluationRow> = {}): EvaluationRow => ({
  line: 2,
  text: 'the cat sat',
  textPair: 'a cat was sitting',
  label: 'equivalent',
  predicted: 'not_equivalent',
  probability: 0.75,
  ...over,
});
const result = (rows: unknown) => ({ metrics: { accuracy: 0.5 }, examples: 2, rows });

test('the evaluate result carries rows with both texts; too many rows or too long a text are refused', () => {
  const ok = checkResult(
    'evaluate',
    result([row(), row({ textPair: undefined })].map((r) => JSON.parse(JSON.stringify(r)))),
  );
  assert.equal(ok.ok, true, ok.ok ? '' : ok.error);
  assert.equal(checkResult('evaluate', result(undefined)).ok, true, 'rows are optional (masked-lm has none)');
  const many = checkResult('evaluate', result(Array.from({ length: EVAL_ROWS.max + 1 }, () => row())));
  assert.equal(many.ok, false);
  if (!many.ok) assert.match(many.error, /rows: 21 elements, over the limit of 20/);
  const long = checkResult('evaluate', result([row({ textPair: 'x'.repeat(EVAL_ROWS.textChars + 1) })]));
  assert.equal(long.ok, false);
  if (!long.ok) assert.match(long.error, /rows\[0\]\.textPair/);
  const noLine = checkResult('evaluate', result([{ ...row(), line: -1 }]));
  assert.equal(noLine.ok, false);
});

test("a pair run's rows: the texts under the run's column names, side by side", () => {
  const t = rowsTable([row(), row({ line: 3, predicted: 'equivalent', probability: 0.9 })], {
    text: 'sentence1',
    textPair: 'sentence2',
  });
  assert.deepEqual(t.heads, ['line', 'sentence1', 'sentence2', 'label', 'predicted', 'probability']);
  assert.deepEqual(t.cells[0], ['2', 'the cat sat', 'a cat was sitting', 'equivalent', 'not_equivalent', '0.75']);
  assert.deepEqual(t.wrong, [true, false]);
  assert.equal(t.caption, 'Rows: the 1 misclassified first, then correct ones');
});

test('single texts: no second text column; all correct says so', () => {
  const t = rowsTable([row({ textPair: undefined, predicted: 'equivalent' })], { text: 'review' });
  assert.deepEqual(t.heads, ['line', 'review', 'label', 'predicted', 'probability']);
  assert.equal(t.cells[0]!.length, 5);
  assert.equal(t.caption, 'Rows: every one shown was classified correctly');
  // Without the run's columns (a config that can no longer be read), generic heads.
  assert.deepEqual(rowsTable([row()], undefined).heads.slice(1, 3), ['text', 'second text']);
});
