/** GPU faults as user errors, and the backend's honesty about what it runs on; no GPU needed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FineTuneError } from '../../common/errors';
import { faultFromError, gpuFaultError, withGpuFaults } from '../../trainer/gpu/faults';
import { isSoftwareAdapter } from '../../trainer/gpu/dawn';
import { nativeGpuVerdict, noAdapterWhy } from '../../trainer/backend';

const sizes = { batchSize: 32, maxLength: 128 };

test('a GPU out-of-memory names the batch size and max_length and what to lower, never [internal]', async () => {
  const e = gpuFaultError({ kind: 'out-of-memory', message: 'Out of memory' }, sizes);
  assert.equal(e.code, 'gpu-out-of-memory');
  assert.match(e.message, /batch size 32, max_length 128/);
  assert.match(e.fix!, /per_device_train_batch_size/);
  assert.match(e.fix!, /max_length/);
  assert.doesNotMatch(`${e.message} ${e.fix}`, /internal/);
  const lost = gpuFaultError({ kind: 'device-lost', message: 'lost' }, sizes);
  assert.equal(lost.code, 'gpu-device-lost');
  assert.match(lost.fix!, /Resume from the last checkpoint/);
});

test('thrown GPU errors are recognised; other errors and FineTuneErrors pass through unchanged', async () => {
  assert.equal(faultFromError(new Error('Failed to allocate: out of memory'))?.kind, 'out-of-memory');
  assert.equal(faultFromError(new Error('GPU device was lost'))?.kind, 'device-lost');
  assert.equal(faultFromError(new Error('label 3 outside [0, 2)')), null);
  await assert.rejects(
    withGpuFaults(sizes, async () => {
      throw new Error('Buffer size exceeds the max buffer size limit (out of memory)');
    }),
    (e: unknown) => e instanceof FineTuneError && e.code === 'gpu-out-of-memory',
  );
  const plain = new Error('something else');
  await assert.rejects(
    withGpuFaults(sizes, () => Promise.reject(plain)),
    (e: unknown) => e === plain,
  );
  assert.equal(await withGpuFaults(sizes, async () => 7), 7);
});

test('software adapters are told apart from GPUs by what they report', () => {
  const info = (o: Partial<GPUAdapterInfo>) =>
    ({ vendor: '', architecture: '', device: '', description: '', ...o }) as GPUAdapterInfo;
  assert.equal(isSoftwareAdapter(info({ vendor: 'mesa', architecture: 'software', description: 'llvmpipe' })), true);
  assert.equal(isSoftwareAdapter(info({ vendor: 'google', description: 'SwiftShader Device (Subzero)' })), true);
  assert.equal(
    isSoftwareAdapter(info({ vendor: 'nvidia', architecture: 'ada', description: 'NVIDIA GeForce RTX 4090' })),
    false,
  );
  assert.equal(isSoftwareAdapter(info({ vendor: 'amd', description: 'AMD Radeon' }), true), true, 'a fallback adapter');
});

test('tfjs-node-gpu without a CUDA device is reported as TensorFlow on the CPU, not CUDA', () => {
  assert.equal(nativeGpuVerdict(true).cuda, true);
  for (const v of [false, undefined]) {
    const r = nativeGpuVerdict(v);
    assert.equal(r.cuda, false);
    assert.match(r.why, /found no CUDA device.*runs on the CPU/);
  }
  assert.match(noAdapterWhy('linux'), /Vulkan driver/);
  assert.match(noAdapterWhy('win32'), /Direct3D 12/);
});

test("on another backend a thrown allocation failure is not called the GPU's", async () => {
  const oom = new RangeError('Array buffer allocation failed');
  await assert.rejects(
    withGpuFaults({ ...sizes, backend: 'wasm' }, () => Promise.reject(oom)),
    (e: unknown) => e === oom,
  );
});
