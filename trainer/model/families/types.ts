/**
 * What differs between the BERT-family encoders the model runs (model.ts drives them all): the embeddings, the
 * names of an encoder layer's weights, which dropouts a layer has, and the two heads. The encoder layer itself
 * (encoderLayer.ts) is the same post-LayerNorm block in every family.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Batch } from '../../data/batch';
import type { BertConfig } from '../../../common/modelConfig';
import type { DropoutRng } from '../ops';
import type { EncoderLayerWeights } from '../encoderLayer';

/** The model's parameters as a family's code reaches them. */
export interface ModelParts {
  readonly config: BertConfig;
  p(name: string): tf.Variable;
  /** x·W + b of the Linear named `prefix`. */
  lin(prefix: string, x: tf.Tensor2D): tf.Tensor2D;
  /** The LayerNorm named `prefix`, with the config's eps. */
  ln(prefix: string, x: tf.Tensor2D): tf.Tensor2D;
}

export interface FamilyModel {
  /** Embeddings of the batch, dropout applied, [batch·seq, hidden]: the first encoder layer's input. */
  embed(m: ModelParts, batch: Batch, rng: DropoutRng | null): tf.Tensor2D;
  /** Layer `i`'s weights in the fused layer's vocabulary. */
  layerWeights(m: ModelParts, i: number): EncoderLayerWeights;
  /** Whether dropout follows the attention's output projection (BERT's BertSelfOutput; DistilBERT has none). */
  readonly attentionOutputDropout: boolean;
  /** Classification logits from the first token's final hidden states [batch, hidden]. */
  classify(m: ModelParts, first: tf.Tensor2D, rng: DropoutRng | null): tf.Tensor2D;
  /** Masked-LM logits [rows, vocab] from the final hidden states of the scored positions. */
  maskedLm(m: ModelParts, rows: tf.Tensor2D): tf.Tensor2D;
}

/** The weights of a BertLayer (BERT, RoBERTa, ELECTRA) under `<prefix>.encoder.layer.<i>`. */
export function bertLayerWeights(m: ModelParts, prefix: string, i: number): EncoderLayerWeights {
  const base = `${prefix}.encoder.layer.${i}`;
  const w = (n: string) => m.p(`${base}.${n}`) as tf.Tensor as tf.Tensor2D;
  const v = (n: string) => m.p(`${base}.${n}`) as tf.Tensor as tf.Tensor1D;
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

/** Row b·S of each example: its first token ([CLS] or `<s>`). */
export function firstTokenRows(batch: Batch): Int32Array {
  const rows = new Int32Array(batch.size);
  for (let b = 0; b < batch.size; b++) rows[b] = b * batch.seqLen;
  return rows;
}

/** Positions 0..S-1 for every example (BERT, DistilBERT, ELECTRA). */
export function absolutePositions(batch: Batch): Int32Array {
  const S = batch.seqLen;
  const positions = new Int32Array(batch.size * S);
  for (let i = 0; i < positions.length; i++) positions[i] = i % S;
  return positions;
}

/** The classifier's dropout: classifier_dropout when the config sets one, else hidden_dropout_prob (as HF). */
export function classifierDropout(c: BertConfig): number {
  return c.classifier_dropout ?? c.hidden_dropout_prob;
}
