/**
 * The fused encoder layer (trainer/model/encoderLayer.ts) against the same layer written in plain tfjs ops with
 * tfjs's own gradients: values and every gradient, with padding and dropout masks, on each backend (wasm with
 * the kernel replacements of trainer/wasmKernels.ts, as the trainer runs it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { encoderLayer, LAYER_WEIGHT_ORDER } from '../../trainer/model/encoderLayer';
import type { EncoderLayerMasks, EncoderLayerShape, EncoderLayerWeights } from '../../trainer/model/encoderLayer';
import { patchWasmKernels } from '../../trainer/wasmKernels';
import { batchedAttention, blockAttention, forceAttentionKernels } from '../../trainer/model/attention';
import { mulberry32 } from '../../common/random';
import { useBackend } from './modelFixtures';

/** modeling_bert.py's BertLayer, op by op (batched attention matmuls, exact erf GELU). */
function referenceLayer(
  x: tf.Tensor2D,
  w: EncoderLayerWeights,
  addMask: tf.Tensor,
  s: EncoderLayerShape,
  m: EncoderLayerMasks,
): tf.Tensor2D {
  const { batch: B, seqLen: S, heads: nh, eps } = s;
  const [N, H] = x.shape;
  const d = H / nh;
  const lin = (t: tf.Tensor, wt: tf.Tensor, b: tf.Tensor) => tf.add(tf.matMul(t as tf.Tensor2D, wt as tf.Tensor2D), b);
  const ln = (t: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const c = tf.sub(t, tf.mean(t, -1, true));
    return tf.add(tf.mul(tf.div(c, tf.sqrt(tf.add(tf.mean(tf.square(c), -1, true), eps))), g), b);
  };
  const heads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [B, S, nh, d]), [0, 2, 1, 3]);
  const q = heads(lin(x, w.wq, w.bq));
  const k = heads(lin(x, w.wk, w.bk));
  const v = heads(lin(x, w.wv, w.bv));
  let p = tf.softmax(tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(d)), addMask), -1);
  if (m.attn) p = tf.mul(p, m.attn);
  const ctx = tf.reshape(tf.transpose(tf.matMul(p, v), [0, 2, 1, 3]), [N, H]);
  let a = lin(ctx, w.wo, w.bo);
  if (m.attnOut) a = tf.mul(a, m.attnOut);
  const h1 = ln(tf.add(a, x), w.ln1g, w.ln1b);
  const pre = lin(h1, w.wi, w.bi);
  const g = tf.mul(tf.mul(pre, 0.5), tf.add(1, tf.erf(tf.div(pre, Math.SQRT2))));
  let o = lin(g, w.wo2, w.bo2);
  if (m.ffnOut) o = tf.mul(o, m.ffnOut);
  return ln(tf.add(o, h1), w.ln2g, w.ln2b) as tf.Tensor2D;
}

const B = 3;
const S = 5;
const H = 8;
const NH = 2;
const I = 12;
const SHAPE: EncoderLayerShape = { batch: B, seqLen: S, heads: NH, eps: 1e-12 };

function fixtures(seed: number) {
  const rng = mulberry32(seed);
  const rnd = (shape: number[], sc = 0.5) =>
    tf.tensor(
      Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (rng() * 2 - 1) * sc),
      shape,
    );
  const dims: Record<string, number[]> = {
    wq: [H, H],
    wk: [H, H],
    wv: [H, H],
    wo: [H, H],
    wi: [H, I],
    wo2: [I, H],
    bi: [I],
  };
  const w = Object.fromEntries(
    LAYER_WEIGHT_ORDER.map((k) => [k, k.endsWith('g') ? tf.add(1, rnd([H], 0.2)) : rnd(dims[k] ?? [H])]),
  ) as unknown as EncoderLayerWeights;
  // Example 0 has one padding position, example 1 two, example 2 none.
  const add = new Float32Array(B * S);
  add[S - 1] = add[2 * S - 2] = add[2 * S - 1] = -3.4028234663852886e38;
  const drop = (shape: number[]) =>
    tf.tensor(
      Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (rng() < 0.2 ? 0 : 1.25)),
      shape,
    );
  return {
    w,
    x: rnd([B * S, H], 1) as tf.Tensor2D,
    dy: rnd([B * S, H], 1),
    addMask: tf.tensor4d(add, [B, 1, 1, S]),
    masks: { attn: drop([B, NH, S, S]), attnOut: drop([B * S, H]), ffnOut: drop([B * S, H]) } as EncoderLayerMasks,
  };
}

