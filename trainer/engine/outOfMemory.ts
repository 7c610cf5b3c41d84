/**
 * An out-of-memory during a run as the user's error, with the same advice as the check before the run
 * (common/memoryCheck.ts) instead of `memory access out of bounds [internal]`. The estimate said the run fits
 * (or it would not have started), so the advice halves the batch rather than quoting the estimate again.
 */
import type { FineTuneConfig } from '../../common/config/schema';
import { FineTuneError } from '../../common/errors';
import type { BackendInfo } from '../../common/protocol';

/**
 * How running out of memory shows: a WASM allocation past the heap's 4 GiB (`memory access out of bounds`,
 * Emscripten's `Cannot enlarge memory` / `Aborted(OOM)`), V8 refusing an ArrayBuffer, TensorFlow's and the
 * GPU's own words.
 */
const OUT_OF_MEMORY =
  /memory access out of bounds|Array buffer allocation failed|Cannot enlarge memory|Aborted\(OOM\)|out of memory|OutOfMemory|OOM when allocating|failed to allocate/i;

const BACKEND_NAMES: Readonly<Record<BackendInfo['name'], string>> = {
  wasm: 'WebAssembly',
  webgpu: 'WebGPU',
  tensorflow: 'TensorFlow',
  'tensorflow-gpu': 'TensorFlow GPU',
  cpu: 'JavaScript',
};

export function isOutOfMemory(e: unknown): boolean {
  if (e instanceof FineTuneError) return false;
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return OUT_OF_MEMORY.test(text);
}

/** The error to end the run with when `e` is an out-of-memory, else null. */
export function outOfMemoryError(e: unknown, c: FineTuneConfig, backend: BackendInfo): FineTuneError | null {
  if (!isOutOfMemory(e)) return null;
  const B = c.training.per_device_train_batch_size;
  const acc = c.training.gradient_accumulation_steps;
  const S = c.data.max_length;
  const lower =
    B > 1
      ? `Set per_device_train_batch_size to ${Math.floor(B / 2)} (with gradient_accumulation_steps ${acc * 2} to ` +
        `keep the effective batch of ${B * acc}) or lower max_length`
      : `Lower max_length, freeze the lower layers, or use a smaller model`;
  const hint = backend.name === 'wasm' ? ' A GPU (backend: webgpu) has no 4 GiB ceiling.' : '';
  return new FineTuneError(
    'out-of-memory',
    `The ${BACKEND_NAMES[backend.name]} backend ran out of memory while training at per_device_train_batch_size ` +
      `${B} and max_length ${S}.`,
    {
      detail: e instanceof Error ? e.message : String(e),
      fix: `${lower}, then resume from the last checkpoint.${hint}`,
      cause: e,
    },
  );
}
