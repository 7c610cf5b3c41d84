/**
 * trainer/wasmKernels.ts replaces tfjs-backend-wasm's Slice, SplitV, Unpack and Identity kernels with versions
 * that do not copy the whole input per call. They must give the cpu backend's results exactly, for every rank,
 * dtype and slice position, and the shared-buffer Identity must keep reference counts right.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { copySlice, patchWasmKernels } from '../../trainer/wasmKernels';
import { mulberry32 } from '../../common/random';
import { useBackend } from './modelFixtures';

test('copySlice copies strided and contiguous blocks in row-major order', () => {
  // x = [[0,1,2],[3,4,5],[6,7,8]] (3x3); rows 1..2, columns 1..2 → 4,5,7,8.
  const src = Float32Array.from({ length: 9 }, (_, i) => i);
  const out = new Float32Array(4);
  copySlice(src, [3, 3], [1, 1], [2, 2], out);
  assert.deepEqual(Array.from(out), [4, 5, 7, 8]);
  const rows = new Float32Array(6);
  copySlice(src, [3, 3], [1, 0], [2, 3], rows);
  assert.deepEqual(Array.from(rows), [3, 4, 5, 6, 7, 8]);
});

test('[wasm] patched Slice, SplitV, Unpack equal the cpu backend on random shapes and dtypes', async () => {
  const rng = mulberry32(11);
  const ri = (n: number) => Math.floor(rng() * n);
  await useBackend('wasm');
  patchWasmKernels();
  patchWasmKernels(); // idempotent
  for (let t = 0; t < 150; t++) {
    const rank = 1 + ri(4);
    const shape = Array.from({ length: rank }, () => 1 + ri(5));
    const data = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i - 7);
    const begin = shape.map((s) => ri(s));
    const size = shape.map((s, i) => (rng() < 0.3 ? -1 : 1 + ri(s - begin[i]!)));
    const axis = ri(rank);
    const dtype = rng() < 0.5 ? 'float32' : 'int32';
    const run = () =>
      tf.tidy(() => {
        const x = tf.tensor(data, shape, dtype);
        const parts = [tf.slice(x, begin, size), ...tf.split(x, shape[axis]!, axis), ...tf.unstack(x, axis)];
        return parts.map((p) => ({ shape: p.shape, values: Array.from(p.dataSync()) }));
      });
    await useBackend('cpu');
    const expected = run();
    await useBackend('wasm');
    assert.deepEqual(run(), expected, `shape ${shape} begin ${begin} size ${size} axis ${axis} ${dtype}`);
  }
});

test('[wasm] patched Identity shares the buffer and counts references', async () => {
  await useBackend('wasm');
  patchWasmKernels();
  const x = tf.tensor([1, 2, 3]);
  const y = x.clone();
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3]);
  const z = tf.add(y, 1);
  y.dispose();
  assert.deepEqual(Array.from(z.dataSync()), [2, 3, 4]);
  z.dispose();
});

test('[wasm] patched GatherV2 equals the cpu backend (row gathers with repeats; other axes fall back)', async () => {
  const rng = mulberry32(12);
  await useBackend('wasm');
  patchWasmKernels();
  const table = Array.from({ length: 7 * 3 * 2 }, (_, i) => i * 0.5 - 3);
  const idx = Array.from({ length: 20 }, () => Math.floor(rng() * 7));
  const run = () =>
    tf.tidy(() => {
      const x = tf.tensor3d(table, [7, 3, 2]);
      const i = tf.tensor1d(idx, 'int32');
      const i2 = tf.tensor2d(idx.slice(0, 6), [2, 3], 'int32');
      return [tf.gather(x, i), tf.gather(x, i2), tf.gather(x, tf.tensor1d([2, 0, 1], 'int32'), 1)].map((t) => ({
        shape: t.shape,
        values: Array.from(t.dataSync()),
      }));
    });
  await useBackend('cpu');
  const expected = run();
  await useBackend('wasm');
  assert.deepEqual(run(), expected);
  assert.throws(
    () => tf.tidy(() => tf.gather(tf.tensor2d([1, 2], [1, 2]), tf.tensor1d([1], 'int32'))),
    /index value 1 is not in \[0, 0\]/,
  );
});
