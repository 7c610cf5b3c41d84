/**
 * "Check training environment": which TensorFlow.js backends can run here, and for the GPU what is missing and
 * how to install it. WebGPU (Dawn: Vulkan, Metal, Direct3D 12) runs on any vendor's GPU with its ordinary driver;
 * the adapters come from dist/gpuProbe.js, run in its own process so that a native driver fault cannot take the
 * extension host down. @tensorflow/tfjs-node-gpu 4.22 links against CUDA 11.2 and cuDNN 8.1 (libcudart.so.11.0,
 * libcudnn.so.8) and ships Linux x64 binaries only; a newer CUDA (12.x) does not satisfy it. The diagnosis is a
 * pure function of what the probes found, so it is tested without a GPU; `probeEnvironment` runs the probes.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { parseGpuProbe } from '../common/gpuProbe';
import type { GpuProbeResult } from '../common/gpuProbe';
import type { UserError } from '../common/errors';
import type { PythonProbe } from '../files/pythonProbe';
import { plural } from '../common/plural';

export interface EnvironmentProbe {
  platform: NodeJS.Platform;
  arch: string;
  nodeVersion: string;
  /** Resolved path of each optional package, or undefined when not installed. */
  packages: Record<'tfjs-node' | 'tfjs-node-gpu' | 'tfjs-backend-wasm', string | undefined>;
  /** The WASM binaries next to the trainer bundle (dist/wasm). */
  wasmBinaries: boolean;
  /** `nvidia-smi --query-gpu=name,driver_version --format=csv,noheader` output, or undefined when absent. */
  nvidiaSmi?: string;
  /** `ldconfig -p` output (Linux), for the CUDA and cuDNN libraries. */
  ldconfig?: string;
  /** LD_LIBRARY_PATH directories that hold the libraries (ldconfig does not see them). */
  libraryPathHits: string[];
  /** What the WebGPU probe found; undefined when it could not run at all. */
  webgpu?: GpuProbeResult;
}

export interface Finding {
  backend: 'webgpu' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
  available: boolean;
  summary: string;
  /** What to do, one step per line, when not available. */
  fix?: string[];
}

export const CUDA_REQUIREMENT = {
  cuda: '11.2',
  cudnn: '8.1',
  libs: [
    'libcudart.so.11.0',
    'libcublas.so.11',
    'libcufft.so.10',
    'libcurand.so.10',
    'libcusolver.so.11',
    'libcusparse.so.11',
    'libcudnn.so.8',
  ],
} as const;

const MiB = 2 ** 20;

/** What a machine without a usable WebGPU adapter lacks, per platform. */
function webgpuFix(platform: NodeJS.Platform): string[] {
  if (platform === 'linux') {
    return [
      "Install your GPU's Vulkan driver: NVIDIA's proprietary driver (it includes Vulkan), or Mesa for AMD and " +
        'Intel (`sudo apt install mesa-vulkan-drivers`).',
      'Check with `vulkaninfo --summary` that the GPU is listed, then run this check again.',
    ];
  }
  if (platform === 'win32') return ["Install or update your GPU vendor's driver (Direct3D 12 is needed)."];
  if (platform === 'darwin') return ['WebGPU uses Metal, which every supported Mac has; update macOS.'];
  return [`WebGPU has no driver path on ${platform}.`];
}

function diagnoseWebGpu(p: EnvironmentProbe): Finding {
  const w = p.webgpu;
  const found = w?.adapters.length ? `adapters found: ${w.adapters.join('; ')}` : 'no WebGPU adapter found';
  const chosen = w?.chosen;
  if (chosen && !chosen.software) {
    const mib = (n: number) => `${Math.round(n / MiB)} MiB`;
    const binding = mib(chosen.maxStorageBufferBindingSize);
    const limits = `buffers up to ${mib(chosen.maxBufferSize)}, bindings up to ${binding}`;
    const summary = `${chosen.description} (${chosen.vendor}, ${chosen.architecture}); ${limits}; ${found}`;
    return { backend: 'webgpu', available: true, summary };
  }
  const why = chosen
    ? `only a software adapter (${chosen.description}): it computes on the CPU, so \`auto\` skips it ` +
      `(\`backend: webgpu\` forces it); ${found}`
    : `${w?.error ?? 'the GPU probe did not run'}; ${found}`;
  return { backend: 'webgpu', available: false, summary: why, fix: webgpuFix(p.platform) };
}

