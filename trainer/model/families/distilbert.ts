/**
 * DistilBERT (modeling_distilbert.py): word + position embeddings only (no token types), a post-LayerNorm block
 * with no dropout after the attention's output projection, `pre_classifier` + ReLU under the classifier, and
 * vocab_transform / vocab_layer_norm / vocab_projector for masked LM. Every LayerNorm has eps 1e-12 (the config
 * reader sets layer_norm_eps to it: DistilBertConfig has no such key).
 */
import * as tf from '@tensorflow/tfjs-core';
import { activation, dropout, gatherRows } from '../ops';
import type { EncoderLayerWeights } from '../encoderLayer';
import { tiedDecoder } from './bert';
import type { FamilyModel } from './types';
import { absolutePositions, classifierDropout } from './types';

export const distilbertFamily: FamilyModel = {
  embed(m, batch, rng) {
    const table = (n: string) => m.p(`distilbert.embeddings.${n}_embeddings.weight`) as tf.Tensor as tf.Tensor2D;
    const h = tf.add(
      gatherRows(table('word'), batch.inputIds),
      gatherRows(table('position'), absolutePositions(batch)),
    ) as tf.Tensor2D;
    return dropout(m.ln('distilbert.embeddings.LayerNorm', h), m.config.hidden_dropout_prob, rng) as tf.Tensor2D;
  },
  layerWeights(m, i): EncoderLayerWeights {
    const base = `distilbert.transformer.layer.${i}`;
    const w = (n: string) => m.p(`${base}.${n}`) as tf.Tensor as tf.Tensor2D;
    const v = (n: string) => m.p(`${base}.${n}`) as tf.Tensor as tf.Tensor1D;
    return {
      wq: w('attention.q_lin.weight'),
      bq: v('attention.q_lin.bias'),
      wk: w('attention.k_lin.weight'),
      bk: v('attention.k_lin.bias'),
      wv: w('attention.v_lin.weight'),
      bv: v('attention.v_lin.bias'),
      wo: w('attention.out_lin.weight'),
      bo: v('attention.out_lin.bias'),
      ln1g: v('sa_layer_norm.weight'),
      ln1b: v('sa_layer_norm.bias'),
      wi: w('ffn.lin1.weight'),
      bi: v('ffn.lin1.bias'),
      wo2: w('ffn.lin2.weight'),
      bo2: v('ffn.lin2.bias'),
      ln2g: v('output_layer_norm.weight'),
      ln2b: v('output_layer_norm.bias'),
    };
  },
  attentionOutputDropout: false,
  // DistilBertForSequenceClassification: pre_classifier, ReLU, dropout (seq_classif_dropout), classifier.
  classify(m, first, rng) {
    const x = tf.relu(m.lin('pre_classifier', first)) as tf.Tensor2D;
    return m.lin('classifier', dropout(x, classifierDropout(m.config), rng) as tf.Tensor2D);
  },
  // DistilBertForMaskedLM: vocab_transform, the config's activation, vocab_layer_norm, the tied vocab_projector.
  maskedLm(m, rows) {
    const t = activation(m.config.hidden_act, m.lin('vocab_transform', rows)) as tf.Tensor2D;
    return tiedDecoder(m, 'distilbert', m.ln('vocab_layer_norm', t), 'vocab_projector.bias');
  },
};
