/**
 * One collated batch, as plain typed arrays so that data code never touches tfjs.
 * Sequences are padded to the longest one in the batch (dynamic padding), so `seqLen` varies per batch.
 */
export interface Batch {
  /** Number of examples. */
  readonly size: number;
  /** Padded sequence length of this batch. */
  readonly seqLen: number;
  /** Row-major [size, seqLen]. */
  readonly inputIds: Int32Array;
  /** Row-major [size, seqLen]; 1 for real tokens, 0 for padding. */
  readonly attentionMask: Int32Array;
  /** Row-major [size, seqLen]; 0 for the first segment, 1 for the second (sentence pairs). */
  readonly tokenTypeIds: Int32Array;
  /**
   * text-classification: [size], the class index of each example.
   * masked-lm: [size, seqLen], the original token id where the position was selected for prediction, -100 elsewhere.
   */
  readonly labels: Int32Array;
  /**
   * Float targets of a regression ([size]) or multi-label ([size, numLabels], 0/1) head, row-major; absent for
   * single-label classification and masked-lm, whose targets are `labels`.
   */
  readonly targets?: Float32Array;
}

/** Label value that the loss ignores, as in PyTorch's CrossEntropyLoss(ignore_index=-100). */
export const IGNORE_INDEX = -100;
