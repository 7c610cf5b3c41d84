import * as tf from '@tensorflow/tfjs-core';
import type { BertConfig, ParamSpec } from '../../common/modelConfig';
import { mixSeed } from './ops';

/** FNV-1a over the name, so a parameter's initial value depends on (seed, name) and not on list order. */
function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

const isRobertaPositions = (name: string) => name === 'roberta.embeddings.position_embeddings.weight';

/**
 * The initial value of one parameter, following HF's BertPreTrainedModel._init_weights (the same in every family): Linear and Embedding
 * weights ~ N(0, initializer_range), biases 0, LayerNorm weight 1 / bias 0, and the padding row of the word
 * embeddings zeroed (nn.Embedding(padding_idx=pad_token_id)). Seeding by name keeps the encoder identical
 * whichever head is attached, so "same seed, other head" compares like with like.
 */
export function initialValue(spec: ParamSpec, config: BertConfig, seed: number): tf.Tensor {
  return tf.tidy(() => {
    switch (spec.kind) {
      case 'bias':
      case 'layernorm-bias':
        return tf.zeros(spec.shape as number[]);
      case 'layernorm-weight':
        return tf.ones(spec.shape as number[]);
      case 'linear-weight':
      case 'embedding': {
        const s = mixSeed(seed, nameHash(spec.name)) >>> 0;
        const w = tf.randomNormal(spec.shape as number[], 0, config.initializer_range, 'float32', s);
        // Every family's word embeddings have padding_idx = pad_token_id; RoBERTa's position embeddings too.
        if (spec.name.endsWith('.embeddings.word_embeddings.weight') || isRobertaPositions(spec.name)) {
          const pad = config.pad_token_id;
          const rows = spec.shape[0] ?? 0;
          if (pad >= 0 && pad < rows) {
            const keep = new Float32Array(rows).fill(1);
            keep[pad] = 0;
            return tf.mul(w, tf.tensor2d(keep, [rows, 1]));
          }
        }
        return w;
      }
    }
  });
}
