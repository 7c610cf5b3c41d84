/**
 * The attention core of an encoder layer, forward and backward, in two kernel sets with the same semantics:
 * - `blocks`: one plain 2-D matmul per (example, head) block. Only untransposed 2-D matmuls reach XNNPACK on
 *   WASM; batched or transposed ones run a scalar loop there, about 10x slower.
 * - `batched`: one batched matmul over all (example, head) pairs. On a GPU every kernel launch costs the same
 *   whatever its size, so B·heads small launches per matmul (384 at batch 32 with 12 heads) would dominate.
 * Layout: qkv is [B·S, 3·H] (query, key, value columns, heads contiguous within each), probabilities are
 * [B, heads, S, S], the context is [B·S, H]. The parity test (test/trainer/attention.test.ts) holds both equal.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface AttentionDims {
  B: number;
  S: number;
  nh: number;
  d: number;
}

export interface AttentionKernels {
  /** softmax(q·kᵀ·scale + addMask) as [B, nh, S, S]. */
  probs(qkv: tf.Tensor2D, addMask: tf.Tensor, scale: number, x: AttentionDims): tf.Tensor;
  /** probs (dropout applied) · v, back in [B·S, H]. */
  context(probs: tf.Tensor, qkv: tf.Tensor2D, x: AttentionDims): tf.Tensor2D;
  /**
   * Gradient of the qkv projection [B·S, 3H] from the context's gradient; `probs` without dropout, `mask` the
   * attention-dropout mask or null.
   */
  backward(
    dCtx: tf.Tensor2D,
    qkv: tf.Tensor2D,
    probs: tf.Tensor,
    mask: tf.Tensor | null,
    scale: number,
    x: AttentionDims,
  ): tf.Tensor2D;
}

const mm = (a: tf.Tensor, b: tf.Tensor): tf.Tensor2D => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
const T = (a: tf.Tensor): tf.Tensor2D => tf.transpose(a as tf.Tensor2D);

/**
 * [G·S, d] viewed as G blocks of [S, d] → G blocks of their transposes [d, S]: one Transpose kernel for the
 * whole tensor, then contiguous row slices (one copy each, with the Slice kernel of wasmKernels.ts).
 */
function transposedBlocks(t: tf.Tensor, g: number, s: number, d: number): tf.Tensor2D[] {
  return tf.split(tf.reshape(tf.transpose(tf.reshape(t, [g, s, d]), [0, 2, 1]), [g * d, s]), g, 0) as tf.Tensor2D[];
}

function blocks(t: tf.Tensor, g: number): tf.Tensor2D[] {
  return tf.split(t as tf.Tensor2D, g, 0) as tf.Tensor2D[];
}

/**
 * The (example, head) blocks of a [B·S, parts·nh·d] projection, in order block = b·nh + h, for part `part`:
 * rows b·S.., columns (part·nh + h)·d... Strided 2-D slices; no 4-D or 5-D transposes (slow on WASM).
 */
function headBlocks(t: tf.Tensor2D, part: number, x: AttentionDims): tf.Tensor2D[] {
  const { B, S, nh, d } = x;
  const out: tf.Tensor2D[] = [];
  for (let b = 0; b < B; b++) for (let h = 0; h < nh; h++) out.push(tf.slice(t, [b * S, (part * nh + h) * d], [S, d]));
  return out;
}

/** Transposed head blocks [d, S] from the transposed projection tT [parts·nh·d, B·S]. */
function headBlocksT(tT: tf.Tensor2D, part: number, x: AttentionDims): tf.Tensor2D[] {
  const { B, S, nh, d } = x;
  const out: tf.Tensor2D[] = [];
  for (let b = 0; b < B; b++) for (let h = 0; h < nh; h++) out.push(tf.slice(tT, [(part * nh + h) * d, b * S], [d, S]));
  return out;
}

/** Inverse of headBlocks: lists of G = B·nh blocks [S, d] (one list per part) → [B·S, parts·nh·d]. */
function fromHeadBlocks(parts: tf.Tensor2D[][], B: number, nh: number): tf.Tensor2D {
  const rows: tf.Tensor2D[] = [];
  for (let b = 0; b < B; b++)
    rows.push(
      tf.concat(
        parts.flatMap((p) => p.slice(b * nh, (b + 1) * nh)),
        1,
      ),
    );
  return tf.concat(rows, 0);
}

/** Softmax backward on [G·S, S] rows, with the scores' scale folded in. */
function softmaxBackward(dP: tf.Tensor, p: tf.Tensor, scale: number): tf.Tensor {
  return tf.mul(tf.mul(p, tf.sub(dP, tf.sum(tf.mul(dP, p), -1, true))), scale);
}

