/**
 * The few ops BERT needs, written so that the WASM backend stays on its fast paths. Measured on this
 * repository's WASM backend (single thread, SIMD): only 2-D matmuls without transpose flags reach XNNPACK;
 * tfjs's built-in MatMul gradient uses transpose flags and GatherV2's gradient needs UnsortedSegmentSum,
 * which WASM does not have. Each op here has a custom gradient that avoids both.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../../common/modelFamilies';

/** tf.customGrad's typing takes a rest parameter of Tensor | GradSaveFunc; this wraps a positional signature. */
type GradFn = (...args: never[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] };
function customGrad(fn: GradFn): (...inputs: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad(fn as unknown as Parameters<typeof tf.customGrad>[0]) as (...inputs: tf.Tensor[]) => tf.Tensor;
}

/**
 * When set, linear and gelu use tfjs's own ops and gradients. Only for benchmarks and tests that compare
 * against the reference path. gatherRows has no switch: tfjs's gather gradient does not run on WASM at all.
 */
let referenceOps = false;
export function useReferenceOps(on: boolean): void {
  referenceOps = on;
}

/**
 * y = x·W + b with x [N, in], W [in, out] (memory layout), b [out].
 * The backward materialises the transposes with tf.transpose (cheap) and then runs plain 2-D matmuls, instead
 * of tfjs's default matMul(dy, W, false, true), which on WASM is about 10x slower.
 */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  if (referenceOps) return tf.add(tf.matMul(x, w), b);
  const f = customGrad((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xx, ww]);
    const value = tf.add(tf.matMul(xx as tf.Tensor2D, ww as tf.Tensor2D), bb);
    return {
      value,
      // tfjs runs a custom gradient outside any tidy and keeps everything it creates until the whole backward
      // ends; the tidy frees the transposes now.
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
          const dy2 = dy as tf.Tensor2D;
          const dx = tf.matMul(dy2, tf.transpose(sw));
          const dw = tf.matMul(tf.transpose(sx), dy2);
          const db = tf.sum(dy2, 0);
          return [dx, dw, db];
        }),
    };
  });
  return f(x, w, b) as tf.Tensor2D;
}

/**
 * Rows of a 2-D tensor: table [M, H], indices (plain ints) → [n, H]. Used for the embedding lookups and for
 * picking the [CLS] rows / masked positions. The gradient scatters dy back with scatterND, which sums rows
 * whose index repeats (a token that occurs twice gets both contributions), exactly as UnsortedSegmentSum.
 */
export function gatherRows(table: tf.Tensor2D, indices: Int32Array): tf.Tensor2D {
  const n = indices.length;
  const [m, h] = table.shape;
  const f = customGrad((t: tf.Tensor) => {
    const idx = tf.tensor1d(indices, 'int32');
    const value = tf.gather(t, idx, 0);
    return {
      value,
      gradFunc: (dy: tf.Tensor) =>
        tf.tidy(() => [tf.scatterND(tf.reshape(tf.tensor1d(indices, 'int32'), [n, 1]), dy, [m, h])]),
    };
  });
  return f(table) as tf.Tensor2D;
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * Exact (erf) GELU as HF's "gelu": 0.5·x·(1 + erf(x/√2)). The custom gradient Φ(x) + x·φ(x) reuses the
 * forward's erf and keeps one tape entry instead of five.
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (referenceOps) return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, SQRT1_2))));
  const f = customGrad((xx: tf.Tensor, save: tf.GradSaveFunc) => {
    const cdf = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(xx, SQRT1_2))));
    save([xx, cdf]);
    return {
      value: tf.mul(xx, cdf),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [sx, scdf] = saved as [tf.Tensor, tf.Tensor];
          const pdf = tf.mul(INV_SQRT_2PI, tf.exp(tf.mul(-0.5, tf.square(sx))));
          return [tf.mul(dy, tf.add(scdf, tf.mul(sx, pdf)))];
        }),
    };
  });
  return f(x);
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * The gate g of an activation written as x·g(x) (GELU's Φ(x), its tanh approximation's ½(1 + tanh(u)), ReLU's
 * step), and the derivative of x·g(x) from x and g, so that the fused encoder layer (encoderLayer.ts) keeps only
 * x and g for its backward, whatever the activation.
 */
export interface GatedActivation {
  gate(x: tf.Tensor): tf.Tensor;
  slope(x: tf.Tensor, gate: tf.Tensor): tf.Tensor;
}

