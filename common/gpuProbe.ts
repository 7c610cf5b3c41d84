/**
 * What `dist/gpuProbe.js` (trainer/gpu/probe.ts) prints for the "Check training environment" command: the
 * WebGPU adapters Dawn sees and the one a run would get. A separate process, so that loading the native GPU
 * driver can never take the extension host down. Declared once here; the extension checks it when it reads it.
 */
import { arr, nullable, obj, opt, str } from './guard';
import type { Infer } from './guard';
import { gpuAdapterInfo } from './protocol';

export const gpuProbeResult = obj({
  /** Every adapter by Dawn's name and graphics API, e.g. `NVIDIA GeForce RTX 4090 (vulkan)`. */
  adapters: arr(str),
  /** The adapter a run with `finetune.gpu` as set would use, or null when there is none. */
  chosen: nullable(gpuAdapterInfo),
  /** Why there is no adapter (dawn.node did not load, no driver), when there is none. */
  error: opt(str),
});
export type GpuProbeResult = Infer<typeof gpuProbeResult>;

/** Parses the probe's stdout (its last non-empty line), or returns why it is not a probe result. */
export function parseGpuProbe(stdout: string): { ok: true; value: GpuProbeResult } | { ok: false; error: string } {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { ok: false, error: `the GPU probe printed no result (${line.slice(0, 200) || 'nothing'})` };
  }
  const problem = gpuProbeResult.check(v);
  return problem
    ? { ok: false, error: `the GPU probe's result is malformed: ${problem}` }
    : { ok: true, value: v as GpuProbeResult };
}
