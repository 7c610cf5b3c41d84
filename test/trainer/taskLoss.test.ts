/**
 * The head's loss per problem type (trainer/model/taskLoss.ts) against PyTorch's definitions written out in
 * float64: BCEWithLogitsLoss (mean over every example and label, stable for large logits), MSELoss, and their
 * gradients; a regression model trains through it, and data-parallel shards keep each example's targets.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { bceWithLogitsValue, sigmoid } from '../../common/metrics/multiLabel';
import { taskLoss } from '../../trainer/model/taskLoss';
import { BertModel } from '../../trainer/model/bert';
import { sliceBatch } from '../../trainer/parallel/shard';
import { classBatch, TINY, useBackend } from './modelFixtures';

before(() => useBackend('cpu'));

const LOGITS = [0.3, -2, 30, -30, 1.5, 0];
const TARGETS = [1, 0, 0, 1, 1, 0];

const withTargets = (targets: number[]) => ({ ...classBatch(), targets: Float32Array.from(targets) });

test('multi-label: BCE-with-logits is the mean over examples and labels, finite for large logits', async () => {
  const batch = withTargets(TARGETS);
  const x = tf.tensor2d(LOGITS, [2, 3]);
  const loss = taskLoss(x, batch, 'multi_label_classification');
  // −[y·log σ(x) + (1 − y)·log(1 − σ(x))] per cell, written as y·log(1 + e^−x) + (1 − y)·log(1 + e^x), which
  // float64 holds exactly at |x| ≤ 30 (1 − σ(30) would lose three digits to cancellation).
  const plain = (v: number, y: number) => y * Math.log1p(Math.exp(-v)) + (1 - y) * Math.log1p(Math.exp(v));
  const expected = LOGITS.reduce((s, v, i) => s + plain(v, TARGETS[i]!), 0) / LOGITS.length;
  assert.ok(
    Math.abs((await loss.data())[0]! - expected) < 1e-5 * (1 + expected) * 10,
    `${(await loss.data())[0]} vs ${expected}`,
  );
  LOGITS.forEach((v, i) => assert.ok(Math.abs(bceWithLogitsValue(v, TARGETS[i]!) - plain(v, TARGETS[i]!)) < 1e-9));
  // d/dx = (σ(x) − y) / cells.
  const g = await tf
    .grad((t: tf.Tensor) => taskLoss(t as tf.Tensor2D, batch, 'multi_label_classification'))(x)
    .data();
  LOGITS.forEach((v, i) => assert.ok(Math.abs(g[i]! - (sigmoid(v) - TARGETS[i]!) / 6) < 1e-6, `grad ${i}`));
  // Where the plain formula overflows float32, the stable one gives |x| for a confidently wrong label.
  const far = tf.tensor2d([-100, 100, 0, 0, 0, 0], [2, 3]);
  const farLoss = (await taskLoss(far, batch, 'multi_label_classification').data())[0]!;
  assert.ok(Math.abs(farLoss - (100 + 100 + 4 * Math.log(2)) / 6) < 1e-3, `${farLoss}`);
  tf.dispose([x, loss, far]);
});

test('regression: MSE of the one output, and its gradient 2(x − y)/n', async () => {
  const batch = withTargets([3.5, -1]);
  const x = tf.tensor2d([1, 2], [2, 1]);
  const loss = taskLoss(x, batch, 'regression');
  assert.ok(Math.abs((await loss.data())[0]! - (2.5 ** 2 + 3 ** 2) / 2) < 1e-5);
  const g = await tf
    .grad((t: tf.Tensor) => taskLoss(t as tf.Tensor2D, batch, 'regression'))(x)
    .data();
  assert.deepEqual([...g], [-2.5, 3]);
  // Targets of the wrong size are an internal error, never a silent broadcast.
  assert.throws(() => taskLoss(x, withTargets([1, 2, 3]), 'regression'), /needs 2 float targets/);
  tf.dispose([x, loss]);
});

test('a regression BERT (problem_type in its config) trains on float targets; shards keep them', async () => {
  const model = BertModel.create({ ...TINY, problem_type: 'regression' }, 'sequence-classification', {
    numLabels: 1,
    seed: 3,
  });
  try {
    const batch = withTargets([2.5, -1.5]);
    const { loss, grads } = await model.lossAndGrads(batch, { training: true, seed: 1 });
    const { logits } = await model.predict(batch);
    const mse = ((logits[0]! - 2.5) ** 2 + (logits[1]! + 1.5) ** 2) / 2;
    // Training mode applies dropout, so the loss is close to, not equal to, the eval-mode MSE.
    assert.ok(Number.isFinite(loss) && loss > 0 && Math.abs(loss - mse) < mse, `${loss} vs ${mse}`);
    assert.ok(grads.has('classifier.weight'));
    tf.dispose([...grads.values()]);
  } finally {
    model.dispose();
  }
  const multi = withTargets([1, 0, 1, 0, 1, 0]);
  const shard = sliceBatch(multi, 'sequence-classification', 1, 2);
  assert.deepEqual([...shard.targets!], [0, 1, 0]);
});
