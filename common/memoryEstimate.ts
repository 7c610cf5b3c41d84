/**
 * The one estimate of the memory a training run takes, before anything is allocated: the freezing panel shows
 * it, the trainer compares it with the backend's ceiling before the first step (memoryCheck.ts), and the
 * language server gives the same verdict on the config. Everything is float32 (4 bytes), as in the tfjs backends.
 *
 * With P all parameters (frozen ones still run the forward), T the trainable ones, B the batch (this thread's
 * shard of it), S max_length (a batch is padded to its longest text: the worst case), H hidden, I intermediate,
 * a heads, V vocabulary, in values of 4 bytes:
 *
 *   weights       P
 *   gradients     T, + T for the shards' combined gradients with worker threads, + T for the accumulated
 *                 gradients with gradient_accumulation_steps > 1
 *   optimizer     2·T                                     AdamW's two moments per trainable parameter
 *   activations   per encoder layer, what its backward keeps (trainer/model/encoderLayer.ts saves exactly these):
 *                   input, q/k/v (3), context, 2 LayerNorm outputs, the residual sum, 2 dropout masks  10·B·S·H
 *                   pre-GELU and GELU'(x) of the feed-forward                                           2·B·S·I
 *                   attention probabilities and their dropout mask                                      2·B·a·S²
 *                   LayerNorm 1/σ (2 per row) and the fused q/k/v weight [H, 3H]                 2·B·S + 3·H²
 *                 the embeddings when they train (sum, LayerNorm, dropout mask)                         4·B·S·H
 *                 the head: the last hidden state B·S·H, plus for classification the pooled output, tanh
 *                 and dropout mask (3·B·H + B·labels); for masked-LM, on the R = B·S·mlm_probability masked
 *                 rows, the transform (4·R·H), logits and their softmax (2·R·V) and the transposed decoder (V·H)
 *                 and the working set of the layer being computed: scores before the softmax and the gradients
 *                 of the probabilities (2·B·a·S²), of the feed-forward (2·B·S·I) and of the hidden states (4·B·S·H);
 *                 the dense gradient of the word embeddings and its scatter-add (3·V·H) when they train
 *   update        UPDATE_TEMPORARIES × the largest trainable parameter (AdamW's temporaries, see below)
 *   total         weights + gradients + optimizer + activations + update + HEAP_BASE_BYTES: the heap's
 *                 high-water mark after a few steps, when fragmentation has made room for both
 *
 * Gradients flow back only as far as the lowest module with a trainable parameter, so a layer below it keeps no
 * activations (tfjs records the tape only on the path to trainable variables): that is how freezing the bottom
 * layers saves activation memory, not only optimizer state. A layer above it keeps them even when it is itself
 * frozen, because the gradient passes through it.
 *
 * Each data-parallel worker thread (trainer/parallel/) holds the weights, its shard's gradients and activations in
 * a heap of its own, and sends its gradients back as arrays this thread holds too. A checkpoint save copies the
 * weights out of the backend and serialises them (safetensors), then the optimizer moments (copied twice on the
 * way out): for a moment the process holds 2·P + 5·T values more, as garbage is collected lazily. Not counted: the tokenised data set and the JS heap (PROCESS_BASE_BYTES
 * stands for both and the runtime).
 */
import type { BertHead, BertShapeConfig } from './bertParams';
import { bertParameters, countParameters, numel } from './bertParams';
import type { ModuleNode } from './protocol';

export const BYTES_PER_VALUE = 4;

/** Node, tfjs, the WASM module and a small data set: peak RSS less the WASM heap, measured (bench/memory.ts). */
export const PROCESS_BASE_BYTES = 160 * 1024 ** 2;

/** What a WASM heap holds besides the tensors: its initial 16 MiB, the allocator's slack, small temporaries. */
export const HEAP_BASE_BYTES = 64 * 1024 ** 2;

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
  /** Threads the batch is split across (this one and its workers); 1 when there are no workers. */
  threads?: number;
  /** gradient_accumulation_steps. */
  accumulation?: number;
  /** masked-lm: the fraction of positions scored. */
  mlmProbability?: number;
}

