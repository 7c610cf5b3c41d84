/**
 * Messages between the trainer's thread and its inference workers (predictPool.ts, predictWorker.ts). Both ends
 * are the same build of the trainer, in one process, so these are not checked like the host protocol is.
 */
import type { Batch } from '../data/batch';
import type { BertConfig, BertHead } from '../model/config';

export type ToWorker =
  | { type: 'init'; id: number; preference: 'wasm' | 'cpu'; wasmDir?: string; config: BertConfig; head: BertHead; numLabels: number }
  /** Parameters in memory layout (Linear weights [in, out]), keyed by Hugging Face name. */
  | { type: 'weights'; id: number; names: string[]; shapes: number[][]; data: Float32Array[] }
  | { type: 'predict'; id: number; batch: Batch };

export type FromWorker =
  | { type: 'done'; id: number }
  | { type: 'prediction'; id: number; logits: Float32Array; shape: [number, number] }
  | { type: 'error'; id: number; message: string };
