/**
 * Dawn (Chromium's WebGPU implementation) through its Node binding, `dawn.node` from the npm `webgpu` package.
 * The binary is loaded directly rather than through the package's ESM entry: the trainer is a CommonJS bundle,
 * and the packaged extension carries only its own platform's `dawn.node` next to the bundle (dist/dawn/).
 * Nothing here imports tfjs: the extension's environment check uses it too.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';

/** The subset of the WebGPU API this project uses; the DOM lib's GPU types describe the objects in full. */
export interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

/** What a user (and the run log) needs to know about an adapter. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  description: string;
  /** Dawn's adapter name, which `finetune.gpu` matches against. */
  device: string;
  /** A CPU rasteriser (llvmpipe, SwiftShader, WARP): correct but no faster than the WASM backend. */
  software: boolean;
  /** The largest single GPU buffer, in bytes: bounds the largest tensor (the word embeddings, attention scores). */
  maxBufferSize: number;
  /** The largest buffer one kernel may bind, in bytes: bounds the largest tensor a kernel reads or writes. */
  maxStorageBufferBindingSize: number;
}

const requireFn: NodeJS.Require =
  typeof require === 'function' ? require : createRequire(path.join(process.cwd(), 'noop.js'));

/** `dist/<platform>-<arch>` folder name used by the webgpu package (one universal binary on macOS). */
export function dawnPlatformDir(platform = process.platform, arch = process.arch): string {
  return `${platform}-${platform === 'darwin' ? 'universal' : arch}`;
}

/**
 * Where `dawn.node` is: `<bundleDir>/dawn/<platform>/` in the packaged extension, else the webgpu package's own
 * copy. Returns null when neither exists (an unsupported platform, or a package without this platform's binary).
 */
export function findDawnBinary(bundleDir?: string): string | null {
  const candidates: string[] = [];
  if (bundleDir) candidates.push(path.join(bundleDir, 'dawn', dawnPlatformDir(), 'dawn.node'));
  try {
    const pkg = path.dirname(requireFn.resolve('webgpu/package.json'));
    candidates.push(path.join(pkg, 'dist', dawnPlatformDir(), 'dawn.node'));
  } catch {
    // Not installed (or not resolvable from a bundle): the bundled copy is the only candidate.
  }
  return candidates.find((c) => fs.existsSync(c)) ?? null;
}

let loaded: DawnModule | null = null;

/** Loads dawn.node once per process; throws with the loader's message when the binary cannot be loaded. */
export function loadDawn(bundleDir?: string): DawnModule {
  if (loaded) return loaded;
  const file = findDawnBinary(bundleDir);
  if (!file) throw new Error(`no WebGPU binary (dawn.node) for ${dawnPlatformDir()}`);
  ensureRuntimeDir();
  loaded = requireFn(file) as DawnModule;
  return loaded;
}

/**
 * Dawn's Vulkan backend wants XDG_RUNTIME_DIR (a desktop session sets it; a CI runner or a service may not).
 * A private temporary folder is enough.
 */
export function ensureRuntimeDir(): void {
  if (process.platform !== 'linux' || process.env['XDG_RUNTIME_DIR']) return;
  process.env['XDG_RUNTIME_DIR'] = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-xdg-'));
}

/** Flags for `create`: Vulkan on Linux (Dawn's OpenGL path has no compute adapter), an adapter name if picked. */
export function dawnFlags(adapterName?: string): string[] {
  const flags = process.platform === 'linux' ? ['backend=vulkan'] : [];
  if (adapterName && adapterName !== 'auto') flags.push(`adapter=${adapterName}`);
  return flags;
}

/** CPU rasterisers, by what they report: llvmpipe/lavapipe, SwiftShader, Microsoft Basic Render Driver (WARP). */
const SOFTWARE = /llvmpipe|lavapipe|swiftshader|softpipe|basic render|warp/i;

export function isSoftwareAdapter(info: GPUAdapterInfo, isFallback?: boolean): boolean {
  const fallback = isFallback ?? (info as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  if (fallback === true || info.architecture === 'software' || info.architecture === 'cpu') return true;
  return SOFTWARE.test(`${info.vendor} ${info.architecture} ${info.description} ${info.device}`);
}

/** `GPUAdapter.info` (newer than TypeScript's DOM typings). */
export function adapterInfo(adapter: GPUAdapter): GPUAdapterInfo {
  return (adapter as unknown as { info: GPUAdapterInfo }).info;
}

export function summarize(adapter: GPUAdapter): AdapterSummary {
  const info = adapterInfo(adapter);
  const fallback = (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return {
    vendor: info.vendor || 'unknown vendor',
    architecture: info.architecture || 'unknown architecture',
    description: info.description || info.device || 'no description',
    device: info.device,
    software: isSoftwareAdapter(info, fallback),
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
  };
}

/** One line for logs and `hello`: "GPU NVIDIA GeForce RTX 3090 (vendor nvidia, architecture ampere); …". */
export function describeAdapter(a: AdapterSummary): string {
  const gib = (n: number) => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${Math.round(n / 2 ** 20)} MiB`);
  const kind = a.software ? 'software adapter' : 'GPU';
  return (
    `${kind} ${a.description} (vendor ${a.vendor}, architecture ${a.architecture}); ` +
    `maxBufferSize ${gib(a.maxBufferSize)}, maxStorageBufferBindingSize ${gib(a.maxStorageBufferBindingSize)}`
  );
}

export interface AdapterRequest {
  /** `auto`, or a substring of the adapter's name (the `finetune.gpu` setting). */
  adapterName?: string;
  bundleDir?: string;
}

/** The adapter WebGPU would use, or null where Dawn has none (no driver). Throws if dawn.node cannot load. */
export async function requestAdapter(req: AdapterRequest = {}): Promise<GPUAdapter | null> {
  const dawn = loadDawn(req.bundleDir);
  const gpu = dawn.create(dawnFlags(req.adapterName));
  return gpu.requestAdapter({ powerPreference: 'high-performance' });
}

/**
 * Every adapter Dawn can see, by name. WebGPU has no enumeration API; Dawn lists the adapters in the error it
 * gives for a name that matches none, so ask for one that cannot exist.
 */
export async function listAdapterNames(bundleDir?: string): Promise<string[]> {
  const dawn = loadDawn(bundleDir);
  const gpu = dawn.create(dawnFlags('\u0001no-such-adapter'));
  try {
    await gpu.requestAdapter();
    return [];
  } catch (e) {
    const text = e instanceof Error ? e.message : String(e);
    return [...text.matchAll(/\* backend: '([^']*)', name: '([^']*)'/g)].map((m) => `${m[2]} (${m[1]})`);
  }
}