type Layer = typeof encoderLayer;

function gradsOf(
  layer: Layer,
  f: ReturnType<typeof fixtures>,
  masks: EncoderLayerMasks,
): { y: Float32Array; grads: Float32Array[] } {
  const args = [f.x, ...LAYER_WEIGHT_ORDER.map((k) => f.w[k])];
  const loss = (...t: tf.Tensor[]) => {
    const w = Object.fromEntries(LAYER_WEIGHT_ORDER.map((k, i) => [k, t[i + 1]])) as unknown as EncoderLayerWeights;
    return tf.sum(tf.mul(layer(t[0] as tf.Tensor2D, w, f.addMask, SHAPE, masks), f.dy));
  };
  return tf.tidy(() => ({
    y: layer(f.x, f.w, f.addMask, SHAPE, masks).dataSync() as Float32Array,
    grads: tf
      .grads(loss)(args)
      .map((g) => g.dataSync() as Float32Array),
  }));
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, what);
  const scale = Math.max(1, ...Array.from(expected, Math.abs));
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= 2e-5 * scale, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

for (const backend of ['cpu', 'wasm'] as const) {
  for (const withDropout of [true, false]) {
    test(`[${backend}] encoderLayer matches tfjs ops in value and all 17 gradients (${withDropout ? 'with' : 'no'} dropout, padding)`, async () => {
      await useBackend(backend);
      if (backend === 'wasm') patchWasmKernels();
      const f = fixtures(withDropout ? 3 : 4);
      const masks = withDropout ? f.masks : { attn: null, attnOut: null, ffnOut: null };
      const ours = gradsOf(encoderLayer, f, masks);
      const ref = gradsOf(referenceLayer, f, masks);
      assertClose(ours.y, ref.y, 'y');
      ['x', ...LAYER_WEIGHT_ORDER].forEach((n, i) => assertClose(ours.grads[i]!, ref.grads[i]!, `d${n}`));
    });
  }

  // The GPU's kernel set (one batched matmul over all heads) against the same reference, and against the
  // per-block kernels of the CPU backends: the same semantics whichever the backend picks.
  test(`[${backend}] batched attention kernels match the reference and the per-block kernels`, async () => {
    await useBackend(backend);
    if (backend === 'wasm') patchWasmKernels();
    const f = fixtures(6);
    try {
      forceAttentionKernels(batchedAttention);
      const batched = gradsOf(encoderLayer, f, f.masks);
      forceAttentionKernels(blockAttention);
      const perBlock = gradsOf(encoderLayer, f, f.masks);
      forceAttentionKernels(null);
      const ref = gradsOf(referenceLayer, f, f.masks);
      assertClose(batched.y, ref.y, 'y');
      assertClose(batched.y, perBlock.y, 'y vs blocks');
      ['x', ...LAYER_WEIGHT_ORDER].forEach((n, i) => {
        assertClose(batched.grads[i]!, ref.grads[i]!, `d${n}`);
        assertClose(batched.grads[i]!, perBlock.grads[i]!, `d${n} vs blocks`);
      });
    } finally {
      forceAttentionKernels(null);
    }
  });

  test(`[${backend}] encoderLayer leaves no tensors behind (forward and backward)`, async () => {
    await useBackend(backend);
    if (backend === 'wasm') patchWasmKernels();
    const f = fixtures(5);
    const before = tf.memory().numTensors;
    gradsOf(encoderLayer, f, f.masks);
    tf.tidy(() => {
      encoderLayer(f.x, f.w, f.addMask, SHAPE, f.masks);
    });
    assert.equal(tf.memory().numTensors, before);
  });
}