export function diagnose(p: EnvironmentProbe): Finding[] {
  const out: Finding[] = [diagnoseWebGpu(p)];
  const linuxX64 = p.platform === 'linux' && p.arch === 'x64';
  // GPU
  {
    const fix: string[] = [];
    const problems: string[] = [];
    if (!linuxX64) {
      problems.push(`@tensorflow/tfjs-node-gpu has CUDA binaries for Linux x64 only (this is ${p.platform} ${p.arch})`);
    } else {
      if (!p.nvidiaSmi) {
        problems.push('no NVIDIA driver found (nvidia-smi is missing)');
        fix.push(
          'Install the NVIDIA driver (450.80 or newer) for your GPU, e.g. `sudo apt install nvidia-driver-535`, then reboot.',
        );
      }
      const libs = p.ldconfig ?? '';
      const missing = CUDA_REQUIREMENT.libs.filter((l) => !libs.includes(l) && !p.libraryPathHits.includes(l));
      const cudaMissing = missing.filter((l) => l !== 'libcudnn.so.8');
      if (cudaMissing.length) {
        problems.push(`CUDA ${CUDA_REQUIREMENT.cuda} libraries missing: ${cudaMissing.join(', ')}`);
        fix.push(
          `Install the CUDA ${CUDA_REQUIREMENT.cuda} toolkit libraries (CUDA 12 does not work with tfjs-node-gpu 4.22): https://developer.nvidia.com/cuda-11.2.2-download-archive, or \`conda install -c conda-forge cudatoolkit=11.2\` and add its lib folder to LD_LIBRARY_PATH.`,
        );
      }
      if (missing.includes('libcudnn.so.8')) {
        problems.push(`cuDNN ${CUDA_REQUIREMENT.cudnn} missing (libcudnn.so.8)`);
        fix.push(
          `Install cuDNN ${CUDA_REQUIREMENT.cudnn} for CUDA 11.2 (https://developer.nvidia.com/rdp/cudnn-archive, or \`conda install -c conda-forge cudnn=8.1\`).`,
        );
      }
    }
    if (!p.packages['tfjs-node-gpu']) {
      problems.push('@tensorflow/tfjs-node-gpu is not installed');
      fix.push(
        'Install it where the trainer finds it: `npm install @tensorflow/tfjs-node-gpu@4.22.0` in the extension folder (or globally with NODE_PATH set), then run this check again.',
      );
    }
    out.push({
      backend: 'tensorflow-gpu',
      available: problems.length === 0,
      summary: problems.length
        ? problems.join('; ')
        : `tfjs-node-gpu with CUDA ${CUDA_REQUIREMENT.cuda} / cuDNN ${CUDA_REQUIREMENT.cudnn}${p.nvidiaSmi ? ` on ${p.nvidiaSmi.trim().split('\n')[0]}` : ''}`,
      ...(problems.length ? { fix } : {}),
    });
  }
  out.push(
    p.packages['tfjs-node']
      ? { backend: 'tensorflow', available: true, summary: 'tfjs-node: native TensorFlow on the CPU' }
      : {
          backend: 'tensorflow',
          available: false,
          summary:
            '@tensorflow/tfjs-node is not installed (native TensorFlow on the CPU, several times faster than WebAssembly)',
          fix: [
            '`npm install @tensorflow/tfjs-node@4.22.0` in the extension folder; it downloads libtensorflow (about 100 MB).',
          ],
        },
  );
  out.push(
    p.packages['tfjs-backend-wasm'] && p.wasmBinaries
      ? { backend: 'wasm', available: true, summary: 'WebAssembly with SIMD (single-threaded under Node)' }
      : {
          backend: 'wasm',
          available: false,
          summary: 'the WebAssembly binaries are missing from dist/wasm',
          fix: ['Reinstall the extension, or run `npm run build` in a development checkout.'],
        },
  );
  out.push({ backend: 'cpu', available: true, summary: 'pure JavaScript: always available, slow' });
  return out;
}

/** The backend `auto` would pick: the first available in order. */
export function autoBackend(findings: Finding[]): Finding['backend'] {
  return (findings.find((f) => f.available) ?? { backend: 'cpu' as const }).backend;
}

