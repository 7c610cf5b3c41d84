/** The backend's ceilings for the check before the first step (trainer/gpu/memoryFit.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkMemory } from '../../common/memoryCheck';
import { estimateForShape } from '../../common/memoryEstimate';
import type { TrainingShape } from '../../common/memoryEstimate';
import { BERT_BASE_UNCASED } from '../../common/modelConfig';
import type { BackendInfo } from '../../common/protocol';
import { backendCeilings, GPU_MEMORY_ENV, parseBytes } from '../../trainer/gpu/memoryFit';

const GiB = 1024 ** 3;
/** bert-base-uncased for classification, everything trainable. */
const base: TrainingShape = {
  config: BERT_BASE_UNCASED,
  head: 'sequence-classification',
  numLabels: 2,
  batchSize: 32,
  seqLength: 128,
};
const wasm: BackendInfo = { name: 'wasm', reason: '', tried: [] };
const gpu = (software: boolean): BackendInfo => ({
  name: 'webgpu',
  reason: '',
  tried: [],
  adapter: {
    vendor: software ? 'mesa' : 'nvidia',
    architecture: software ? 'software' : 'ampere',
    description: software ? 'llvmpipe' : 'RTX 3090',
    software,
    maxBufferSize: 2 ** 32 - 1,
    maxStorageBufferBindingSize: 2 ** 27,
  },
});

function verdict(s: TrainingShape, backend: BackendInfo, env: NodeJS.ProcessEnv = {}, freeBytes = 64 * GiB) {
  const threads = s.threads ?? 1;
  const b = backendCeilings(backend, { threads, env, freeBytes });
  return checkMemory({
    estimateAt: (batchSize) => estimateForShape({ ...s, batchSize }),
    batchSize: s.batchSize,
    maxLength: s.seqLength,
    accumulation: 1,
    ceilings: b.ceilings,
    ...(b.hint ? { backendHint: b.hint } : {}),
  });
}

test('WASM: BERT-base at 32 × 128 is over the heap of one thread, and the advice names a GPU', () => {
  const v = verdict(base, wasm);
  assert.equal(v.level, 'over');
  assert.match(v.message!, /WebAssembly thread can address/);
  assert.match(v.fix!, /backend: webgpu/);
  assert.equal(verdict({ ...base, batchSize: 2 }, wasm).level, 'fits');
});

test('WASM: the process total is checked against free memory too', () => {
  const v = verdict({ ...base, batchSize: 2 }, wasm, {}, 1 * GiB);
  assert.equal(v.level, 'over');
  assert.match(v.message!, /the training process needs/);
});

test('WebGPU: the largest tensor must fit one binding; the GPU memory budget comes from FINETUNE_GPU_MEMORY', () => {
  assert.equal(verdict(base, gpu(false)).level, 'fits');
  const long = verdict({ ...base, seqLength: 512 }, gpu(false));
  assert.equal(long.level, 'over');
  assert.match(long.message!, /the attention scores \[32, 12, 512, 512\] take 384\.0 MiB/);
  assert.match(long.message!, /RTX 3090.*maxStorageBufferBindingSize 128\.0 MiB/);
  const budget = verdict(base, gpu(false), { [GPU_MEMORY_ENV]: '4GiB' });
  assert.equal(budget.level, 'over');
  assert.match(budget.message!, /the GPU memory budget of 4\.00 GiB \(FINETUNE_GPU_MEMORY\)/);
  assert.equal(verdict(base, gpu(false), { [GPU_MEMORY_ENV]: '80GiB' }).level, 'fits');
  assert.match(backendCeilings(gpu(false), { threads: 1, env: {} }).note!, /FINETUNE_GPU_MEMORY/);
});

test('WebGPU on a software adapter keeps its buffers in the machine memory', () => {
  const v = verdict(base, gpu(true), {}, 2 * GiB);
  assert.equal(v.level, 'over');
  assert.match(v.message!, /of memory this machine has free/);
});

test('parseBytes reads sizes as people write them', () => {
  assert.equal(parseBytes('8GiB'), 8 * GiB);
  assert.equal(parseBytes('7.5 G'), 7.5 * GiB);
  assert.equal(parseBytes('512mb'), 512 * 1024 ** 2);
  assert.equal(parseBytes('1000'), 1000);
  assert.equal(parseBytes('lots'), undefined);
  assert.equal(parseBytes('8 TiB'), undefined);
  assert.equal(parseBytes('0'), undefined);
});
