/**
 * A BERT-family encoder (BERT, RoBERTa, XLM-RoBERTa, DistilBERT, ELECTRA) for sequence classification / masked
 * LM in tfjs-core ops, with Hugging Face parameter names and modeling_*.py semantics: the shared post-LayerNorm
 * encoder layer (encoderLayer.ts, additive attention mask with finfo.min) and each family's embeddings and heads
 * (families/). Hidden states are kept 2-D [batch·seq, hidden] so that every Linear is a plain 2-D matmul.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients (the tfjs union package does); the model needs them for training.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { Batch } from '../data/batch';
import { IGNORE_INDEX } from '../data/batch';
import { maxSequenceLength, parameterSpecs, validateConfig } from '../../common/modelConfig';
import { familyOf } from '../../common/modelFamilies';
import type { ModelType } from '../../common/modelFamilies';
import type { BertConfig, BertHead, ParamSpec } from '../../common/modelConfig';
import { initialValue } from './init';
import { crossEntropy, DropoutRng, gatherRows, layerNorm, linear } from './ops';
import { encoderLayer } from './encoderLayer';
import { bertFamily } from './families/bert';
import { distilbertFamily } from './families/distilbert';
import { electraFamily } from './families/electra';
import { robertaFamily } from './families/roberta';
import type { FamilyModel, ModelParts } from './families/types';
import { firstTokenRows } from './families/types';
import { loadStateDictInto, toStateDictFrom } from './stateDict';
import { taskLoss } from './taskLoss';
import type { LoadReport, StateDict } from './stateDict';

export interface CreateOptions {
  /** Classification only; defaults to config.num_labels, then 2. */
  numLabels?: number;
  /** Initialisation seed; the same seed gives bit-identical weights. */
  seed?: number;
}

export interface RunOptions {
  /** Dropout is applied only when training. */
  training: boolean;
  /** Per-step seed of the dropout masks (required when training with dropout). */
  seed?: number;
  /**
   * Index of this batch's first example in the batch it was cut from (data-parallel shards): dropout masks are
   * drawn per example, so a shard gets the masks the whole batch would give its examples. Default 0.
   */
  exampleOffset?: number;
}

export interface Prediction {
  /** Row-major logits [rows, cols]. */
  logits: Float32Array;
  /** Classification: [batch, numLabels]. Masked LM: [positions with a label, vocab]. */
  shape: [number, number];
}

/** float32's most negative finite value, as HF's torch.finfo(dtype).min for the additive mask. */
const FLOAT32_MIN = -3.4028234663852886e38;

const FAMILY_MODELS: Readonly<Record<ModelType, FamilyModel>> = {
  bert: bertFamily,
  roberta: robertaFamily,
  'xlm-roberta': robertaFamily,
  distilbert: distilbertFamily,
  electra: electraFamily,
};

let modelCounter = 0;

export class BertModel {
  readonly config: BertConfig;
  readonly head: BertHead;
  readonly numLabels: number;
  /** Parameters keyed by Hugging Face name; Linear weights are [in, out]. */
  readonly params: Map<string, tf.Variable>;
  readonly specs: ReadonlyMap<string, ParamSpec>;
  private readonly family: FamilyModel;
  /** The parameters as the family code (families/) reaches them. */
  private readonly parts: ModelParts;
  private disposed = false;

  private constructor(config: BertConfig, head: BertHead, numLabels: number, params: Map<string, tf.Variable>) {
    this.config = config;
    this.head = head;
    this.numLabels = numLabels;
    this.params = params;
    this.specs = new Map(parameterSpecs(config, head, numLabels).map((s) => [s.name, s]));
    this.family = FAMILY_MODELS[familyOf(config.model_type).modelType];
    this.parts = {
      config,
      p: (name) => this.p(name),
      lin: (prefix, x) => this.lin(prefix, x),
      ln: (prefix, x) => this.ln(prefix, x),
    };
  }

  static create(config: BertConfig, head: BertHead, opts: CreateOptions = {}): BertModel {
    validateConfig(config);
    const numLabels = opts.numLabels ?? config.num_labels ?? 2;
    if (head === 'sequence-classification' && !(Number.isInteger(numLabels) && numLabels >= 1)) {
      throw new Error(`numLabels must be a positive integer, got ${numLabels}`);
    }
    const seed = opts.seed ?? 42;
    const id = ++modelCounter;
    const params = new Map<string, tf.Variable>();
    for (const spec of parameterSpecs(config, head, numLabels)) {
      const init = initialValue(spec, config, seed);
      // tfjs variable names are global to the engine, so make them unique per model instance.
      params.set(spec.name, tf.variable(init, true, `m${id}/${spec.name}`));
      init.dispose();
    }
    return new BertModel(config, head, numLabels, params);
  }

