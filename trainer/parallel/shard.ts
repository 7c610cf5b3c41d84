/**
 * Splitting a batch by examples for data parallelism (replicas.ts), and putting the predictions back together.
 * Shards keep the batch's padded length, so each example is computed exactly as in the whole batch, and their
 * predictions are concatenated in shard order: classification rows are examples, masked-LM rows are the
 * labelled positions in row-major order, and both orders survive a split by contiguous examples.
 */
import type { Batch } from '../data/batch';
import { IGNORE_INDEX } from '../data/batch';
import type { BertHead } from '../../common/modelConfig';
import type { Prediction } from '../model/bert';

/** Contiguous example ranges [start, end) of near-equal size, at most `parts`, none empty. */
export function shardRanges(size: number, parts: number): [number, number][] {
  const n = Math.max(1, Math.min(parts, size));
  const out: [number, number][] = [];
  for (let i = 0, start = 0; i < n; i++) {
    const end = start + Math.floor(size / n) + (i < size % n ? 1 : 0);
    if (end > start) out.push([start, end]);
    start = end;
  }
  return out;
}

/** Examples [start, end) of a batch, at the same padded length. */
export function sliceBatch(b: Batch, head: BertHead, start: number, end: number): Batch {
  const S = b.seqLen;
  const rows = (a: Int32Array) => a.slice(start * S, end * S);
  return {
    size: end - start,
    seqLen: S,
    inputIds: rows(b.inputIds),
    attentionMask: rows(b.attentionMask),
    tokenTypeIds: rows(b.tokenTypeIds),
    labels: head === 'masked-lm' ? rows(b.labels) : b.labels.slice(start, end),
    ...(b.targets ? { targets: sliceTargets(b.targets, b.size, start, end) } : {}),
  };
}

/** Rows [start, end) of a batch's float targets, [size, width] row-major. */
function sliceTargets(t: Float32Array, size: number, start: number, end: number): Float32Array {
  const width = t.length / size;
  return t.slice(start * width, end * width);
}

/** Rows of the prediction a batch will have: its examples, or its labelled positions (masked LM). */
export function predictionRows(b: Batch, head: BertHead): number {
  if (head !== 'masked-lm') return b.size;
  let n = 0;
  for (const l of b.labels) if (l !== IGNORE_INDEX) n++;
  return n;
}

/** Concatenates predictions with the same number of columns, in order. */
export function concatPredictions(parts: readonly Prediction[], cols: number): Prediction {
  const rows = parts.reduce((s, p) => s + p.shape[0], 0);
  const logits = new Float32Array(rows * cols);
  let at = 0;
  for (const p of parts) {
    if (p.shape[1] !== cols && p.shape[0] > 0)
      throw new Error(`internal: a shard's prediction has ${p.shape[1]} columns, expected ${cols}`);
    logits.set(p.logits, at);
    at += p.logits.length;
  }
  return { logits, shape: [rows, cols] };
}
