// "Check training environment": the diagnosis from what the probes found, without a GPU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoBackend, diagnose, formatFindings } from '../../extension/environment';
import { pytorchLines } from '../../extension/environment';
import type { EnvironmentProbe } from '../../extension/environment';
import { parseGpuProbe } from '../../common/gpuProbe';

const base: EnvironmentProbe = {
  platform: 'linux',
  arch: 'x64',
  nodeVersion: 'v20.0.0',
  packages: { 'tfjs-node': undefined, 'tfjs-node-gpu': undefined, 'tfjs-backend-wasm': '/x' },
  wasmBinaries: true,
  libraryPathHits: [],
};
const allCuda =
  'libcudart.so.11.0 libcublas.so.11 libcufft.so.10 libcurand.so.10 libcusolver.so.11 libcusparse.so.11 libcudnn.so.8';

test('a bare machine trains on WASM and is told what the GPU needs: driver, CUDA 11.2, cuDNN 8.1, the package', () => {
  const f = diagnose(base);
  assert.equal(autoBackend(f), 'wasm');
  const gpu = f.find((x) => x.backend === 'tensorflow-gpu')!;
  assert.equal(gpu.available, false);
  assert.match(gpu.summary, /nvidia-smi is missing/);
  assert.match(gpu.summary, /CUDA 11\.2 libraries missing: libcudart\.so\.11\.0/);
  assert.match(gpu.summary, /cuDNN 8\.1 missing/);
  assert.match(gpu.fix!.join('\n'), /tfjs-node-gpu@4\.22\.0/);
  assert.match(formatFindings(f), /With backend: auto, runs use wasm\./);
});

test('CUDA 12 alone does not satisfy tfjs-node-gpu; a complete CUDA 11.2 + cuDNN 8.1 setup does', () => {
  const cuda12 = diagnose({
    ...base,
    nvidiaSmi: 'NVIDIA H100, 550.54',
    ldconfig: 'libcudart.so.12 libcudnn.so.9',
    packages: { ...base.packages, 'tfjs-node-gpu': '/p' },
  });
  const g12 = cuda12.find((x) => x.backend === 'tensorflow-gpu')!;
  assert.equal(g12.available, false);
  assert.doesNotMatch(g12.summary, /nvidia-smi/);
  assert.match(g12.summary, /libcudart\.so\.11\.0/);
  const ok = diagnose({
    ...base,
    nvidiaSmi: 'NVIDIA H100, 550.54',
    ldconfig: allCuda,
    packages: { ...base.packages, 'tfjs-node-gpu': '/p' },
  });
  const okGpu = ok.find((x) => x.backend === 'tensorflow-gpu')!;
  assert.equal(okGpu.available, true);
  assert.match(okGpu.summary, /NVIDIA H100/);
  assert.equal(autoBackend(ok), 'tensorflow-gpu');
  // Libraries on LD_LIBRARY_PATH count too (conda installs them there).
  const conda = diagnose({
    ...base,
    nvidiaSmi: 'GPU',
    libraryPathHits: allCuda.split(' '),
    packages: { ...base.packages, 'tfjs-node-gpu': '/p' },
  });
  assert.equal(conda.find((x) => x.backend === 'tensorflow-gpu')!.available, true);
});

test('outside Linux x64 the GPU backend is explained as unsupported; tfjs-node is picked when installed', () => {
  const mac = diagnose({
    ...base,
    platform: 'darwin',
    arch: 'arm64',
    packages: { ...base.packages, 'tfjs-node': '/n' },
  });
  assert.match(mac.find((x) => x.backend === 'tensorflow-gpu')!.summary, /Linux x64 only \(this is darwin arm64\)/);
  assert.equal(autoBackend(mac), 'tensorflow');
});

const limits = { maxBufferSize: 2 ** 32, maxStorageBufferBindingSize: 2 ** 31 };
const rtx = { vendor: 'nvidia', architecture: 'ada', description: 'NVIDIA GeForce RTX 4090', software: false };
const llvmpipe = { vendor: 'mesa', architecture: 'software', description: 'llvmpipe', software: true, ...limits };

test('a hardware WebGPU adapter is listed with its limits and is what auto picks', () => {
  const adapters = ['NVIDIA GeForce RTX 4090 (vulkan)', 'llvmpipe (LLVM 15.0.6, 256 bits) (vulkan)'];
  const f = diagnose({ ...base, webgpu: { adapters, chosen: { ...rtx, ...limits } } });
  const w = f.find((x) => x.backend === 'webgpu')!;
  assert.equal(w.available, true);
  assert.match(w.summary, /NVIDIA GeForce RTX 4090 \(nvidia, ada\); buffers up to 4096 MiB, bindings up to 2048 MiB/);
  assert.match(w.summary, /adapters found: NVIDIA GeForce RTX 4090 \(vulkan\); llvmpipe/);
  assert.equal(autoBackend(f), 'webgpu');
  assert.match(formatFindings(f), /With backend: auto, runs use webgpu\./);
});

test('only a software adapter, or none: auto does not use WebGPU; Linux is told to install a Vulkan driver', () => {
  const soft = diagnose({ ...base, webgpu: { adapters: ['llvmpipe (vulkan)'], chosen: llvmpipe } });
  const s = soft.find((x) => x.backend === 'webgpu')!;
  assert.equal(s.available, false);
  assert.match(s.summary, /only a software adapter \(llvmpipe\)/);
  assert.equal(autoBackend(soft), 'wasm');
  const none = diagnose({ ...base, webgpu: { adapters: [], chosen: null, error: 'Dawn found no WebGPU adapter' } });
  const n = none.find((x) => x.backend === 'webgpu')!;
  assert.match(n.summary, /Dawn found no WebGPU adapter; no WebGPU adapter found/);
  assert.match(n.fix!.join('\n'), /Vulkan driver/);
  const win = diagnose({ ...base, platform: 'win32', webgpu: { adapters: [], chosen: null } });
  assert.match(win.find((x) => x.backend === 'webgpu')!.fix!.join('\n'), /Direct3D 12/);
});

test("the GPU probe's output is checked where the extension reads it", () => {
  const good = { adapters: ['llvmpipe (vulkan)'], chosen: { ...llvmpipe } };
  const r = parseGpuProbe(`Warning: something from the driver\n${JSON.stringify(good)}\n`);
  assert.ok(r.ok);
  assert.deepEqual(r.value, good);
  const bad = parseGpuProbe(JSON.stringify({ adapters: 'none', chosen: null }));
  assert.ok(!bad.ok);
  assert.match(bad.error, /adapters/);
  assert.ok(!parseGpuProbe('Segmentation fault').ok);
});

test('the report says what engine: pytorch runs on, or what to install', () => {
  const probe = {
    executable: '/venv/bin/python',
    python: '3.11.2',
    torch: '2.5.1',
    cuda: true,
    devices: 2,
    deviceName: 'NVIDIA H100',
    bf16: true,
    transformers: null,
  };
  const [ok] = pytorchLines(probe);
  assert.match(ok!, /^✓ engine: pytorch: torch 2\.5\.1 on CUDA, 2 GPUs \(NVIDIA H100\); the built-in BERT/);
  assert.match(ok!, /\/venv\/bin\/python/);
  const missing = pytorchLines({
    code: 'torch-missing',
    message: 'PyTorch is not installed in `python3`',
    fix: 'pip install torch',
  });
  assert.deepEqual(missing, ['✗ engine: pytorch: PyTorch is not installed in `python3`', '    → pip install torch']);
});
