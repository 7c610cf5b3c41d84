/**
 * What `npm run bench` measures: the two model sizes, the modes, and the case names (`tiny-train-wasm`, ...)
 * shared by the orchestrator (run.ts), the child that runs one case (case.ts) and the profiler (profile.ts).
 */
import type { Batch } from '../trainer/data/batch';
import type { BertConfig } from '../common/modelConfig';
import { BERT_BASE_UNCASED } from '../common/modelConfig';
import { mulberry32 } from '../common/random';

export type ModelName = 'tiny' | 'mini' | 'base';
export type Mode = 'train' | 'infer';
export type BenchBackend = 'wasm' | 'cpu' | 'webgpu';

/**
 * google/bert_uncased_L-2_H-128_A-2 and L-4_H-256_A-4 (the sizes of prajjwal1/bert-tiny and bert-mini), and
 * bert-base-uncased itself (for GPUs: bench/gpu.sh; it does not fit the WASM heap at batch 32 × 128).
 */
export const BENCH_MODELS: Record<ModelName, BertConfig> = {
  tiny: {
    ...BERT_BASE_UNCASED,
    hidden_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 512,
  },
  mini: {
    ...BERT_BASE_UNCASED,
    hidden_size: 256,
    num_hidden_layers: 4,
    num_attention_heads: 4,
    intermediate_size: 1024,
  },
  base: { ...BERT_BASE_UNCASED },
};

export interface CaseSpec {
  model: ModelName;
  mode: Mode;
  backend: BenchBackend;
}

export function caseName(c: CaseSpec): string {
  return `${c.model}-${c.mode}-${c.backend}`;
}

export function parseCaseName(name: string): CaseSpec {
  const m = /^(tiny|mini|base)-(train|infer)-(wasm|cpu|webgpu)$/.exec(name);
  if (!m) {
    const want = '<tiny|mini|base>-<train|infer>-<wasm|cpu|webgpu>';
    throw new Error(`unknown case '${name}': expected ${want}, e.g. tiny-train-wasm`);
  }
  return { model: m[1] as ModelName, mode: m[2] as Mode, backend: m[3] as BenchBackend };
}

/**
 * A full-length classification batch (no padding) with ids drawn uniformly from [1, vocab), as the PyTorch
 * reference draws them: the work per step depends only on the shapes, so both engines do the same FLOPs.
 */
export function syntheticBatch(config: BertConfig, size: number, seqLen: number, seed = 1): Batch {
  const rng = mulberry32(seed);
  const n = size * seqLen;
  const inputIds = new Int32Array(n);
  for (let i = 0; i < n; i++) inputIds[i] = 1 + Math.floor(rng() * (config.vocab_size - 1));
  const labels = new Int32Array(size);
  for (let i = 0; i < size; i++) labels[i] = Math.floor(rng() * 2);
  return { size, seqLen, inputIds, attentionMask: new Int32Array(n).fill(1), tokenTypeIds: new Int32Array(n), labels };
}
