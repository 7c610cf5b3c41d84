/**
 * The loss of a sequence-classification head, per problem type, as Hugging Face's
 * BertForSequenceClassification.forward computes it: cross-entropy over class ids (single-label), BCE-with-logits
 * averaged over every example and label (multi-label), mean squared error of the one output (regression). Kept
 * apart from the model, so that every architecture's head shares it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ProblemType } from '../../common/problemType';
import type { Batch } from '../data/batch';
import { crossEntropy } from './ops';

/** The mean loss of `logits` [batch, numLabels] against the batch's labels or targets. Call inside tf.tidy. */
export function taskLoss(logits: tf.Tensor2D, batch: Batch, problemType: ProblemType): tf.Scalar {
  const [rows, cols] = logits.shape;
  if (problemType === 'single_label_classification') return crossEntropy(logits, classIds(batch, cols));
  const t = batch.targets;
  if (!t || t.length !== rows * cols) {
    throw new Error(`${problemType} needs ${rows * cols} float targets, got ${t?.length ?? 'none'}`);
  }
  const y = tf.tensor2d(t, [rows, cols]);
  if (problemType === 'regression') return tf.mean(tf.square(tf.sub(logits, y)));
  return bceWithLogits(logits, y);
}

/** mean(max(x, 0) − x·y + log(1 + e^−|x|)): PyTorch's numerically stable BCEWithLogitsLoss. */
export function bceWithLogits(x: tf.Tensor, y: tf.Tensor): tf.Scalar {
  const softplus = tf.log1p(tf.exp(tf.neg(tf.abs(x))));
  return tf.mean(tf.add(tf.sub(tf.relu(x), tf.mul(x, y)), softplus));
}

function classIds(batch: Batch, numLabels: number): Int32Array {
  if (batch.labels.length !== batch.size) throw new Error(`classification labels must have ${batch.size} entries`);
  for (const l of batch.labels) if (l < 0 || l >= numLabels) throw new Error(`label ${l} outside [0, ${numLabels})`);
  return batch.labels;
}
