import * as path from 'node:path';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { patchWasmKernels } from './wasmKernels';
import { describeAdapter, dawnFlags, loadDawn, summarize } from './gpu/dawn';
import type { AdapterSummary } from './gpu/dawn';

export type BackendPreference = 'auto' | 'webgpu' | 'gpu' | 'node' | 'wasm' | 'cpu';
export type BackendName = 'webgpu' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendAttempt {
  backend: string;
  available: boolean;
  why: string;
}

export interface BackendChoice {
  name: BackendName;
  /** One sentence for the user: why this backend runs the training. */
  reason: string;
  /** Every backend considered, in order, with why it was or was not usable. */
  tried: BackendAttempt[];
  /** WASM only: the number of threads the backend runs with. */
  threads?: number;
  /** WebGPU only: the adapter the backend runs on. */
  adapter?: AdapterSummary;
}

export interface SelectBackendOptions {
  /**
   * Folder holding the tfjs-backend-wasm `.wasm` binaries. When the trainer is bundled into dist/, esbuild
   * leaves the binaries behind, so the build copies them next to the bundle and passes that folder here.
   */
  wasmDir?: string;
  /** Folder of the bundle, holding dawn/<platform>/dawn.node in the packaged extension. */
  bundleDir?: string;
  /** `auto` or a substring of a WebGPU adapter's name (the `finetune.gpu` setting, FINETUNE_GPU). */
  gpu?: string;
}

/** Raised for an explicit preference that cannot be honoured; `tried` says why. */
export class BackendUnavailableError extends Error {
  constructor(
    message: string,
    readonly tried: BackendAttempt[],
  ) {
    super(message);
    this.name = 'BackendUnavailableError';
  }
}

// `require` exists when the trainer runs as CommonJS (the esbuild bundle, tsx); createRequire covers ESM.
const requireFn: NodeJS.Require =
  typeof require === 'function' ? require : createRequire(path.join(process.cwd(), 'noop.js'));

/**
 * Loads an optional native package through a variable, so that esbuild does not try to bundle (or fail on)
 * packages the user may not have installed.
 */
function loadOptional(name: string): unknown {
  const id = name;
  return requireFn(id);
}

/** Turns a native-addon load failure into something a user can act on. */
export function explainLoadError(pkg: string, err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string } | null)?.code;
  if (code === 'MODULE_NOT_FOUND' && msg.includes(pkg)) return `${pkg} not installed`;
  const lib = /(lib[\w.+-]+\.so(?:\.[\d.]+)?|[\w.-]+\.dll|lib[\w.+-]+\.dylib)/.exec(msg);
  if (lib) {
    const what = /cud|cublas|cudnn|cufft|curand|cusolver|cusparse/i.test(lib[1] ?? '') ? 'CUDA library' : 'library';
    return `${what} not found: ${lib[1]}`;
  }
  return `${pkg} failed to load: ${msg.split('\n')[0]}`;
}

async function tryNative(pkg: string, backendName: string): Promise<BackendAttempt> {
  try {
    loadOptional(pkg);
  } catch (err) {
    return { backend: pkg, available: false, why: explainLoadError(pkg, err) };
  }
  try {
    const ok = await tf.setBackend(backendName);
    if (!ok) return { backend: pkg, available: false, why: `${pkg} loaded but its backend did not initialise` };
    return { backend: pkg, available: true, why: `${pkg} loaded` };
  } catch (err) {
    return { backend: pkg, available: false, why: explainLoadError(pkg, err) };
  }
}

/**
 * tfjs-node-gpu falls back to the CPU without a word when TensorFlow finds no CUDA device (no driver, a CUDA
 * version it was not built for). Its backend says which it got; a run on the CPU must not be reported as CUDA.
 */
export function nativeGpuVerdict(usingGpu: boolean | undefined): { cuda: boolean; why: string } {
  if (usingGpu === true) return { cuda: true, why: 'tfjs-node-gpu loaded; TensorFlow runs on a CUDA device' };
  return {
    cuda: false,
    why:
      'tfjs-node-gpu loaded but TensorFlow found no CUDA device (it needs CUDA 11.2 and cuDNN 8.1); ' +
      'it runs on the CPU',
  };
}

