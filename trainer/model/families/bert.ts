/** BERT (modeling_bert.py): word + position + token-type embeddings, a tanh pooler, `cls.predictions`. */
import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from '../../data/batch';
import { activation, dropout, gatherRows, linear } from '../ops';
import type { DropoutRng } from '../ops';
import type { FamilyModel, ModelParts } from './types';
import { absolutePositions, bertLayerWeights, classifierDropout } from './types';

/**
 * The sum of word, position and token-type embeddings of `prefix` (BERT, RoBERTa, ELECTRA), then LayerNorm and
 * dropout; its width is the embeddings' (ELECTRA's embedding_size).
 */
export function bertEmbeddings(
  m: ModelParts,
  prefix: string,
  batch: Batch,
  positions: Int32Array,
  rng: DropoutRng | null,
): tf.Tensor2D {
  const table = (n: string) => m.p(`${prefix}.embeddings.${n}_embeddings.weight`) as tf.Tensor as tf.Tensor2D;
  const h = tf.add(
    tf.add(gatherRows(table('word'), batch.inputIds), gatherRows(table('position'), positions)),
    gatherRows(table('token_type'), batch.tokenTypeIds),
  ) as tf.Tensor2D;
  return dropout(m.ln(`${prefix}.embeddings.LayerNorm`, h), m.config.hidden_dropout_prob, rng) as tf.Tensor2D;
}

/** The MLM decoder tied to the word embeddings [V, E]: logits = t · Eᵀ + bias (Eᵀ materialised: the fast path). */
export function tiedDecoder(m: ModelParts, prefix: string, t: tf.Tensor2D, bias: string): tf.Tensor2D {
  const emb = m.p(`${prefix}.embeddings.word_embeddings.weight`) as tf.Tensor as tf.Tensor2D;
  return linear(t, tf.transpose(emb), m.p(bias) as tf.Tensor as tf.Tensor1D);
}

export const bertFamily: FamilyModel = {
  embed: (m, batch, rng) => bertEmbeddings(m, 'bert', batch, absolutePositions(batch), rng),
  layerWeights: (m, i) => bertLayerWeights(m, 'bert', i),
  attentionOutputDropout: true,
  classify(m, first, rng) {
    const pooled = tf.tanh(m.lin('bert.pooler.dense', first)) as tf.Tensor2D;
    return m.lin('classifier', dropout(pooled, classifierDropout(m.config), rng) as tf.Tensor2D);
  },
  maskedLm(m, rows) {
    // BertPredictionHeadTransform applies the config's hidden_act.
    const t = activation(m.config.hidden_act, m.lin('cls.predictions.transform.dense', rows)) as tf.Tensor2D;
    return tiedDecoder(m, 'bert', m.ln('cls.predictions.transform.LayerNorm', t), 'cls.predictions.bias');
  },
};
