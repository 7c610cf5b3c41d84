/** Turns encoded examples into a `Batch`, padded to the longest sequence in the batch. */
import { IGNORE_INDEX, type Batch } from './batch';

export interface Encoded {
  inputIds: readonly number[];
  tokenTypeIds: readonly number[];
  /** Class id for text-classification; ignored for masked-lm (labels come from `maskTokens`). */
  label?: number;
  /** Regression ([value]) and multi-label (0/1 per label) targets instead of a class id (data/targets.ts). */
  target?: readonly number[];
}

export type Task = 'text-classification' | 'masked-lm';

export function collate(examples: readonly Encoded[], padId: number, task: Task): Batch {
  const size = examples.length;
  if (size === 0) throw new RangeError('cannot collate an empty batch');
  let seqLen = 0;
  for (const e of examples) seqLen = Math.max(seqLen, e.inputIds.length);
  const inputIds = new Int32Array(size * seqLen).fill(padId);
  const attentionMask = new Int32Array(size * seqLen);
  const tokenTypeIds = new Int32Array(size * seqLen);
  const labels = task === 'masked-lm' ? new Int32Array(size * seqLen).fill(IGNORE_INDEX) : new Int32Array(size);
  examples.forEach((e, b) => {
    const base = b * seqLen;
    inputIds.set(e.inputIds, base);
    attentionMask.fill(1, base, base + e.inputIds.length);
    tokenTypeIds.set(e.tokenTypeIds, base);
    if (task === 'text-classification' && e.target === undefined) {
      if (e.label === undefined) throw new RangeError(`example ${b} of the batch has no label`);
      labels[b] = e.label;
    }
  });
  const targets = task === 'text-classification' ? collateTargets(examples) : undefined;
  return { size, seqLen, inputIds, attentionMask, tokenTypeIds, labels, ...(targets ? { targets } : {}) };
}

/** The float targets of a regression or multi-label batch, [size, width] row-major; undefined for class ids. */
function collateTargets(examples: readonly Encoded[]): Float32Array | undefined {
  const width = examples[0]!.target?.length;
  if (width === undefined) return undefined;
  const out = new Float32Array(examples.length * width);
  examples.forEach((e, b) => {
    if (e.target?.length !== width) throw new RangeError(`example ${b} of the batch has no target of ${width}`);
    out.set(e.target, b * width);
  });
  return out;
}