export interface MemoryEstimate {
  weights: number;
  gradients: number;
  optimizer: number;
  /** Of this thread's shard of the batch, with the working set of one layer. */
  activations: number;
  /** The optimizer update's temporaries (UPDATE_TEMPORARIES copies of the largest trainable parameter). */
  update: number;
  /** What this thread's backend holds at the peak of a step (its WASM heap, or the GPU's memory). */
  total: number;
  /** Encoder layers whose activations are kept for the backward pass. */
  layersWithActivations: number;
  /** One worker thread's heap (weights, its shard's gradients and activations); 0 without workers. */
  perWorker: number;
  /** What the worker threads hold together, their heaps and the gradient arrays they send back. */
  workers: number;
  /** What a checkpoint save adds for a moment, outside the backend (copies and the safetensors buffer). */
  checkpointSpike: number;
  /** The whole process at its worst moment: every heap, the save spike and the runtime (PROCESS_BASE_BYTES). */
  processTotal: number;
  /** The step's largest single tensor: a GPU buffer must hold it whole. */
  largestTensor: { what: string; bytes: number };
}

/** The step's largest tensors by name, in bytes (a GPU kernel binds each as one buffer). */
export function largestTensors(m: MemoryInput): { what: string; bytes: number }[] {
  const { batchSize: B, seqLength: S, hiddenSize: H, intermediateSize: I, numHeads: a, vocabSize: V } = m;
  const out = [
    { what: `the word embeddings [${V}, ${H}]`, bytes: BYTES_PER_VALUE * V * H },
    { what: `the attention scores [${B}, ${a}, ${S}, ${S}]`, bytes: BYTES_PER_VALUE * B * a * S * S },
    { what: `the feed-forward activations [${B * S}, ${I}]`, bytes: BYTES_PER_VALUE * B * S * I },
  ];
  if (m.head === 'masked-lm') {
    const rows = Math.ceil(B * S * (m.mlmProbability ?? 0.15));
    out.push({ what: `the masked-LM logits [about ${rows}, ${V}]`, bytes: BYTES_PER_VALUE * rows * V });
  }
  return out.sort((x, y) => y.bytes - x.bytes);
}

/**
 * AdamW's update of one parameter computes about a dozen tensors of its size at once (trainer/optim/adamw.ts):
 * for the word embeddings of BERT-base that is 1.1 GiB, more than the activations of a small batch.
 */
export const UPDATE_TEMPORARIES = 12;

/** Values of the largest trainable parameter: the word embeddings when they train, else a feed-forward weight. */
function largestTrainable(m: MemoryInput): number {
  if (m.lowestTrainable === null) return 0;
  if (m.lowestTrainable < 0) return m.vocabSize * m.hiddenSize;
  if (m.lowestTrainable < m.numLayers) return m.hiddenSize * m.intermediateSize;
  return m.hiddenSize * Math.max(m.hiddenSize, m.numLabels);
}

/** Activation values of one thread's shard of `batch` examples. */
function activationValues(m: MemoryInput, batch: number): { values: number; layers: number } {
  if (m.lowestTrainable === null) return { values: 0, layers: 0 };
  const { hiddenSize: H, intermediateSize: I, numHeads: a, vocabSize: V } = m;
  const B = batch;
  const S = m.seqLength;
  const perLayer = B * S * (10 * H + 2 * I + 2) + 2 * B * a * S * S + 3 * H * H;
  const layers = Math.max(0, m.numLayers - Math.max(0, m.lowestTrainable));
  let values = layers * perLayer + B * S * H;
  if (m.lowestTrainable < 0) values += 4 * B * S * H;
  if (m.head === 'masked-lm') {
    const R = Math.ceil(B * S * (m.mlmProbability ?? 0.15));
    values += 4 * R * H + 2 * R * V + V * H;
  } else if (m.head === 'sequence-classification') values += 3 * B * H + B * m.numLabels;
  else values += 2 * B * H;
  if (layers > 0) values += 2 * B * a * S * S + 2 * B * S * I + 4 * B * S * H;
  // The word embeddings' gradient is dense, and its scatter-add takes a few copies of it.
  if (m.lowestTrainable < 0) values += 3 * V * H;
  return { values, layers };
}

