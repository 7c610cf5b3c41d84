/** Global-norm gradient clipping, as torch.nn.utils.clip_grad_norm_ (which HF's Trainer calls with max_grad_norm). */
import * as tf from '@tensorflow/tfjs-core';

/** The L2 norm of all gradients together, read asynchronously (a GPU backend has no synchronous read in Node). */
export async function globalNorm(grads: ReadonlyMap<string, tf.Tensor>): Promise<number> {
  if (grads.size === 0) return 0;
  // Pairwise adds, not one addN: WebGPU's AddN binds every input at once, and a model has more gradients than a
  // GPU kernel may bind (8 storage buffers on some adapters).
  const sq = tf.tidy(() => [...grads.values()].map((g) => tf.sum(tf.square(g))).reduce((a, b) => tf.add(a, b)));
  try {
    return Math.sqrt((await sq.data())[0] ?? 0);
  } finally {
    sq.dispose();
  }
}

/**
 * Scales every gradient by min(1, maxNorm / (norm + 1e-6)) in place (old tensors are disposed and replaced) and
 * returns the norm before clipping, which is what HF logs as grad_norm. maxNorm <= 0 turns clipping off.
 */
export async function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): Promise<number> {
  const norm = await globalNorm(grads);
  if (!(maxNorm > 0) || !Number.isFinite(norm)) return norm;
  const coef = maxNorm / (norm + 1e-6);
  if (coef >= 1) return norm;
  for (const [k, g] of grads) {
    grads.set(k, tf.mul(g, coef));
    g.dispose();
  }
  return norm;
}
