/**
 * One BERT encoder layer (self-attention + feed-forward, post-LayerNorm, GELU or another gated activation: ops.ts's
 * GATED) as a single custom-gradient
 * op with a hand-written backward. Why one op instead of a chain of tfjs ops:
 * - Speed on WASM: only plain 2-D matmuls without transpose flags reach XNNPACK there. Batched (3-D/4-D) and
 *   transposed matmuls run a scalar loop ~10x slower. Here every matmul, forward and backward, is 2-D and
 *   untransposed: attention runs per (example, head) block (batched on a GPU instead: attention.ts), transposes
 *   are materialised once per tensor, and column sums (bias / LayerNorm gradients) are matmuls with a ones row
 *   instead of axis-0 reductions.
 * - Memory: tfjs keeps every intermediate of the forward until the forward ends and every intermediate
 *   gradient until the whole backward ends. As one op, a layer keeps only what its backward needs (saved
 *   below, released as soon as the layer's backward has used it), and its backward runs in its own tidy.
 * The math is modeling_bert.py's BertLayer; dropout masks come from the caller (deterministic per step).
 */
import * as tf from '@tensorflow/tfjs-core';
import { patchWasmKernels } from '../wasmKernels';
import { attentionKernels } from './attention';
import type { Activation } from '../../common/modelFamilies';
import { GATED } from './ops';

export interface EncoderLayerWeights {
  /** Linear weights are [in, out] (memory layout), biases [out]. */
  wq: tf.Tensor2D;
  bq: tf.Tensor1D;
  wk: tf.Tensor2D;
  bk: tf.Tensor1D;
  wv: tf.Tensor2D;
  bv: tf.Tensor1D;
  wo: tf.Tensor2D;
  bo: tf.Tensor1D;
  ln1g: tf.Tensor1D;
  ln1b: tf.Tensor1D;
  wi: tf.Tensor2D;
  bi: tf.Tensor1D;
  wo2: tf.Tensor2D;
  bo2: tf.Tensor1D;
  ln2g: tf.Tensor1D;
  ln2b: tf.Tensor1D;
}

/** The order in which the weights are passed to (and their gradients returned from) the custom op. */
export const LAYER_WEIGHT_ORDER = [
  'wq',
  'bq',
  'wk',
  'bk',
  'wv',
  'bv',
  'wo',
  'bo',
  'ln1g',
  'ln1b',
  'wi',
  'bi',
  'wo2',
  'bo2',
  'ln2g',
  'ln2b',
] as const;

export interface EncoderLayerShape {
  batch: number;
  seqLen: number;
  heads: number;
  eps: number;
  /** The feed-forward activation; default `gelu` (exact). */
  act?: Activation;
}

/** Dropout masks (0 or 1/(1-p)), or null where that dropout is off. */
export interface EncoderLayerMasks {
  /** On the attention probabilities, [batch, heads, seq, seq]. */
  attn: tf.Tensor | null;
  /** On the attention output projection, [batch·seq, hidden]. */
  attnOut: tf.Tensor | null;
  /** On the feed-forward output, [batch·seq, hidden]. */
  ffnOut: tf.Tensor | null;
}

type GradFn = (...args: never[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] };
function customGrad(fn: GradFn): (...inputs: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad(fn as unknown as Parameters<typeof tf.customGrad>[0]) as (...inputs: tf.Tensor[]) => tf.Tensor;
}

const mm = (a: tf.Tensor, b: tf.Tensor): tf.Tensor2D => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
const T = (a: tf.Tensor): tf.Tensor2D => tf.transpose(a as tf.Tensor2D);

/** LayerNorm over the last axis with the biased variance; returns what the backward needs as well. */
function lnForward(
  z: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  eps: number,
): { y: tf.Tensor; xhat: tf.Tensor; rstd: tf.Tensor } {
  return tf.tidy(() => {
    const c = tf.sub(z, tf.mean(z, -1, true));
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(c), -1, true), eps));
    const xhat = tf.mul(c, rstd);
    return { y: tf.add(tf.mul(xhat, gamma), beta), xhat, rstd };
  });
}

