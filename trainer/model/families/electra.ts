/**
 * ELECTRA (modeling_electra.py): BERT's encoder under `electra.`, with embeddings of `embedding_size` projected to
 * hidden_size by `embeddings_project` when the two differ. Classification is ElectraForSequenceClassification on
 * the discriminator; masked LM is ElectraForMaskedLM, the generator-style head (replaced-token detection, which
 * needs a generator and a discriminator trained together, is not what `task: masked-lm` trains).
 */
import * as tf from '@tensorflow/tfjs-core';
import { activation, dropout } from '../ops';
import { bertEmbeddings, tiedDecoder } from './bert';
import type { FamilyModel } from './types';
import { absolutePositions, bertLayerWeights, classifierDropout } from './types';

export const electraFamily: FamilyModel = {
  embed(m, batch, rng) {
    const e = bertEmbeddings(m, 'electra', batch, absolutePositions(batch), rng);
    const c = m.config;
    return c.embedding_size === undefined || c.embedding_size === c.hidden_size
      ? e
      : m.lin('electra.embeddings_project', e);
  },
  layerWeights: (m, i) => bertLayerWeights(m, 'electra', i),
  attentionOutputDropout: true,
  // ElectraClassificationHead on <s>/[CLS]: dropout, dense, exact GELU (not tanh), dropout, out_proj.
  classify(m, first, rng) {
    const p = classifierDropout(m.config);
    const x = activation('gelu', m.lin('classifier.dense', dropout(first, p, rng) as tf.Tensor2D)) as tf.Tensor2D;
    return m.lin('classifier.out_proj', dropout(x, p, rng) as tf.Tensor2D);
  },
  // ElectraGeneratorPredictions (dense to embedding_size, exact GELU, LayerNorm), then the tied generator_lm_head.
  maskedLm(m, rows) {
    const t = activation('gelu', m.lin('generator_predictions.dense', rows)) as tf.Tensor2D;
    return tiedDecoder(m, 'electra', m.ln('generator_predictions.LayerNorm', t), 'generator_lm_head.bias');
  },
};
