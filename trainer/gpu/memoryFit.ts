/**
 * The ceilings of the backend a run trains on, for the check before the first step (common/memoryCheck.ts), so
 * that a run too large for the machine fails in seconds with what to lower, not after minutes with
 * `memory access out of bounds [internal]`:
 * - WASM: every tensor of a thread lives in its WebAssembly heap, at most 4 GiB, this thread's and each worker's.
 * - WebGPU: one buffer holds at most maxBufferSize bytes and a kernel binds at most maxStorageBufferBindingSize:
 *   the step's largest tensor must fit both. WebGPU reports no total GPU memory: FINETUNE_GPU_MEMORY gives the
 *   budget (`8GiB`), and a software adapter's memory is the machine's. A run that still exhausts the GPU is
 *   caught when it happens (faults.ts).
 * - Every backend but a hardware GPU: the whole process against the machine's free memory, which
 *   FINETUNE_IGNORE_FREE_MEMORY=1 turns into a warning.
 */
import * as os from 'node:os';
import { freeMemoryCeiling, IGNORE_FREE_MEMORY_ENV, wasmCeilings } from '../../common/memoryCheck';
import type { Ceiling } from '../../common/memoryCheck';
import { formatBytes } from '../../common/memoryEstimate';
import type { BackendInfo } from '../../common/protocol';

/** The GPU memory budget for webgpu runs, e.g. `8GiB`, `7.5G` or a number of bytes. */
export const GPU_MEMORY_ENV = 'FINETUNE_GPU_MEMORY';

const UNITS: ReadonlyMap<string, number> = new Map([
  ['', 1],
  ['b', 1],
  ['k', 1024],
  ['kb', 1024],
  ['kib', 1024],
  ['m', 1024 ** 2],
  ['mb', 1024 ** 2],
  ['mib', 1024 ** 2],
  ['g', 1024 ** 3],
  ['gb', 1024 ** 3],
  ['gib', 1024 ** 3],
]);

/** `8GiB` → bytes; undefined for anything else. */
export function parseBytes(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS.get(m[2]!.toLowerCase()) : undefined;
  if (!m || unit === undefined) return undefined;
  const n = Number(m[1]) * unit;
  return n > 0 && Number.isFinite(n) ? Math.floor(n) : undefined;
}

/** Memory a new allocation can get: the cgroup's limit counts where there is one (a container). */
export function availableMemory(): number {
  const p = process as { availableMemory?: () => number };
  const available = typeof p.availableMemory === 'function' ? p.availableMemory() : 0;
  return available > 0 ? Math.min(available, os.freemem() || available) : os.freemem();
}

export interface BackendCeilings {
  ceilings: Ceiling[];
  /** What else the user can do, for the fix. */
  hint?: string;
  /** Said once in the run log when a ceiling is unknown (a GPU without FINETUNE_GPU_MEMORY). */
  note?: string;
}

export interface CeilingInputs {
  threads: number;
  env?: NodeJS.ProcessEnv;
  freeBytes?: number;
}

export function backendCeilings(backend: BackendInfo, i: CeilingInputs): BackendCeilings {
  const env = i.env ?? process.env;
  const free = freeMemoryCeiling(i.freeBytes ?? availableMemory(), env[IGNORE_FREE_MEMORY_ENV] === '1');
  if (backend.name === 'wasm') {
    return {
      ceilings: [...wasmCeilings(i.threads), free],
      hint: 'A GPU (backend: webgpu) or native TensorFlow (backend: node) has no 4 GiB ceiling.',
    };
  }
  const a = backend.adapter;
  if (backend.name !== 'webgpu' || !a) return { ceilings: [free] };
  const limit = Math.min(a.maxStorageBufferBindingSize, a.maxBufferSize);
  const buffer: Ceiling = {
    kind: 'buffer',
    bytes: limit,
    name: `what the GPU (${a.description}) lets one kernel bind (maxStorageBufferBindingSize ${formatBytes(limit)})`,
  };
  // A software adapter (llvmpipe) keeps its buffers in the machine's memory.
  if (a.software) return { ceilings: [buffer, { ...free, kind: 'heap' }] };
  const budget = parseBytes(env[GPU_MEMORY_ENV] ?? '');
  if (budget === undefined) {
    const note = `WebGPU does not report the GPU's memory: set ${GPU_MEMORY_ENV} (e.g. 8GiB) to check runs against it.`;
    return { ceilings: [buffer], note };
  }
  const device: Ceiling = {
    kind: 'heap',
    bytes: budget,
    name: `the GPU memory budget of ${formatBytes(budget)} (${GPU_MEMORY_ENV})`,
  };
  return { ceilings: [buffer, device] };
}