  parameterNames(): string[] {
    return [...this.params.keys()];
  }

  private p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`internal: parameter ${name} missing`);
    return v;
  }

  private lin(prefix: string, x: tf.Tensor2D): tf.Tensor2D {
    return linear(x, this.p(`${prefix}.weight`) as tf.Tensor2D, this.p(`${prefix}.bias`) as tf.Tensor1D);
  }

  private ln(prefix: string, x: tf.Tensor2D): tf.Tensor2D {
    return layerNorm(
      x,
      this.p(`${prefix}.weight`) as tf.Tensor1D,
      this.p(`${prefix}.bias`) as tf.Tensor1D,
      this.config.layer_norm_eps,
    );
  }

  private checkBatch(batch: Batch): void {
    const n = batch.size * batch.seqLen;
    if (batch.inputIds.length !== n || batch.attentionMask.length !== n || batch.tokenTypeIds.length !== n) {
      throw new Error(`Batch arrays must have size*seqLen = ${n} entries`);
    }
    const longest = maxSequenceLength(this.config);
    if (batch.seqLen > longest) {
      throw new Error(
        `Sequence length ${batch.seqLen} exceeds the ${longest} positions of max_position_embeddings ${this.config.max_position_embeddings}`,
      );
    }
    const V = this.config.vocab_size;
    for (const id of batch.inputIds) if (id < 0 || id >= V) throw new Error(`input id ${id} outside vocab [0, ${V})`);
    // DistilBERT has no token-type embeddings: its tokenizer's segment ids are not an input of the model.
    if (!familyOf(this.config.model_type).tokenTypes) return;
    const T = this.config.type_vocab_size;
    for (const t of batch.tokenTypeIds) if (t < 0 || t >= T) throw new Error(`token type ${t} outside [0, ${T})`);
  }

  /**
   * Encoder output [batch·seq, hidden]. `noGrad`: prediction only, so each layer frees its activations at once
   * (encoderLayer.ts).
   */
  private encode(batch: Batch, rng: DropoutRng | null, noGrad = false): tf.Tensor2D {
    const c = this.config;
    const B = batch.size;
    const S = batch.seqLen;
    const H = c.hidden_size;
    const nh = c.num_attention_heads;
    const pDrop = c.hidden_dropout_prob;
    let h = this.family.embed(this.parts, batch, rng);

    // (1 - mask) · finfo.min, broadcast over heads and query positions: [B, 1, 1, S].
    const addMask = new Float32Array(B * S);
    for (let i = 0; i < B * S; i++) addMask[i] = batch.attentionMask[i] ? 0 : FLOAT32_MIN;
    const maskT = tf.tensor4d(addMask, [B, 1, 1, S]);
    // One fused op per layer (encoderLayer.ts): every matmul on XNNPACK's fast path, attention per (example,
    // head) block, and only what the backward needs kept alive.
    const shape = { batch: B, seqLen: S, heads: nh, eps: c.layer_norm_eps, act: c.hidden_act };
    const pAttn = c.attention_probs_dropout_prob;
    const attnOut = this.family.attentionOutputDropout;
    for (let i = 0; i < c.num_hidden_layers; i++) {
      // Masks in the op-by-op order (probabilities, attention output, feed-forward output): same RNG stream.
      const masks = {
        attn: rng && pAttn > 0 ? rng.mask([B, nh, S, S], pAttn) : null,
        attnOut: rng && pDrop > 0 && attnOut ? rng.mask([B * S, H], pDrop) : null,
        ffnOut: rng && pDrop > 0 ? rng.mask([B * S, H], pDrop) : null,
      };
      h = encoderLayer(h, this.family.layerWeights(this.parts, i), maskT, shape, masks, noGrad);
    }
    return h;
  }

  /** Flat indices (b·S + s) of the positions the MLM loss scores, in row-major order. */
  private maskedPositions(batch: Batch): { rows: Int32Array; labels: Int32Array } {
    const n = batch.size * batch.seqLen;
    if (batch.labels.length !== n) throw new Error(`masked-lm labels must be [size, seqLen] = ${n} entries`);
    const rows: number[] = [];
    const labels: number[] = [];
    for (let i = 0; i < n; i++) {
      const l = batch.labels[i] ?? IGNORE_INDEX;
      if (l !== IGNORE_INDEX) {
        if (l < 0 || l >= this.config.vocab_size) throw new Error(`MLM label ${l} outside vocab`);
        rows.push(i);
        labels.push(l);
      }
    }
    return { rows: Int32Array.from(rows), labels: Int32Array.from(labels) };
  }

  private logitsFor(batch: Batch, opts: RunOptions, noGrad = false): tf.Tensor2D {
    this.checkBatch(batch);
    if (opts.training && opts.seed === undefined) throw new Error('training forward needs a per-step dropout seed');
    const rng = opts.training ? new DropoutRng(opts.seed ?? 0, batch.size, opts.exampleOffset ?? 0) : null;
    const h = this.encode(batch, rng, noGrad);
    if (this.head === 'sequence-classification') {
      return this.family.classify(this.parts, gatherRows(h, firstTokenRows(batch)), rng);
    }
    // Only the scored positions go through the head: the vocab projection is the most expensive matmul of
    // the model, and HF's loss ignores the other positions anyway.
    const { rows } = this.maskedPositions(batch);
    return this.family.maskedLm(this.parts, gatherRows(h, rows));
  }

  /**
   * Logits. Classification: [batch, numLabels]. Masked LM: [positions whose label != -100, vocab], in
   * row-major position order. The caller owns the result (call inside tf.tidy or dispose it).
   */
  forward(batch: Batch, opts: RunOptions): tf.Tensor2D {
    return tf.tidy(() => this.logitsFor(batch, opts));
  }

  /**
   * Mean loss. Classification: over examples, by the config's problem type (taskLoss.ts). MLM: cross-entropy
   * over positions with a label; 0 if none.
   */
  loss(batch: Batch, opts: RunOptions): tf.Scalar {
    return tf.tidy(() => {
      const logits = this.logitsFor(batch, opts);
      if (this.head === 'sequence-classification') {
        return taskLoss(logits, batch, this.config.problem_type ?? 'single_label_classification');
      }
      const { labels } = this.maskedPositions(batch);
      if (labels.length === 0) return tf.mul(tf.sum(logits), 0) as tf.Scalar;
      return crossEntropy(logits, labels);
    });
  }

  /**
   * Loss and gradients of the trainable parameters only: frozen variables are not handed to tfjs, so no
   * gradient is returned (or kept) for them. The caller owns and disposes the gradient tensors. The loss is
   * read asynchronously: a GPU backend (webgpu) has no synchronous read in Node.
   */
  async lossAndGrads(
    batch: Batch,
    opts: RunOptions,
    trainable: (name: string) => boolean = () => true,
  ): Promise<{ loss: number; grads: Map<string, tf.Tensor> }> {
    const names = this.parameterNames().filter(trainable);
    if (names.length === 0) throw new Error('no trainable parameters');
    const vars = names.map((n) => this.p(n));
    const { value, grads } = tf.variableGrads(() => this.loss(batch, opts), vars);
    let loss: number;
    try {
      loss = (await value.data())[0] ?? NaN;
    } finally {
      value.dispose();
    }
    const out = new Map<string, tf.Tensor>();
    names.forEach((n, i) => {
      const g = grads[vars[i]!.name];
      if (g) out.set(n, g);
    });
    return { loss, grads: out };
  }

  /** The last encoder layer's output, [batch·seq, hidden] row-major, without dropout (for feature probes and embeddings). */
  hiddenStates(batch: Batch): tf.Tensor2D {
    this.checkBatch(batch);
    return tf.tidy(() => this.encode(batch, null, true));
  }

  async predict(batch: Batch): Promise<Prediction> {
    const logits = tf.tidy(() => this.logitsFor(batch, { training: false }, true));
    try {
      const [r, c] = logits.shape;
      return { logits: (await logits.data()) as Float32Array, shape: [r, c] };
    } finally {
      logits.dispose();
    }
  }

  /** PyTorch layout (Linear weights [out, in]); the tied decoder weight is omitted as save_pretrained does. */
  toStateDict(): Promise<StateDict> {
    return toStateDictFrom(this.params, this.specs);
  }

  /** Loads HF-named weights; see stateDict.ts for what is accepted, dropped and freshly initialised. */
  loadStateDict(sd: StateDict): LoadReport {
    return loadStateDictInto(this.params, this.specs, familyOf(this.config.model_type), this.head, sd);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.params.values()) v.dispose();
  }
}
