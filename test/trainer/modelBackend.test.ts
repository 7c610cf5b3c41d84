import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError, explainLoadError, selectBackend } from '../../trainer/backend';

test('explainLoadError turns loader failures into reasons', () => {
  const notFound = Object.assign(new Error("Cannot find module '@tensorflow/tfjs-node-gpu'"), { code: 'MODULE_NOT_FOUND' });
  assert.equal(explainLoadError('@tensorflow/tfjs-node-gpu', notFound), '@tensorflow/tfjs-node-gpu not installed');
  const cuda = new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory');
  assert.equal(explainLoadError('@tensorflow/tfjs-node-gpu', cuda), 'CUDA library not found: libcudart.so.11.0');
});

test('auto records every attempt and lands on a working backend', async () => {
  const choice = await selectBackend('auto');
  assert.equal(choice.tried[0]!.backend, 'webgpu');
  if (choice.name === 'webgpu') return; // a hardware GPU: nothing else was tried
  assert.equal(choice.tried[1]!.backend, '@tensorflow/tfjs-node-gpu');
  assert.equal(choice.tried[2]!.backend, '@tensorflow/tfjs-node');
  assert.ok(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'].includes(choice.name));
  assert.ok(choice.tried.at(-1)!.available);
  if (choice.name === 'wasm') {
    assert.equal(tf.getBackend(), 'wasm');
    assert.ok((choice.threads ?? 0) >= 1);
    assert.equal(tf.tidy(() => tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).dataSync()[0]), 3);
  }
});

test('an explicit preference that is unavailable is an error with the reason', async () => {
  let installed = true;
  try {
    require.resolve('@tensorflow/tfjs-node-gpu');
  } catch {
    installed = false;
  }
  if (installed) return;
  await assert.rejects(selectBackend('gpu'), (e: unknown) => {
    assert.ok(e instanceof BackendUnavailableError);
    assert.match(e.message, /gpu.*not installed/);
    assert.equal(e.tried.length, 1);
    return true;
  });
});

test('explicit cpu and wasm', async () => {
  assert.equal((await selectBackend('cpu')).name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  const w = await selectBackend('wasm');
  assert.equal(w.name, 'wasm');
  assert.match(w.reason, /WebAssembly/);
});
