/** Gradient accumulation: sums micro-batch gradients (each pre-scaled) into one map, owning the tensors. */
import * as tf from '@tensorflow/tfjs-core';

export class GradientAccumulator {
  readonly grads = new Map<string, tf.Tensor>();

  /** Adds `scale` × each gradient; the incoming tensors are disposed. */
  add(incoming: Map<string, tf.Tensor>, scale: number): void {
    for (const [k, g] of incoming) {
      const prev = this.grads.get(k);
      const next = tf.tidy(() => {
        const s = scale === 1 ? g.clone() : tf.mul(g, scale);
        return prev ? tf.add(prev, s) : s;
      });
      prev?.dispose();
      g.dispose();
      this.grads.set(k, next);
    }
  }

  clear(): void {
    for (const g of this.grads.values()) g.dispose();
    this.grads.clear();
  }
}
