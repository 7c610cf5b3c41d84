/**
 * GPU failures as user errors. WebGPU reports an out-of-memory or a lost device asynchronously (an uncaptured
 * error event, a resolved `device.lost`), and tfjs sometimes throws its own text for the same events. Either way
 * the run must end with what to lower, never with `[internal]`; the checkpoints already written stay as they are
 * (they are complete folders, renamed into place).
 */
import { FineTuneError } from '../../common/errors';
import { takeGpuFault } from './webgpuBackend';
import type { GpuFault } from './webgpuBackend';

export interface FaultContext {
  batchSize: number;
  maxLength: number;
  /**
   * The backend the work runs on: a thrown error is read as a GPU fault only on webgpu (or when not said), so
   * that a WebAssembly out-of-memory is not reported as the GPU's (trainer/engine/outOfMemory.ts reports it).
   */
  backend?: string;
}

const OOM =
  /out of memory|OutOfMemory|allocation failed|Not enough memory|max buffer size|maxBufferSize|maxStorageBuffer/i;
const LOST = /device (was )?lost|Device is lost|DeviceLost|GPUDevice.*destroyed/i;

/** Classifies a thrown error's text as a GPU fault, or null when it is not one. */
export function faultFromError(e: unknown): GpuFault | null {
  const message = e instanceof Error ? e.message : String(e);
  if (OOM.test(message)) return { kind: 'out-of-memory', message };
  if (LOST.test(message)) return { kind: 'device-lost', message };
  return null;
}

export function gpuFaultError(f: GpuFault, c: FaultContext): FineTuneError {
  const sizes = `batch size ${c.batchSize}, max_length ${c.maxLength}`;
  const lower =
    `Lower per_device_train_batch_size (and raise gradient_accumulation_steps to keep the effective batch), ` +
    `or lower max_length; a smaller model (fewer layers or a smaller hidden_size) needs less GPU memory too.`;
  if (f.kind === 'out-of-memory') {
    return new FineTuneError('gpu-out-of-memory', `The GPU ran out of memory at ${sizes}.`, {
      detail: f.message,
      fix: lower,
    });
  }
  if (f.kind === 'device-lost') {
    return new FineTuneError('gpu-device-lost', `The GPU device was lost at ${sizes} (driver reset or timeout).`, {
      detail: f.message,
      fix: `${lower} Resume from the last checkpoint; if it happens again, update the GPU driver or use backend: wasm.`,
    });
  }
  return new FineTuneError('gpu-error', `The GPU rejected a computation at ${sizes}.`, {
    detail: f.message,
    fix: 'Use backend: wasm for this run and report the detail as a bug: the webgpu backend should not do this.',
  });
}

/**
 * Runs one unit of GPU work (a training step, an evaluation) and turns a GPU fault, thrown or reported
 * asynchronously while it ran, into a FineTuneError naming the batch size and max_length.
 */
export async function withGpuFaults<T>(c: FaultContext, work: () => Promise<T>): Promise<T> {
  let out: T;
  try {
    out = await work();
  } catch (e) {
    const f = takeGpuFault() ?? (c.backend === undefined || c.backend === 'webgpu' ? faultFromError(e) : null);
    throw f && !(e instanceof FineTuneError) ? gpuFaultError(f, c) : e;
  }
  const f = takeGpuFault();
  if (f) throw gpuFaultError(f, c);
  return out;
}
