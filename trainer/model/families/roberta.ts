/**
 * RoBERTa and XLM-RoBERTa (modeling_roberta.py, modeling_xlm_roberta.py): BERT's encoder under `roberta.`, with
 * positions counted from pad_token_id + 1 over the non-padding tokens, no pooler, and its own two heads.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from '../../data/batch';
import { activation, dropout } from '../ops';
import { bertEmbeddings, tiedDecoder } from './bert';
import type { FamilyModel } from './types';
import { bertLayerWeights, classifierDropout } from './types';

/**
 * transformers' create_position_ids_from_input_ids: a padding token gets position padding_idx, the others
 * padding_idx + 1, + 2, ... counting only non-padding tokens (so the numbering skips padding in the middle too).
 */
export function robertaPositions(batch: Batch, padId: number): Int32Array {
  const S = batch.seqLen;
  const out = new Int32Array(batch.size * S);
  for (let b = 0; b < batch.size; b++) {
    let count = 0;
    for (let s = 0; s < S; s++) {
      const i = b * S + s;
      if (batch.inputIds[i] === padId) out[i] = padId;
      else out[i] = padId + ++count;
    }
  }
  return out;
}

export const robertaFamily: FamilyModel = {
  embed: (m, batch, rng) => bertEmbeddings(m, 'roberta', batch, robertaPositions(batch, m.config.pad_token_id), rng),
  layerWeights: (m, i) => bertLayerWeights(m, 'roberta', i),
  attentionOutputDropout: true,
  // RobertaClassificationHead on <s>: dropout, dense, tanh, dropout, out_proj.
  classify(m, first, rng) {
    const p = classifierDropout(m.config);
    const x = tf.tanh(m.lin('classifier.dense', dropout(first, p, rng) as tf.Tensor2D)) as tf.Tensor2D;
    return m.lin('classifier.out_proj', dropout(x, p, rng) as tf.Tensor2D);
  },
  // RobertaLMHead: dense, exact GELU (whatever hidden_act is), layer_norm, the tied decoder plus lm_head.bias.
  maskedLm(m, rows) {
    const t = activation('gelu', m.lin('lm_head.dense', rows)) as tf.Tensor2D;
    return tiedDecoder(m, 'roberta', m.ln('lm_head.layer_norm', t), 'lm_head.bias');
  },
};