export const blockAttention: AttentionKernels = {
  probs(qkv, addMask, scale, x) {
    const { B, S, nh } = x;
    const H = nh * x.d;
    const N = B * S;
    const qb = headBlocks(qkv, 0, x);
    // Only the key columns need transposing: [N, H] → [H, N], then [d, S] blocks.
    const kTb = headBlocksT(T(tf.slice(qkv, [0, H], [N, H])), 0, x);
    const scores = tf.concat(
      qb.map((q, i) => mm(q, kTb[i]!)),
      0,
    );
    return tf.softmax(tf.add(tf.mul(tf.reshape(scores, [B, nh, S, S]), scale), addMask), -1);
  },
  context(probs, qkv, x) {
    const G = x.B * x.nh;
    const vb = headBlocks(qkv, 2, x);
    const pb = blocks(tf.reshape(probs, [G * x.S, x.S]), G);
    return fromHeadBlocks([pb.map((p, i) => mm(p, vb[i]!))], x.B, x.nh);
  },
  backward(dCtx, qkv, probs, mask, scale, x) {
    const { B, S, nh, d } = x;
    const G = B * nh;
    const H = nh * d;
    const N = B * S;
    const dcb = headBlocks(dCtx, 0, x);
    const vTb = headBlocksT(T(tf.slice(qkv, [0, 2 * H], [N, H])), 0, x);
    const pTb = transposedBlocks(mask ? tf.mul(probs, mask) : probs, G, S, S);
    const dVb = dcb.map((dc, i) => mm(pTb[i]!, dc));
    const dPD = tf.concat(
      dcb.map((dc, i) => mm(dc, vTb[i]!)),
      0,
    );
    const dP = mask ? tf.mul(dPD, tf.reshape(mask, [G * S, S])) : dPD;
    const dS = softmaxBackward(dP, tf.reshape(probs, [G * S, S]), scale);
    const kb = headBlocks(qkv, 1, x);
    const qb = headBlocks(qkv, 0, x);
    const dQb = blocks(dS, G).map((ds, i) => mm(ds, kb[i]!));
    const dKb = transposedBlocks(dS, G, S, S).map((dst, i) => mm(dst, qb[i]!));
    return fromHeadBlocks([dQb, dKb, dVb], B, nh);
  },
};

/** Part `part` (0 query, 1 key, 2 value) of qkv [B·S, 3H] as [B·nh, S, d]. */
function toHeads(qkv: tf.Tensor2D, part: number, x: AttentionDims): tf.Tensor3D {
  const { B, S, nh, d } = x;
  const cols = qkv.shape[1] === nh * d ? qkv : tf.slice(qkv, [0, part * nh * d], [B * S, nh * d]);
  return tf.reshape(tf.transpose(tf.reshape(cols, [B, S, nh, d]), [0, 2, 1, 3]), [B * nh, S, d]);
}

/** [B·nh, S, d] → [B·S, H]. */
function fromHeads(t: tf.Tensor, x: AttentionDims): tf.Tensor2D {
  const { B, S, nh, d } = x;
  return tf.reshape(tf.transpose(tf.reshape(t, [B, nh, S, d]), [0, 2, 1, 3]), [B * S, nh * d]);
}

export const batchedAttention: AttentionKernels = {
  probs(qkv, addMask, scale, x) {
    const { B, S, nh } = x;
    const scores = tf.matMul(toHeads(qkv, 0, x), toHeads(qkv, 1, x), false, true);
    return tf.softmax(tf.add(tf.mul(tf.reshape(scores, [B, nh, S, S]), scale), addMask), -1);
  },
  context(probs, qkv, x) {
    const p = tf.reshape(probs, [x.B * x.nh, x.S, x.S]) as tf.Tensor3D;
    return fromHeads(tf.matMul(p, toHeads(qkv, 2, x)), x);
  },
  backward(dCtx, qkv, probs, mask, scale, x) {
    const G = x.B * x.nh;
    const dC = toHeads(dCtx, 0, x);
    const p = tf.reshape(probs, [G, x.S, x.S]) as tf.Tensor3D;
    const m = mask ? (tf.reshape(mask, [G, x.S, x.S]) as tf.Tensor3D) : null;
    const q = toHeads(qkv, 0, x);
    const k = toHeads(qkv, 1, x);
    const dV = tf.matMul(m ? tf.mul(p, m) : p, dC, true, false);
    const dPD = tf.matMul(dC, toHeads(qkv, 2, x), false, true);
    const dS = softmaxBackward(m ? tf.mul(dPD, m) : dPD, p, scale) as tf.Tensor3D;
    const dQ = tf.matMul(dS, k);
    const dK = tf.matMul(dS, q, true, false);
    return tf.concat([fromHeads(dQ, x), fromHeads(dK, x), fromHeads(dV, x)], 1);
  },
};

let forced: AttentionKernels | null = null;

/** Tests and benchmarks: use one kernel set whatever the backend (null: choose by backend again). */
export function forceAttentionKernels(k: AttentionKernels | null): void {
  forced = k;
}

/** Per backend: per-block 2-D matmuls for the CPU backends (WASM's fast path), batched on a GPU. */
export function attentionKernels(backend = tf.getBackend()): AttentionKernels {
  if (forced) return forced;
  return backend === 'webgpu' || backend === 'webgl' || backend === 'tensorflow' ? batchedAttention : blockAttention;
}