export const GATED: Readonly<Record<Activation, GatedActivation>> = {
  gelu: {
    gate: (x) => tf.mul(tf.add(tf.erf(tf.mul(x, SQRT1_2)), 1), 0.5),
    slope: (x, g) => tf.add(g, tf.mul(x, tf.mul(tf.exp(tf.mul(tf.square(x), -0.5)), INV_SQRT_2PI))),
  },
  // transformers' NewGELUActivation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
  gelu_new: {
    gate: (x) => tf.mul(tf.add(tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), SQRT_2_OVER_PI)), 1), 0.5),
    slope: (x, g) => {
      const t = tf.sub(tf.mul(g, 2), 1);
      const du = tf.mul(tf.add(tf.mul(tf.square(x), 3 * 0.044715), 1), SQRT_2_OVER_PI);
      return tf.add(g, tf.mul(tf.mul(x, tf.mul(tf.sub(1, tf.square(t)), 0.5)), du));
    },
  },
  relu: {
    gate: (x) => tf.cast(tf.greater(x, 0), 'float32'),
    slope: (_x, g) => g,
  },
};

/** An activation by its config name; `gelu` keeps its one-entry custom gradient, the others are plain ops. */
export function activation(name: Activation, x: tf.Tensor): tf.Tensor {
  if (name === 'gelu') return gelu(x);
  if (name === 'relu') return tf.relu(x);
  return tf.mul(x, GATED.gelu_new.gate(x));
}

/** LayerNorm over the last axis of x [N, H] with the biased variance, as torch.nn.LayerNorm. */
export function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  const mean = tf.mean(x, -1, true);
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centered), -1, true);
  const normed = tf.mul(centered, tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normed, gamma), beta) as tf.Tensor2D;
}

/**
 * A deterministic stream of dropout masks. tfjs's seeded random ops go through seedrandom's Alea in JS and
 * cost ~45 ns per value; a mulberry32 stream fills the masks ~10x faster and is fully ours to reproduce:
 * the caller passes one seed per step, and each dropout site takes the next sub-seed in call order.
 * Every mask of the model is example-major (its first dimension, or the first B·S rows, follow the batch's
 * examples), and each example draws from its own stream, keyed by its index in the whole batch. So a forward over
 * examples [offset, offset + examples) of a batch draws exactly the masks that the whole batch's forward gives
 * those examples: data-parallel training (trainer/parallel) drops the same units as one thread does.
 */
export class DropoutRng {
  private counter = 0;
  constructor(
    private readonly seed: number,
    /** Examples in this forward's batch. */
    private readonly examples = 1,
    /** Index of its first example in the whole batch. */
    private readonly offset = 0,
  ) {}

  /** A mask with 0 where dropped and 1/(1-p) where kept. */
  mask(shape: number[], p: number): tf.Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    if (n % this.examples !== 0)
      throw new Error(`internal: a dropout mask of ${n} values does not split into ${this.examples} examples`);
    const per = n / this.examples;
    const data = new Float32Array(n);
    const site = mixSeed(this.seed, this.counter++);
    const keep = 1 / (1 - p);
    for (let e = 0; e < this.examples; e++) {
      let s = mixSeed(site, this.offset + e);
      for (let i = e * per, end = i + per; i < end; i++) {
        s = (s + 0x6d2b79f5) | 0;
        let t = Math.imul(s ^ (s >>> 15), 1 | s);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
        data[i] = u < p ? 0 : keep;
      }
    }
    return tf.tensor(data, shape, 'float32');
  }
}

/** Mixes two 32-bit integers (murmur3 finaliser), so neighbouring steps get unrelated streams. */
export function mixSeed(a: number, b: number): number {
  let h = (Math.imul(a | 0, 0x9e3779b1) ^ (b | 0)) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/** Dropout that is the identity outside training or at p = 0 (no mask, no tape entry). */
export function dropout(x: tf.Tensor, p: number, rng: DropoutRng | null): tf.Tensor {
  if (rng === null || p <= 0) return x;
  return tf.mul(x, rng.mask(x.shape, p));
}

/** Mean cross-entropy of logits [n, C] against integer labels (n > 0). */
export function crossEntropy(logits: tf.Tensor2D, labels: Int32Array): tf.Scalar {
  const [n, c] = logits.shape;
  const logp = tf.logSoftmax(logits);
  const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), c);
  return tf.div(tf.neg(tf.sum(tf.mul(logp, onehot))), n) as tf.Scalar;
}
