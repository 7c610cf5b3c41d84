/**
 * Whether a training step fits the backend before the first step runs, so that a model too large for the
 * machine fails in seconds with what to lower, not after minutes with `memory access out of bounds [internal]`.
 * - WASM: every tensor lives in one WebAssembly heap of at most 4 GiB. The estimate (common/memoryEstimate.ts)
 *   leaves kernel temporaries out, so a run it puts over the ceiling cannot fit.
 * - WebGPU: the API reports no total GPU memory, but one kernel can bind at most maxStorageBufferBindingSize
 *   bytes and one buffer holds at most maxBufferSize: the largest tensor of the step must fit both. A run that
 *   still exhausts the GPU's memory is caught when it happens (faults.ts).
 */
import { FineTuneError } from '../../common/errors';
import { estimateTrainingMemory, formatBytes, WASM_HEAP_BYTES } from '../../common/memoryEstimate';
import type { MemoryInput } from '../../common/memoryEstimate';
import type { BackendInfo } from '../../common/protocol';

export interface StepShape extends MemoryInput {
  /** masked-lm: the fraction of positions scored (their logits span the whole vocabulary). */
  mlmProbability?: number;
}

/** The step's largest tensors by name, in bytes. */
export function largestTensors(m: StepShape): { what: string; bytes: number }[] {
  const { batchSize: B, seqLength: S, hiddenSize: H, intermediateSize: I, numHeads: a, vocabSize: V } = m;
  const out = [
    { what: `the word embeddings [${V}, ${H}]`, bytes: 4 * V * H },
    { what: `the attention scores [${B}, ${a}, ${S}, ${S}]`, bytes: 4 * B * a * S * S },
    { what: `the feed-forward activations [${B * S}, ${I}]`, bytes: 4 * B * S * I },
  ];
  if (m.head === 'masked-lm') {
    const rows = Math.ceil(B * S * (m.mlmProbability ?? 0.15));
    out.push({ what: `the masked-LM logits [about ${rows}, ${V}]`, bytes: 4 * rows * V });
  }
  return out.sort((x, y) => y.bytes - x.bytes);
}

const LOWER =
  'Lower per_device_train_batch_size (raise gradient_accumulation_steps to keep the effective batch) or ' +
  'max_length, or freeze the lower layers.';

/** Null when the step fits what the backend can hold, else the error to end the run with. */
export function checkStepFits(m: StepShape, backend: BackendInfo, threads = 1): FineTuneError | null {
  const sizes = `batch size ${m.batchSize}, max_length ${m.seqLength}`;
  if (backend.name === 'wasm') {
    // Worker threads each hold a shard of the batch in a heap of their own; this thread holds the optimizer too.
    const perThread = { ...m, batchSize: Math.ceil(m.batchSize / Math.max(1, threads)) };
    const e = estimateTrainingMemory(perThread);
    if (e.total <= WASM_HEAP_BYTES) return null;
    return new FineTuneError(
      'memory-exceeds-backend',
      `One training step at ${sizes} needs about ${formatBytes(e.total)}, over the WebAssembly backend's ` +
        `${formatBytes(WASM_HEAP_BYTES)} heap.`,
      {
        detail:
          `weights ${formatBytes(e.weights)}, gradients ${formatBytes(e.gradients)}, optimizer ` +
          `${formatBytes(e.optimizer)}, activations ${formatBytes(e.activations)}`,
        fix: `${LOWER} A GPU (backend: webgpu) has no such ceiling.`,
      },
    );
  }
  const a = backend.adapter;
  if (backend.name !== 'webgpu' || !a) return null;
  const limit = Math.min(a.maxStorageBufferBindingSize, a.maxBufferSize);
  const big = largestTensors(m)[0]!;
  if (big.bytes <= limit) return null;
  return new FineTuneError(
    'memory-exceeds-backend',
    `At ${sizes}, ${big.what} take ${formatBytes(big.bytes)}, more than the GPU (${a.description}) lets one ` +
      `kernel use (maxStorageBufferBindingSize ${formatBytes(a.maxStorageBufferBindingSize)}).`,
    { fix: LOWER },
  );
}