async function tryNativeGpu(): Promise<{ attempt: BackendAttempt; cuda: boolean }> {
  const attempt = await tryNative('@tensorflow/tfjs-node-gpu', 'tensorflow');
  if (!attempt.available) return { attempt, cuda: false };
  const v = nativeGpuVerdict((tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice);
  return { attempt: { ...attempt, why: v.why }, cuda: v.cuda };
}

/**
 * WebGPU through Dawn. `auto` takes only a hardware adapter: a software one (llvmpipe, SwiftShader) computes on
 * the CPU, slower than the WASM backend. An explicit `webgpu` takes whatever adapter there is.
 */
async function tryWebGpu(
  opts: SelectBackendOptions,
  acceptSoftware: boolean,
): Promise<{ attempt: BackendAttempt; adapter?: AdapterSummary }> {
  const pkg = 'webgpu';
  let dawn;
  try {
    dawn = loadDawn(opts.bundleDir);
  } catch (err) {
    return { attempt: { backend: pkg, available: false, why: explainLoadError('webgpu (dawn.node)', err) } };
  }
  const wanted = opts.gpu && opts.gpu !== 'auto' ? ` named like '${opts.gpu}'` : '';
  try {
    const gpu = dawn.create(dawnFlags(opts.gpu));
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { attempt: { backend: pkg, available: false, why: noAdapterWhy() } };
    const summary = summarize(adapter);
    if (summary.software && !acceptSoftware) {
      const why = `only a software adapter${wanted} (${summary.description}), slower than WebAssembly; skipped`;
      return { attempt: { backend: pkg, available: false, why }, adapter: summary };
    }
    const { startWebGpuBackend } = await import('./gpu/webgpuBackend');
    const started = await startWebGpuBackend(dawn, gpu, adapter);
    return { attempt: { backend: pkg, available: true, why: describeAdapter(started) }, adapter: started };
  } catch (err) {
    const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    return { attempt: { backend: pkg, available: false, why: `no WebGPU adapter${wanted}: ${msg}` } };
  }
}

/** What is missing where Dawn finds no adapter at all, per platform. */
export function noAdapterWhy(platform = process.platform): string {
  if (platform === 'linux') {
    const install = "install your GPU vendor's Vulkan driver, or Mesa's mesa-vulkan-drivers";
    return `no WebGPU adapter: no Vulkan driver found (${install})`;
  }
  if (platform === 'win32') return 'no WebGPU adapter: no Direct3D 12 capable GPU driver found';
  if (platform === 'darwin') return 'no WebGPU adapter: Metal found no GPU';
  return `no WebGPU adapter on ${platform}`;
}

/** Where the running WASM backend found its binaries, so that worker threads start the same build. */
let wasmDirInUse: string | undefined;

/**
 * How a worker thread gets the backend this thread runs, or null where workers would not help: the native
 * TensorFlow backends already use every core, and a worker cannot share this thread's GPU.
 */
export function backendForWorkers(): { preference: 'wasm' | 'cpu'; opts: SelectBackendOptions } | null {
  const name = tf.getBackend();
  if (name === 'wasm') return { preference: 'wasm', opts: wasmDirInUse ? { wasmDir: wasmDirInUse } : {} };
  if (name === 'cpu') return { preference: 'cpu', opts: {} };
  return null;
}

function defaultWasmDir(): string {
  return path.dirname(requireFn.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
}

async function tryWasm(opts: SelectBackendOptions): Promise<{ attempt: BackendAttempt; threads?: number }> {
  const pkg = '@tensorflow/tfjs-backend-wasm';
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch (err) {
    return { attempt: { backend: pkg, available: false, why: explainLoadError(pkg, err) } };
  }
  try {
    const dir = opts.wasmDir ?? defaultWasmDir();
    wasmDirInUse = dir;
    // setWasmPaths takes a prefix, so it needs the trailing separator.
    wasm.setWasmPaths(dir.endsWith(path.sep) || dir.endsWith('/') ? dir : dir + path.sep);
    const ok = await tf.setBackend('wasm');
    if (!ok) return { attempt: { backend: pkg, available: false, why: 'wasm backend did not initialise' } };
    // Slice/SplitV/Unpack/GatherV2/Identity without whole-input copies (wasmKernels.ts): the model relies on them.
    patchWasmKernels();
    const threads = wasm.getThreadsCount();
    // tfjs-backend-wasm 4.x reports WASM_HAS_MULTITHREAD_SUPPORT=false under Node (tfjs issue #3830: the
    // pthread workers are browser Blob workers), so in the trainer subprocess this is single-threaded.
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const why =
      threads > 1
        ? `multi-threading on (${threads} threads)${simd ? ', SIMD' : ''}`
        : `single-threaded${simd ? ' with SIMD' : ''}: tfjs-backend-wasm does not support threads under Node`;
    return { attempt: { backend: pkg, available: true, why }, threads };
  } catch (err) {
    const msg = (err as { message?: string } | null)?.message ?? String(err);
    return { attempt: { backend: pkg, available: false, why: `wasm backend failed: ${msg}` } };
  }
}

async function tryCpu(): Promise<BackendAttempt> {
  await import('@tensorflow/tfjs-backend-cpu');
  const ok = await tf.setBackend('cpu');
  return { backend: 'cpu', available: ok, why: ok ? 'pure JavaScript, always available' : 'cpu backend failed' };
}

/**
 * Picks and activates the tfjs backend. 'auto' walks webgpu (hardware adapters only) > tfjs-node-gpu >
 * tfjs-node > wasm > cpu and records why
 * each was skipped; an explicit preference that cannot be honoured throws instead of falling back silently,
 * because the user asked for it and a 50x slower run would be a surprise.
 */
export async function selectBackend(pref: BackendPreference, opts: SelectBackendOptions = {}): Promise<BackendChoice> {
  const tried: BackendAttempt[] = [];
  const want = (p: BackendPreference) => pref === 'auto' || pref === p;
  const fail = (label: string): never => {
    const last = tried[tried.length - 1];
    throw new BackendUnavailableError(`Backend '${label}' is not available: ${last?.why ?? 'unknown reason'}`, tried);
  };

  if (want('webgpu')) {
    const { attempt, adapter } = await tryWebGpu(opts, pref === 'webgpu');
    tried.push(attempt);
    if (attempt.available && adapter) {
      const reason = `WebGPU${pref === 'webgpu' ? ' as requested' : ''} on ${describeAdapter(adapter)}`;
      return { name: 'webgpu', reason, tried, adapter };
    }
    if (pref === 'webgpu') fail('webgpu');
  }
  if (want('gpu')) {
    const { attempt: a, cuda } = await tryNativeGpu();
    tried.push(a);
    if (a.available && cuda) return { name: 'tensorflow-gpu', reason: 'TensorFlow with CUDA (tfjs-node-gpu)', tried };
    if (a.available) return { name: 'tensorflow', reason: `native TensorFlow on the CPU: ${a.why}`, tried };
    if (pref === 'gpu') fail('gpu');
  }
  if (want('node')) {
    const a = await tryNative('@tensorflow/tfjs-node', 'tensorflow');
    tried.push(a);
    if (a.available) return { name: 'tensorflow', reason: 'native TensorFlow on the CPU (tfjs-node)', tried };
    if (pref === 'node') fail('node');
  }
  if (want('wasm')) {
    const { attempt, threads } = await tryWasm(opts);
    tried.push(attempt);
    if (attempt.available) {
      const reason =
        pref === 'wasm'
          ? `WebAssembly as requested; ${attempt.why}`
          : `no native TensorFlow; WebAssembly, ${attempt.why}`;
      return { name: 'wasm', reason, tried, ...(threads !== undefined ? { threads } : {}) };
    }
    if (pref === 'wasm') fail('wasm');
  }
  const a = await tryCpu();
  tried.push(a);
  if (!a.available) fail('cpu');
  const reason =
    pref === 'cpu'
      ? 'plain JavaScript CPU backend as requested'
      : 'no faster backend available; plain JavaScript CPU backend';
  return { name: 'cpu', reason, tried };
}
