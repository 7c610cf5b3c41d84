/**
 * The tfjs `webgpu` backend on a Dawn adapter chosen here. tfjs-backend-webgpu registers its own backend only if
 * `navigator.gpu` exists when its module is evaluated, and then takes whatever adapter the browser gives. We
 * install the WebGPU globals first (so the module and its kernels see them), then register the backend
 * ourselves on the adapter we inspected, with a device that asks for the adapter's full buffer limits and
 * reports a lost device or an out-of-memory instead of failing silently.
 */
import * as tf from '@tensorflow/tfjs-core';
import { adapterInfo, summarize } from './dawn';
import type { AdapterSummary, DawnModule } from './dawn';

export interface GpuFault {
  kind: 'out-of-memory' | 'device-lost' | 'validation';
  message: string;
}

let lastFault: GpuFault | null = null;

/** The first GPU fault seen since the last call (an OOM, a lost device, a rejected kernel), or null. */
export function takeGpuFault(): GpuFault | null {
  const f = lastFault;
  lastFault = null;
  return f;
}

/** Sets navigator.gpu and the GPU* constants (GPUBufferUsage, GPUMapMode, …) that tfjs-backend-webgpu uses. */
function installGlobals(dawn: DawnModule, gpu: GPU): void {
  const g = globalThis as Record<string, unknown>;
  for (const [k, v] of Object.entries(dawn.globals)) if (!(k in g)) g[k] = v;
  // Node 21+ defines a read-only `navigator`; add `gpu` to it instead of replacing it.
  const nav = (g['navigator'] ?? {}) as Record<string, unknown>;
  Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, enumerable: true, writable: true });
  if (g['navigator'] !== nav) Object.defineProperty(g, 'navigator', { value: nav, configurable: true, writable: true });
}

async function createDevice(adapter: GPUAdapter): Promise<GPUDevice> {
  const l = adapter.limits;
  const features: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
  const device = await adapter.requestDevice({
    requiredFeatures: features,
    requiredLimits: {
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    },
  });
  void device.lost.then((info) => {
    if (info.reason !== 'destroyed') lastFault ??= { kind: 'device-lost', message: info.message || 'device lost' };
  });
  device.addEventListener('uncapturederror', (ev: Event) => {
    const err = (ev as GPUUncapturedErrorEvent).error;
    const kind = err.constructor.name === 'GPUOutOfMemoryError' ? 'out-of-memory' : 'validation';
    lastFault ??= { kind, message: err.message };
  });
  return device;
}

/**
 * Makes `webgpu` the active tfjs backend on `adapter`. Returns the adapter's summary; throws if the backend
 * does not initialise.
 */
export async function startWebGpuBackend(dawn: DawnModule, gpu: GPU, adapter: GPUAdapter): Promise<AdapterSummary> {
  // One device per process: a second selection (tests switch backends) goes back to the running one.
  if (running && (await tf.setBackend('webgpu'))) return running;
  installGlobals(dawn, gpu);
  const webgpu = await import('@tensorflow/tfjs-backend-webgpu');
  // The package registered its own factory if navigator.gpu was already there; ours picks the adapter.
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  lastFault = null;
  tf.registerBackend(
    'webgpu',
    async () => new webgpu.WebGPUBackend(await createDevice(adapter), adapterInfo(adapter)),
    3,
  );
  if (!(await tf.setBackend('webgpu'))) throw new Error('the tfjs webgpu backend did not initialise');
  running = summarize(adapter);
  return running;
}

let running: AdapterSummary | null = null;
