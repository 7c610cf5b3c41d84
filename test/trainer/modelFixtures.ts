import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import type { Batch } from '../../trainer/data/batch';
import type { BertConfig } from '../../common/modelConfig';

/** Tiny enough for finite differences in float32, big enough to have two heads and two layers. */
export const TINY: BertConfig = {
  vocab_size: 20,
  hidden_size: 8,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 16,
  max_position_embeddings: 16,
  type_vocab_size: 2,
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  layer_norm_eps: 1e-12,
  initializer_range: 0.5,
  pad_token_id: 0,
  hidden_act: 'gelu',
};

let wasmReady: Promise<boolean> | null = null;

/** Switches to a backend; 'wasm' is initialised from node_modules once per process. */
export async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  if (name === 'wasm') {
    wasmReady ??= (async () => {
      const req = createRequire(__filename);
      setWasmPaths(path.dirname(req.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep);
      return true;
    })();
    await wasmReady;
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`backend ${name} did not initialise`);
}

/** A classification batch; example 1 has trailing padding, example 0 is a sentence pair. */
export function classBatch(): Batch {
  const S = 6;
  return {
    size: 2,
    seqLen: S,
    inputIds: Int32Array.from([2, 5, 7, 3, 9, 3, 2, 11, 5, 3, 0, 0]),
    attentionMask: Int32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]),
    tokenTypeIds: Int32Array.from([0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]),
    labels: Int32Array.from([1, 2]),
  };
}

export function mlmBatch(): Batch {
  const b = classBatch();
  const labels = new Int32Array(b.size * b.seqLen).fill(-100);
  labels[1] = 5;
  labels[4] = 9;
  labels[8] = 5; // same token twice: the tied embedding gradient must sum both.
  return { ...b, labels };
}
