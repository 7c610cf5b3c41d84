// "Check training environment": the diagnosis from what the probes found, without a GPU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoBackend, diagnose, formatFindings } from '../../extension/environment';
import type { EnvironmentProbe } from '../../extension/environment';

const base: EnvironmentProbe = {
  platform: 'linux',
  arch: 'x64',
  nodeVersion: 'v20.0.0',
  packages: { 'tfjs-node': undefined, 'tfjs-node-gpu': undefined, 'tfjs-backend-wasm': '/x' },
  wasmBinaries: true,
  libraryPathHits: [],
};
const allCuda = 'libcudart.so.11.0 libcublas.so.11 libcufft.so.10 libcurand.so.10 libcusolver.so.11 libcusparse.so.11 libcudnn.so.8';

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
  const cuda12 = diagnose({ ...base, nvidiaSmi: 'NVIDIA H100, 550.54', ldconfig: 'libcudart.so.12 libcudnn.so.9', packages: { ...base.packages, 'tfjs-node-gpu': '/p' } });
  const g12 = cuda12.find((x) => x.backend === 'tensorflow-gpu')!;
  assert.equal(g12.available, false);
  assert.doesNotMatch(g12.summary, /nvidia-smi/);
  assert.match(g12.summary, /libcudart\.so\.11\.0/);
  const ok = diagnose({ ...base, nvidiaSmi: 'NVIDIA H100, 550.54', ldconfig: allCuda, packages: { ...base.packages, 'tfjs-node-gpu': '/p' } });
  assert.equal(ok[0]!.available, true);
  assert.match(ok[0]!.summary, /NVIDIA H100/);
  assert.equal(autoBackend(ok), 'tensorflow-gpu');
  // Libraries on LD_LIBRARY_PATH count too (conda installs them there).
  const conda = diagnose({ ...base, nvidiaSmi: 'GPU', libraryPathHits: allCuda.split(' '), packages: { ...base.packages, 'tfjs-node-gpu': '/p' } });
  assert.equal(conda[0]!.available, true);
});

test('outside Linux x64 the GPU backend is explained as unsupported; tfjs-node is picked when installed', () => {
  const mac = diagnose({ ...base, platform: 'darwin', arch: 'arm64', packages: { ...base.packages, 'tfjs-node': '/n' } });
  assert.match(mac[0]!.summary, /Linux x64 only \(this is darwin arm64\)/);
  assert.equal(autoBackend(mac), 'tensorflow');
});
