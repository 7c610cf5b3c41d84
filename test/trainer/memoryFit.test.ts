/** The check of a training step against the backend's ceiling, before the first step (trainer/gpu/memoryFit.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkStepFits, largestTensors } from '../../trainer/gpu/memoryFit';
import type { StepShape } from '../../trainer/gpu/memoryFit';
import type { BackendInfo } from '../../common/protocol';

/** bert-base-uncased for classification, everything trainable. */
const base: StepShape = {
  hiddenSize: 768,
  numLayers: 12,
  intermediateSize: 3072,
  numHeads: 12,
  vocabSize: 30522,
  numLabels: 2,
  head: 'sequence-classification',
  batchSize: 32,
  seqLength: 128,
  totalParams: 109_483_778,
  trainableParams: 109_483_778,
  lowestTrainable: -1,
};
const wasm: BackendInfo = { name: 'wasm', reason: '', tried: [] };
const adapter = { vendor: 'mesa', architecture: 'software', description: 'llvmpipe', software: true };
const llvmpipe: BackendInfo = {
  name: 'webgpu',
  reason: '',
  tried: [],
  adapter: { ...adapter, maxBufferSize: 2 ** 32 - 1, maxStorageBufferBindingSize: 2 ** 27 },
};

test('BERT-base at batch 32 × 128 is refused on WASM before training, naming the sizes and the 4 GiB heap', () => {
  const e = checkStepFits(base, wasm);
  assert.ok(e);
  assert.equal(e.code, 'memory-exceeds-backend');
  assert.match(
    e.message,
    /batch size 32, max_length 128 needs about [\d.]+ GiB, over the WebAssembly backend's 4\.00 GiB/,
  );
  assert.match(e.fix!, /per_device_train_batch_size/);
  assert.match(e.fix!, /webgpu/);
  // Split across 4 threads, each heap holds a quarter of the activations: it fits.
  assert.equal(checkStepFits(base, wasm, 4), null);
  assert.equal(checkStepFits({ ...base, batchSize: 8 }, wasm), null);
});

test('on WebGPU the largest tensor must fit one binding: 32 × 128 fits 128 MiB, 32 × 512 does not', () => {
  assert.equal(checkStepFits(base, llvmpipe), null);
  const long = checkStepFits({ ...base, seqLength: 512 }, llvmpipe);
  assert.ok(long);
  assert.match(long.message, /the attention scores \[32, 12, 512, 512\] take 384\.0 MiB/);
  assert.match(long.message, /maxStorageBufferBindingSize 128\.0 MiB/);
  const mlm = largestTensors({ ...base, head: 'masked-lm', mlmProbability: 0.15 });
  assert.match(mlm[0]!.what, /word embeddings \[30522, 768\]/);
  assert.ok(mlm.some((t) => /masked-LM logits \[about 615, 30522\]/.test(t.what)));
  assert.equal(checkStepFits(base, { name: 'cpu', reason: '', tried: [] }), null);
});
