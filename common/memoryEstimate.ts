/**
 * An estimate of the memory one training step of a BERT model takes, so that the freezing panel can show what
 * freezing saves before anything runs. Everything is float32 (4 bytes), as in the tfjs backends.
 *
 *   weights      = 4 · P                        P: all parameters (frozen ones are still used by the forward pass)
 *   gradients    = 4 · T                        T: trainable parameters
 *   optimizer    = 8 · T                        AdamW keeps two moments (m, v) per trainable parameter
 *   activations  = 4 · (n_layers_backprop · per_layer + embeddings + head)
 *
 * with B the batch size, S the sequence length (max_length: a batch is padded to its longest text, so this is the
 * worst case), H hidden size, I intermediate size, a attention heads, V vocabulary size, and per layer the
 * tensors the backward pass needs:
 *
 *   attention:     layer input, Q, K, V, context, output-dropout mask, LayerNorm input      7 · B·S·H
 *                  softmax output, attention-dropout mask, dropped probabilities          3 · B·a·S²
 *   feed-forward:  input, dropout mask, LayerNorm input                                    3 · B·S·H
 *                  pre-GELU and post-GELU intermediate                                      2 · B·S·I
 *   per_layer = B·S·(10·H + 2·I) + 3·B·a·S²
 *
 * Gradients flow back only as far as the lowest module with a trainable parameter, so a layer below it keeps no
 * activations (tfjs records the tape only on the path to trainable variables): that is how freezing the bottom
 * layers saves activation memory, not only optimizer state. A layer above it keeps them even when it is itself
 * frozen, because the gradient passes through it.
 *   embeddings (when trainable): embedding sum and dropout mask                            2 · B·S·H
 *   head: classification: pooled output, pooler tanh, dropout mask, logits                 3 · B·H + B·labels
 *         masked-lm: transform dense, GELU, LayerNorm input, logits and softmax            3 · B·S·H + 2 · B·S·V
 *
 * Not counted: tfjs temporaries during a kernel, the tokenised data set, and the JS heap; expect the process to
 * use somewhat more.
 */
import type { BertHead, BertShapeConfig } from './bertParams';
import { bertParameters, countParameters, numel } from './bertParams';
import type { ModuleNode } from './protocol';

export const BYTES_PER_VALUE = 4;

export interface MemoryInput {
  hiddenSize: number;
  numLayers: number;
  intermediateSize: number;
  numHeads: number;
  vocabSize: number;
  numLabels: number;
  head: BertHead;
  batchSize: number;
  seqLength: number;
  totalParams: number;
  trainableParams: number;
  /**
   * Lowest trainable module: -1 for the embeddings, i for encoder layer i, numLayers when only the head trains,
   * and null when nothing trains at all.
   */
  lowestTrainable: number | null;
}

export interface MemoryEstimate {
  weights: number;
  gradients: number;
  optimizer: number;
  activations: number;
  total: number;
  /** Encoder layers whose activations are kept for the backward pass. */
  layersWithActivations: number;
}

export function estimateTrainingMemory(m: MemoryInput): MemoryEstimate {
  const { hiddenSize: H, intermediateSize: I, numHeads: a, vocabSize: V, batchSize: B, seqLength: S } = m;
  const weights = BYTES_PER_VALUE * m.totalParams;
  const gradients = BYTES_PER_VALUE * m.trainableParams;
  const optimizer = 2 * BYTES_PER_VALUE * m.trainableParams;
  let elements = 0;
  let layers = 0;
  if (m.lowestTrainable !== null) {
    const perLayer = B * S * (10 * H + 2 * I) + 3 * B * a * S * S;
    layers = Math.max(0, m.numLayers - Math.max(0, m.lowestTrainable));
    elements += layers * perLayer;
    if (m.lowestTrainable < 0) elements += 2 * B * S * H;
    if (m.head === 'masked-lm') elements += 3 * B * S * H + 2 * B * S * V;
    else if (m.head === 'sequence-classification') elements += 3 * B * H + B * m.numLabels;
    else elements += 2 * B * H;
  }
  const activations = BYTES_PER_VALUE * elements;
  return {
    weights,
    gradients,
    optimizer,
    activations,
    total: weights + gradients + optimizer + activations,
    layersWithActivations: layers,
  };
}

