/**
 * Messages between the trainer's thread and its replica workers (replicas.ts, replicaWorker.ts). Both ends are
 * the same build of the trainer, in one process, so these are not checked like the host protocol is.
 */
import type { Batch } from '../data/batch';
import type { BertConfig, BertHead } from '../../common/modelConfig';

/** Named float32 arrays: parameters in memory layout (Linear weights [in, out]), or their gradients. */
export interface Tensors {
  names: string[];
  shapes: number[][];
  data: Float32Array[];
}

export type ToWorker =
  | {
      type: 'init';
      id: number;
      preference: 'wasm' | 'cpu';
      wasmDir?: string;
      config: BertConfig;
      head: BertHead;
      numLabels: number;
    }
  | ({ type: 'weights'; id: number } & Tensors)
  | { type: 'predict'; id: number; batch: Batch }
  /** Loss and gradients of the named parameters on a shard whose first example is `exampleOffset` of the batch. */
  | { type: 'grads'; id: number; batch: Batch; seed: number; exampleOffset: number; trainable: string[] };

export type FromWorker =
  | { type: 'done'; id: number }
  | { type: 'prediction'; id: number; logits: Float32Array; shape: [number, number] }
  | ({ type: 'grads'; id: number; loss: number } & Tensors)
  | { type: 'error'; id: number; message: string };
