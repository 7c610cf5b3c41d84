import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argmaxRow, classificationMetrics, confusionMatrix, crossEntropyRow, softmaxRow } from '../../common/metrics';

test('confusion matrix, accuracy, per-class precision/recall and macro-F1 (checked by hand)', () => {
  const labels = [0, 0, 0, 1, 1, 2, 2, 2, 2];
  const preds = [0, 0, 1, 1, 2, 2, 2, 0, 2];
  assert.deepEqual(confusionMatrix(labels, preds, 3), [
    [2, 1, 0],
    [0, 1, 1],
    [1, 0, 3],
  ]);
  const m = classificationMetrics(labels, preds, ['a', 'b', 'c']);
  assert.equal(m.accuracy, 6 / 9);
  const [a, b, c] = m.perClass;
  assert.deepEqual([a!.precision, a!.recall, a!.support], [2 / 3, 2 / 3, 3]);
  assert.deepEqual([b!.precision, b!.recall, b!.support], [1 / 2, 1 / 2, 2]);
  assert.deepEqual([c!.precision, c!.recall, c!.support], [3 / 4, 3 / 4, 4]);
  // sklearn.metrics.f1_score(labels, preds, average='macro') = 0.6388888…
  assert.ok(Math.abs(m.f1 - (2 / 3 + 1 / 2 + 3 / 4) / 3) < 1e-12);
});

test('a class never seen nor predicted is left out of macro-F1; one predicted but absent counts as 0', () => {
  assert.equal(classificationMetrics([0, 1], [0, 1], ['a', 'b', 'c']).f1, 1);
  const m = classificationMetrics([0, 0], [0, 2], ['a', 'b', 'c']);
  assert.ok(Math.abs(m.f1 - (2 / 3 + 0) / 2) < 1e-12);
  assert.equal(classificationMetrics([], [], ['a', 'b']).accuracy, 0);
});

test('row helpers: argmax, softmax and cross-entropy are stable for large logits', () => {
  const v = [1000, 1001, 999, 0, 0, 0];
  assert.equal(argmaxRow(v, 0, 3), 1);
  const p = softmaxRow(v, 0, 3);
  assert.ok(Math.abs(p.reduce((s, x) => s + x, 0) - 1) < 1e-12);
  assert.ok(Math.abs(crossEntropyRow(v, 1, 3, 2) - Math.log(3)) < 1e-12);
  assert.ok(Math.abs(crossEntropyRow(v, 0, 3, 1) - -Math.log(p[1]!)) < 1e-12);
});
