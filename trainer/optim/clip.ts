/** Global-norm gradient clipping, as torch.nn.utils.clip_grad_norm_ (which HF's Trainer calls with max_grad_norm). */
import * as tf from '@tensorflow/tfjs-core';

/** The L2 norm of all gradients together. */
export function globalNorm(grads: ReadonlyMap<string, tf.Tensor>): number {
  if (grads.size === 0) return 0;
  const sq = tf.tidy(() => tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g)))));
  const v = sq.dataSync()[0] ?? 0;
  sq.dispose();
  return Math.sqrt(v);
}

/**
 * Scales every gradient by min(1, maxNorm / (norm + 1e-6)) in place (old tensors are disposed and replaced) and
 * returns the norm before clipping, which is what HF logs as grad_norm. maxNorm <= 0 turns clipping off.
 */
export function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): number {
  const norm = globalNorm(grads);
  if (!(maxNorm > 0) || !Number.isFinite(norm)) return norm;
  const coef = maxNorm / (norm + 1e-6);
  if (coef >= 1) return norm;
  for (const [k, g] of grads) {
    grads.set(k, tf.mul(g, coef));
    g.dispose();
  }
  return norm;
}