/** The lowest trainable module of a BERT module tree, as `MemoryInput.lowestTrainable` wants it. */
export function lowestTrainableModule(tree: ModuleNode, numLayers: number): number | null {
  if (tree.trainable === 0) return null;
  const find = (path: string) => findNode(tree, path);
  if ((find('bert.embeddings')?.trainable ?? 0) > 0) return -1;
  for (let i = 0; i < numLayers; i++) if ((find(`bert.encoder.layer.${i}`)?.trainable ?? 0) > 0) return i;
  return numLayers;
}

export function findNode(tree: ModuleNode, path: string): ModuleNode | undefined {
  if (tree.path === path) return tree;
  for (const c of tree.children) {
    if (path === c.path || path.startsWith(c.path + '.')) return findNode(c, path);
  }
  return undefined;
}

/** WebAssembly memory is addressed with 32 bits: 4 GiB per thread, whatever the machine has. */
export const WASM_HEAP_BYTES = 4 * 1024 ** 3;

export interface MemoryCeiling {
  bytes: number;
  /** Where the ceiling comes from, as the end of a sentence. */
  why: string;
}

/** How much one training process may use on `backend`: the WASM heap, or else the machine's free memory. */
export function memoryCeiling(backend: string, freeBytes: number): MemoryCeiling {
  if (backend === 'wasm') return { bytes: WASM_HEAP_BYTES, why: 'the WebAssembly backend addresses at most 4 GiB' };
  return { bytes: freeBytes, why: `the machine has ${formatBytes(freeBytes)} of memory free` };
}

/** What a config asks of a model's shape, and of a step: enough to estimate before anything is allocated. */
export interface TrainingShape {
  config: BertShapeConfig & { num_attention_heads: number };
  head: BertHead;
  numLabels: number;
  batchSize: number;
  seqLength: number;
  /** Whether a parameter trains (not frozen); every parameter when absent. */
  trainable?: (name: string) => boolean;
}

/** The estimate for a whole model, from its config alone (no weights, no tfjs). */
export function estimateForShape(s: TrainingShape): MemoryEstimate {
  const params = bertParameters(s.config, s.head, s.numLabels);
  const trainable = s.trainable ?? (() => true);
  const trainableParams = params.filter((p) => trainable(p.name)).reduce((n, p) => n + numel(p.shape), 0);
  const c = s.config;
  const trainableNames = params.map((p) => p.name).filter(trainable);
  const lowest = trainableParams === 0 ? null : lowestTrainable(trainableNames, c.num_hidden_layers);
  return estimateTrainingMemory({
    hiddenSize: c.hidden_size,
    numLayers: c.num_hidden_layers,
    intermediateSize: c.intermediate_size,
    numHeads: c.num_attention_heads,
    vocabSize: c.vocab_size,
    numLabels: s.numLabels,
    head: s.head,
    batchSize: s.batchSize,
    seqLength: s.seqLength,
    totalParams: countParameters(params),
    trainableParams,
    lowestTrainable: lowest,
  });
}

/** The lowest module with a trainable parameter, from parameter names (as `lowestTrainableModule` from a tree). */
function lowestTrainable(trainableNames: readonly string[], numLayers: number): number {
  let lowest = numLayers;
  for (const n of trainableNames) {
    if (n.startsWith('bert.embeddings.')) return -1;
    const m = /^bert\.encoder\.layer\.(\d+)\./.exec(n);
    if (m) lowest = Math.min(lowest, Number(m[1]));
  }
  return lowest;
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}