function lnBackward(
  dy: tf.Tensor,
  xhat: tf.Tensor,
  rstd: tf.Tensor,
  gamma: tf.Tensor,
  colsum: (t: tf.Tensor) => tf.Tensor,
) {
  const dg = colsum(tf.mul(dy, xhat));
  const db = colsum(dy);
  const dxhat = tf.mul(dy, gamma);
  const dx = tf.mul(
    rstd,
    tf.sub(tf.sub(dxhat, tf.mean(dxhat, -1, true)), tf.mul(xhat, tf.mean(tf.mul(dxhat, xhat), -1, true))),
  );
  return { dx, dg, db };
}

/**
 * BertLayer(x) for x [batch·seq, hidden]; `addMask` is the additive attention mask [batch, 1, 1, seq]
 * (0 for tokens, a large negative number for padding). Differentiable in x and every weight.
 */
export function encoderLayer(
  x: tf.Tensor2D,
  w: EncoderLayerWeights,
  addMask: tf.Tensor,
  shape: EncoderLayerShape,
  masks: EncoderLayerMasks,
  /**
   * Prediction only: no gradient will be asked for, so nothing is saved for a backward and the layer's
   * activations are freed as soon as it returns (a custom-gradient op keeps them until the whole forward ends).
   */
  noGrad = false,
): tf.Tensor2D {
  // The per-block slices below are only cheap with the replacement Slice kernel (idempotent, once per process).
  if (tf.getBackend() === 'wasm') patchWasmKernels();
  const { batch: B, seqLen: S, heads: nh, eps } = shape;
  const [N, H] = x.shape;
  if (N !== B * S) throw new Error(`encoderLayer: x has ${N} rows, batch·seq is ${B * S}`);
  const d = H / nh;
  const dims = { B, S, nh, d };
  const attn = attentionKernels();
  const scale = 1 / Math.sqrt(d);
  const maskList = [masks.attn, masks.attnOut, masks.ffnOut];
  const act = GATED[shape.act ?? 'gelu'];

  // The forward, on x and the weights in LAYER_WEIGHT_ORDER; returns what the backward needs as well.
  const forward = (inputs: tf.Tensor[]) => {
    const [xx, wq, bq, wk, bk, wv, bv, wo, bo, g1, b1, wi, bi, wo2, bo2, g2, b2] = inputs as [
      tf.Tensor2D,
      ...tf.Tensor[],
    ];
    // One [H, 3H] projection for q, k and v: one bigger matmul is more efficient than three.
    const wqkv = tf.concat([wq!, wk!, wv!], 1);
    // Each step in its own tidy: only what the backward needs outlives it, and the WASM heap's high-water mark
    // (it never shrinks) is one step's temporaries, not the layer's.
    const att = tf.tidy(() => {
      const qkv = tf.add(mm(xx, wqkv), tf.concat([bq!, bk!, bv!])) as tf.Tensor2D;
      const probs = tf.tidy(() => attn.probs(qkv, addMask, scale, dims));
      const ctx = tf.tidy(() => attn.context(masks.attn ? tf.mul(probs, masks.attn) : probs, qkv, dims));
      const ln1 = tf.tidy(() => {
        const a = tf.add(mm(ctx, wo!), bo!);
        return lnForward(tf.add(masks.attnOut ? tf.mul(a, masks.attnOut) : a, xx), g1!, b1!, eps);
      });
      return { qkv, probs, ctx, ...ln1 };
    });
    // Without a backward, the attention's activations are done with.
    if (noGrad) for (const t of [att.qkv, att.probs, att.ctx, att.xhat, att.rstd]) t.dispose();
    const ffn = tf.tidy(() => {
      const pre = tf.add(mm(att.y, wi!), bi!);
      const cdf = tf.tidy(() => act.gate(pre));
      const ln2 = tf.tidy(() => {
        const o = tf.add(mm(tf.mul(pre, cdf), wo2!), bo2!);
        return lnForward(tf.add(masks.ffnOut ? tf.mul(o, masks.ffnOut) : o, att.y), g2!, b2!, eps);
      });
      return { pre, cdf, ...ln2 };
    });
    return { xx, wqkv, wo: wo!, g1: g1!, wi: wi!, wo2: wo2!, g2: g2!, att, ffn };
  };
  const inputs = [x, ...LAYER_WEIGHT_ORDER.map((k) => w[k])];
  if (noGrad) return tf.tidy(() => forward(inputs).ffn.y) as tf.Tensor2D;

  const f = customGrad((...args: never[]) => {
    const save = args[17] as unknown as tf.GradSaveFunc;
    const { xx, wqkv, wo, g1, wi, wo2, g2, att, ffn } = forward(args.slice(0, 17) as unknown as tf.Tensor[]);
    save([
      xx,
      wqkv,
      wo,
      g1,
      wi,
      wo2,
      g2,
      att.qkv,
      att.probs,
      att.ctx,
      att.xhat,
      att.rstd,
      att.y,
      ffn.pre,
      ffn.cdf,
      ffn.xhat,
      ffn.rstd,
      ...maskList.filter((m): m is tf.Tensor => m !== null),
    ]);
    return {
      value: ffn.y,
      // tfjs calls a custom gradient outside any tidy and keeps what it returns until the whole backward ends:
      // the tidy frees this layer's temporaries now, and the saved activations are released once used.
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const grads = layerBackward(dy, saved);
          for (const t of saved) t.dispose();
          return grads;
        }),
    };
  });
  return f(...inputs) as tf.Tensor2D;

  function layerBackward(dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] {
    const [
      sx,
      swqkv,
      swo,
      sg1,
      swi,
      swo2,
      sg2,
      sqkv,
      sprobs,
      sctx,
      xhat1,
      rstd1,
      h1,
      spre,
      scdf,
      xhat2,
      rstd2,
      ...rest
    ] = saved as tf.Tensor2D[];
    let r = 0;
    const mA = masks.attn ? rest[r++]! : null;
    const mB = masks.attnOut ? rest[r++]! : null;
    const mC = masks.ffnOut ? rest[r++]! : null;
    const ones = tf.ones([1, N]);
    // Column sums as a [1, N] · [N, K] matmul: an axis-0 tf.sum transposes the whole input first on WASM.
    const colsum = (t: tf.Tensor) => tf.reshape(mm(ones, t), [t.shape[1]!]);

    // Each block runs in its own tidy, so that only one block's temporaries are alive at a time.
    const ffn = tf.tidy(() => {
      const l2 = lnBackward(dy, xhat2!, rstd2!, sg2!, colsum);
      const dO = mC ? tf.mul(l2.dx, mC) : l2.dx;
      const dWo2 = mm(T(tf.mul(spre!, scdf!)), dO);
      const dbo2 = colsum(dO);
      const dPre = tf.mul(mm(dO, T(swo2!)), act.slope(spre!, scdf!));
      const dH1 = tf.add(l2.dx, mm(dPre, T(swi!)));
      return { dWo2, dbo2, dWi: mm(T(h1!), dPre), dbi: colsum(dPre), dH1, dg2: l2.dg, db2: l2.db };
    });
    const att = tf.tidy(() => {
      const l1 = lnBackward(ffn.dH1, xhat1!, rstd1!, sg1!, colsum);
      const dA = mB ? tf.mul(l1.dx, mB) : l1.dx;
      return { dWo: mm(T(sctx!), dA), dbo: colsum(dA), dCtx: mm(dA, T(swo!)), dRes: l1.dx, dg1: l1.dg, db1: l1.db };
    });
    const dqkv = tf.tidy(() => attn.backward(att.dCtx, sqkv!, sprobs!, mA, scale, dims));
    const [dWq, dWk, dWv] = tf.split(mm(T(sx!), dqkv), 3, 1);
    const [dbq, dbk, dbv] = tf.split(colsum(dqkv), 3);
    const dx = tf.add(att.dRes, mm(dqkv, T(swqkv!)));
    return [
      dx,
      dWq!,
      dbq!,
      dWk!,
      dbk!,
      dWv!,
      dbv!,
      att.dWo,
      att.dbo,
      att.dg1,
      att.db1,
      ffn.dWi,
      ffn.dbi,
      ffn.dWo2,
      ffn.dbo2,
      ffn.dg2,
      ffn.db2,
    ];
  }
}
