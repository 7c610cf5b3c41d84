/**
 * BERT for sequence classification / masked LM in tfjs-core ops, with Hugging Face parameter names and
 * modeling_bert.py semantics (post-LayerNorm encoder, exact GELU, additive attention mask with finfo.min).
 * Hidden states are kept 2-D [batch·seq, hidden] so that every Linear is a plain 2-D matmul.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients (the tfjs union package does); the model needs them for training.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { Batch } from '../data/batch';
import { IGNORE_INDEX } from '../data/batch';
import { parameterSpecs, validateConfig } from '../../common/modelConfig';
import type { BertConfig, BertHead, ParamSpec } from '../../common/modelConfig';
import { initialValue } from './init';
import { crossEntropy, DropoutRng, dropout, gatherRows, gelu, layerNorm, linear } from './ops';
import { encoderLayer } from './encoderLayer';
import type { EncoderLayerWeights } from './encoderLayer';
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

let modelCounter = 0;

export class BertModel {
  readonly config: BertConfig;
  readonly head: BertHead;
  readonly numLabels: number;
  /** Parameters keyed by Hugging Face name; Linear weights are [in, out]. */
  readonly params: Map<string, tf.Variable>;
  readonly specs: ReadonlyMap<string, ParamSpec>;
  private disposed = false;

  private constructor(config: BertConfig, head: BertHead, numLabels: number, params: Map<string, tf.Variable>) {
    this.config = config;
    this.head = head;
    this.numLabels = numLabels;
    this.params = params;
    this.specs = new Map(parameterSpecs(config, head, numLabels).map((s) => [s.name, s]));
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

  private layerWeights(prefix: string): EncoderLayerWeights {
    const w = (n: string) => this.p(`${prefix}.${n}`) as tf.Tensor2D;
    const v = (n: string) => this.p(`${prefix}.${n}`) as tf.Tensor1D;
    return {
      wq: w('attention.self.query.weight'),
      bq: v('attention.self.query.bias'),
      wk: w('attention.self.key.weight'),
      bk: v('attention.self.key.bias'),
      wv: w('attention.self.value.weight'),
      bv: v('attention.self.value.bias'),
      wo: w('attention.output.dense.weight'),
      bo: v('attention.output.dense.bias'),
      ln1g: v('attention.output.LayerNorm.weight'),
      ln1b: v('attention.output.LayerNorm.bias'),
      wi: w('intermediate.dense.weight'),
      bi: v('intermediate.dense.bias'),
      wo2: w('output.dense.weight'),
      bo2: v('output.dense.bias'),
      ln2g: v('output.LayerNorm.weight'),
      ln2b: v('output.LayerNorm.bias'),
    };
  }

  private checkBatch(batch: Batch): void {
    const n = batch.size * batch.seqLen;
    if (batch.inputIds.length !== n || batch.attentionMask.length !== n || batch.tokenTypeIds.length !== n) {
      throw new Error(`Batch arrays must have size*seqLen = ${n} entries`);
    }
    if (batch.seqLen > this.config.max_position_embeddings) {
      throw new Error(
        `Sequence length ${batch.seqLen} exceeds max_position_embeddings ${this.config.max_position_embeddings}`,
      );
    }
    const V = this.config.vocab_size;
    for (const id of batch.inputIds) if (id < 0 || id >= V) throw new Error(`input id ${id} outside vocab [0, ${V})`);
    const T = this.config.type_vocab_size;
    for (const t of batch.tokenTypeIds) if (t < 0 || t >= T) throw new Error(`token type ${t} outside [0, ${T})`);
  }

  /** Encoder output [batch·seq, hidden]. */
  /** `noGrad`: prediction only, so each layer frees its activations at once (encoderLayer.ts). */
  private encode(batch: Batch, rng: DropoutRng | null, noGrad = false): tf.Tensor2D {
    const c = this.config;
    const B = batch.size;
    const S = batch.seqLen;
    const H = c.hidden_size;
    const nh = c.num_attention_heads;
    const pDrop = c.hidden_dropout_prob;

    const positions = new Int32Array(B * S);
    for (let i = 0; i < B * S; i++) positions[i] = i % S;
    let h = tf.add(
      tf.add(
        gatherRows(this.p('bert.embeddings.word_embeddings.weight') as tf.Tensor2D, batch.inputIds),
        gatherRows(this.p('bert.embeddings.position_embeddings.weight') as tf.Tensor2D, positions),
      ),
      gatherRows(this.p('bert.embeddings.token_type_embeddings.weight') as tf.Tensor2D, batch.tokenTypeIds),
    ) as tf.Tensor2D;
    h = dropout(this.ln('bert.embeddings.LayerNorm', h), pDrop, rng) as tf.Tensor2D;

    // (1 - mask) · finfo.min, broadcast over heads and query positions: [B, 1, 1, S].
    const addMask = new Float32Array(B * S);
    for (let i = 0; i < B * S; i++) addMask[i] = batch.attentionMask[i] ? 0 : FLOAT32_MIN;
    const maskT = tf.tensor4d(addMask, [B, 1, 1, S]);
    // One fused op per layer (encoderLayer.ts): every matmul on XNNPACK's fast path, attention per (example,
    // head) block, and only what the backward needs kept alive.
    const shape = { batch: B, seqLen: S, heads: nh, eps: c.layer_norm_eps };
    const pAttn = c.attention_probs_dropout_prob;
    for (let i = 0; i < c.num_hidden_layers; i++) {
      // Masks in the op-by-op order (probabilities, attention output, feed-forward output): same RNG stream.
      const masks = {
        attn: rng && pAttn > 0 ? rng.mask([B, nh, S, S], pAttn) : null,
        attnOut: rng && pDrop > 0 ? rng.mask([B * S, H], pDrop) : null,
        ffnOut: rng && pDrop > 0 ? rng.mask([B * S, H], pDrop) : null,
      };
      h = encoderLayer(h, this.layerWeights(`bert.encoder.layer.${i}`), maskT, shape, masks, noGrad);
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
      const cls = new Int32Array(batch.size);
      for (let b = 0; b < batch.size; b++) cls[b] = b * batch.seqLen;
      const pooled = tf.tanh(this.lin('bert.pooler.dense', gatherRows(h, cls))) as tf.Tensor2D;
      const pCls = this.config.classifier_dropout ?? this.config.hidden_dropout_prob;
      return this.lin('classifier', dropout(pooled, pCls, rng) as tf.Tensor2D);
    }
    // Only the scored positions go through the head: the vocab projection is the most expensive matmul of
    // the model, and HF's loss ignores the other positions anyway.
    const { rows } = this.maskedPositions(batch);
    let t = this.lin('cls.predictions.transform.dense', gatherRows(h, rows));
    t = this.ln('cls.predictions.transform.LayerNorm', gelu(t) as tf.Tensor2D);
    // Tied decoder: logits = t · E^T + bias. The explicit transpose keeps the matmul on the fast path, and
    // its gradient flows back into the same word-embedding variable.
    const emb = this.p('bert.embeddings.word_embeddings.weight') as tf.Tensor2D;
    return linear(t, tf.transpose(emb), this.p('cls.predictions.bias') as tf.Tensor1D);
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
    return loadStateDictInto(this.params, this.specs, this.head, sd);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.params.values()) v.dispose();
  }
}