export function estimateTrainingMemory(m: MemoryInput): MemoryEstimate {
  const threads = Math.max(1, Math.min(m.threads ?? 1, m.batchSize));
  const P = m.totalParams;
  const T = m.trainableParams;
  const shard = Math.ceil(m.batchSize / threads);
  const act = activationValues(m, shard);
  const weights = BYTES_PER_VALUE * P;
  const gradientSets = 1 + (threads > 1 ? 1 : 0) + ((m.accumulation ?? 1) > 1 ? 1 : 0);
  const gradients = BYTES_PER_VALUE * T * gradientSets;
  const optimizer = 2 * BYTES_PER_VALUE * T;
  const activations = BYTES_PER_VALUE * act.values;
  const update = BYTES_PER_VALUE * UPDATE_TEMPORARIES * largestTrainable(m);
  // The update runs after the step's activations are freed, but its embedding-sized blocks do not fit the scattered
  // holes they leave: over the first steps the heap grows to hold both (measured, bench/memory.ts).
  const total = weights + gradients + optimizer + activations + update + HEAP_BASE_BYTES;
  const perWorker = threads > 1 ? BYTES_PER_VALUE * (P + T + act.values) + HEAP_BASE_BYTES : 0;
  const workers = (threads - 1) * (perWorker + BYTES_PER_VALUE * T);
  const checkpointSpike = BYTES_PER_VALUE * (2 * P + 5 * T);
  return {
    weights,
    gradients,
    optimizer,
    activations,
    update,
    total,
    layersWithActivations: act.layers,
    perWorker,
    workers,
    checkpointSpike,
    processTotal: total + workers + checkpointSpike + PROCESS_BASE_BYTES,
    // On a GPU the whole batch runs on one device: its tensors are the full batch's.
    largestTensor: largestTensors(m)[0]!,
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

/** What a config asks of a model's shape, and of a step: enough to estimate before anything is allocated. */
export interface TrainingShape {
  config: BertShapeConfig & { num_attention_heads: number };
  head: BertHead;
  numLabels: number;
  batchSize: number;
  seqLength: number;
  /** Whether a parameter trains (not frozen); every parameter when absent. */
  trainable?: (name: string) => boolean;
  threads?: number;
  accumulation?: number;
  mlmProbability?: number;
}

/** The estimate for a whole model, from its config alone (no weights, no tfjs). */
export function estimateForShape(s: TrainingShape): MemoryEstimate {
  return shapeEstimator(s)(s.batchSize, s.seqLength);
}

/**
 * The estimate of a model at any batch size and length: the parameters are counted once, so that searching for
 * the largest batch that fits costs a few multiplications per try.
 */
export function shapeEstimator(s: Omit<TrainingShape, 'batchSize' | 'seqLength'>) {
  const params = bertParameters(s.config, s.head, s.numLabels);
  const trainable = s.trainable ?? (() => true);
  const trainableNames = params.map((p) => p.name).filter(trainable);
  const trainableParams = params.filter((p) => trainable(p.name)).reduce((n, p) => n + numel(p.shape), 0);
  const c = s.config;
  const fixed = {
    hiddenSize: c.hidden_size,
    numLayers: c.num_hidden_layers,
    intermediateSize: c.intermediate_size,
    numHeads: c.num_attention_heads,
    vocabSize: c.vocab_size,
    numLabels: s.numLabels,
    head: s.head,
    totalParams: countParameters(params),
    trainableParams,
    lowestTrainable: trainableParams === 0 ? null : lowestTrainable(trainableNames, c.num_hidden_layers),
    ...(s.threads !== undefined ? { threads: s.threads } : {}),
    ...(s.accumulation !== undefined ? { accumulation: s.accumulation } : {}),
    ...(s.mlmProbability !== undefined ? { mlmProbability: s.mlmProbability } : {}),
  };
  return (batchSize: number, seqLength: number): MemoryEstimate =>
    estimateTrainingMemory({ ...fixed, batchSize, seqLength });
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