export function formatFindings(findings: Finding[]): string {
  const lines: string[] = [];
  for (const f of findings) {
    lines.push(`${f.available ? '✓' : '✗'} ${f.backend}: ${f.summary}`);
    for (const s of f.fix ?? []) lines.push(`    → ${s}`);
  }
  lines.push('', `With backend: auto, runs use ${autoBackend(findings)}.`);
  return lines.join('\n');
}

function run(cmd: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 5000 }, (err, stdout) => resolve(err ? undefined : stdout));
  });
}

/** Runs the probes; `extensionPath` is where the trainer resolves its packages from. */
export async function probeEnvironment(extensionPath: string, gpuSetting = 'auto'): Promise<EnvironmentProbe> {
  const req = createRequire(path.join(extensionPath, 'dist', 'trainer.js'));
  const resolve = (id: string) => {
    try {
      return req.resolve(id);
    } catch {
      return undefined;
    }
  };
  const libraryPathHits: string[] = [];
  for (const dir of (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean)) {
    for (const l of CUDA_REQUIREMENT.libs) if (existsSync(path.join(dir, l))) libraryPathHits.push(l);
  }
  const [nvidiaSmi, ldconfig, webgpu] = await Promise.all([
    run('nvidia-smi', ['--query-gpu=name,driver_version', '--format=csv,noheader']),
    process.platform === 'linux'
      ? run('ldconfig', ['-p']).then((o) => o ?? run('/sbin/ldconfig', ['-p']))
      : Promise.resolve(undefined),
    probeWebGpu(extensionPath, gpuSetting),
  ]);
  return {
    platform: process.platform,
    arch: process.arch,
    nodeVersion: process.version,
    packages: {
      'tfjs-node': resolve('@tensorflow/tfjs-node/package.json'),
      'tfjs-node-gpu': resolve('@tensorflow/tfjs-node-gpu/package.json'),
      'tfjs-backend-wasm':
        resolve('@tensorflow/tfjs-backend-wasm/package.json') ??
        (existsSync(path.join(extensionPath, 'dist', 'wasm')) ? 'bundled' : undefined),
    },
    wasmBinaries:
      existsSync(path.join(extensionPath, 'dist', 'wasm', 'tfjs-backend-wasm-simd.wasm')) ||
      existsSync(path.join(extensionPath, 'dist', 'wasm', 'tfjs-backend-wasm.wasm')),
    ...(nvidiaSmi !== undefined ? { nvidiaSmi } : {}),
    ...(ldconfig !== undefined ? { ldconfig } : {}),
    libraryPathHits,
    ...(webgpu ? { webgpu } : {}),
  };
}

/** Runs dist/gpuProbe.js with the extension host's Node (Electron as Node); undefined when it cannot run. */
async function probeWebGpu(extensionPath: string, gpuSetting: string): Promise<GpuProbeResult | undefined> {
  const script = path.join(extensionPath, 'dist', 'gpuProbe.js');
  if (!existsSync(script)) return undefined;
  const stdout = await new Promise<string | undefined>((resolve) => {
    const env = { ...process.env, ELECTRON_RUN_AS_NODE: '1' };
    const done = (err: Error | null, out: string) => resolve(err ? undefined : out);
    execFile(process.execPath, [script, gpuSetting], { timeout: 20_000, env }, done);
  });
  if (stdout === undefined) return { adapters: [], chosen: null, error: 'the GPU probe failed or timed out' };
  const r = parseGpuProbe(stdout);
  return r.ok ? r.value : { adapters: [], chosen: null, error: r.error };
}

/** The PyTorch engine's line of the report: what `engine: pytorch` would run on, or why it cannot. */
export function pytorchLines(r: PythonProbe | UserError): string[] {
  if ('code' in r) return [`✗ engine: pytorch: ${r.message}`, ...(r.fix ? [`    → ${r.fix}`] : [])];
  const device = r.cuda ? `CUDA, ${plural(r.devices, 'GPU')} (${r.deviceName ?? '?'})` : 'CPU only';
  const models = r.transformers ? `transformers ${r.transformers}` : 'the built-in BERT (transformers not installed)';
  return [`✓ engine: pytorch: torch ${r.torch} on ${device}; ${models}; Python ${r.python} (${r.executable})`];
}
