import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkMemory,
  freeMemoryCeiling,
  IGNORE_FREE_MEMORY_ENV,
  largestBatchThatFits,
  wasmCeilings,
} from '../../common/memoryCheck';
import type { Ceiling } from '../../common/memoryCheck';
import { estimateForShape, WASM_HEAP_BYTES } from '../../common/memoryEstimate';
import type { TrainingShape } from '../../common/memoryEstimate';
import { BERT_BASE_UNCASED } from '../../common/modelConfig';

const shape: TrainingShape = {
  config: BERT_BASE_UNCASED,
  head: 'sequence-classification',
  numLabels: 2,
  batchSize: 32,
  seqLength: 128,
};
const question = (s: TrainingShape, ceilings: Ceiling[]) => ({
  estimateAt: (batchSize: number) => estimateForShape({ ...s, batchSize }),
  batchSize: s.batchSize,
  maxLength: s.seqLength,
  accumulation: 1,
  ceilings,
});

test('BERT-base at batch 32 × 128 is over the 4 GiB WASM heap, with the largest batch that fits', () => {
  const v = checkMemory(question(shape, wasmCeilings(1)));
  assert.equal(v.level, 'over');
  assert.ok(v.estimate.total > WASM_HEAP_BYTES);
  const n = v.largestBatch!;
  assert.ok(n >= 1 && n < 32, String(n));
  // The largest batch is exact: it fits, one more does not.
  assert.ok(estimateForShape({ ...shape, batchSize: n }).total <= WASM_HEAP_BYTES);
  assert.ok(estimateForShape({ ...shape, batchSize: n + 1 }).total > WASM_HEAP_BYTES);
  assert.match(
    v.message!,
    /^At per_device_train_batch_size 32 and max_length 128, one training step needs about [\d.]+ GiB: more than the 4\.00 GiB a WebAssembly thread can address\.$/,
  );
  assert.match(v.fix!, new RegExp(`per_device_train_batch_size to ${n} or less`));
  assert.match(
    v.fix!,
    new RegExp(`gradient_accumulation_steps ${Math.ceil(32 / n)} to keep the effective batch of 32`),
  );
});

test('a small model fits with room; a step near the ceiling is a warning, not a refusal', () => {
  const tiny = {
    ...BERT_BASE_UNCASED,
    hidden_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 512,
  };
  assert.equal(checkMemory(question({ ...shape, config: tiny }, wasmCeilings(1))).level, 'fits');
  const need = estimateForShape({ ...shape, batchSize: 4 }).total;
  const near = checkMemory(question({ ...shape, batchSize: 4 }, [{ kind: 'heap', bytes: need / 0.9, name: 'X' }]));
  assert.equal(near.level, 'near');
  assert.match(near.message!, /needs about [\d.]+ GiB: 90% of X, close to the limit\./);
  assert.equal(near.largestBatch, undefined);
});

test('not even batch 1 fits: the advice is max_length, freezing or a smaller model', () => {
  const v = checkMemory(
    question({ ...shape, batchSize: 4, seqLength: 512 }, [{ kind: 'heap', bytes: 1e9, name: 'Y' }]),
  );
  assert.equal(v.level, 'over');
  assert.equal(v.largestBatch, 0);
  assert.match(v.fix!, /Not even per_device_train_batch_size 1 fits at max_length 512: lower max_length, freeze/);
});

test('worker threads split the batch: each heap is checked, and the split lets a bigger batch fit', () => {
  const one = checkMemory(question(shape, wasmCeilings(1)));
  const four = checkMemory(question({ ...shape, threads: 4 }, wasmCeilings(4)));
  assert.ok(four.estimate.total < one.estimate.total);
  assert.ok(four.estimate.perWorker > 0);
  // The workers hold the weights too: the check names each worker's heap when that is the one over.
  const big = checkMemory(question({ ...shape, threads: 4, batchSize: 64 }, wasmCeilings(4)));
  assert.equal(big.level, 'over');
  assert.ok(big.largestBatch! > (one.largestBatch ?? 0));
});

test("the machine's free memory bounds the whole process; the override makes it a warning", () => {
  const free = 2 * 1024 ** 3;
  const v = checkMemory(question({ ...shape, batchSize: 8 }, [freeMemoryCeiling(free, false)]));
  assert.equal(v.level, 'over');
  assert.match(
    v.message!,
    /the training process needs about [\d.]+ GiB: more than the 2\.00 GiB of memory this machine has free/,
  );
  assert.match(v.fix!, new RegExp(`${IGNORE_FREE_MEMORY_ENV}=1 starts the run anyway`));
  const forced = checkMemory(question({ ...shape, batchSize: 8 }, [freeMemoryCeiling(free, true)]));
  assert.equal(forced.level, 'near');
  assert.match(forced.fix!, /is set, so the run starts anyway/);
});

test('a GPU buffer ceiling names the tensor that does not fit', () => {
  const binding: Ceiling = { kind: 'buffer', bytes: 128 * 1024 ** 2, name: 'what the GPU lets one kernel bind' };
  assert.equal(checkMemory(question(shape, [binding])).level, 'fits');
  const long = checkMemory(question({ ...shape, seqLength: 512 }, [binding]));
  assert.equal(long.level, 'over');
  assert.match(long.message!, /the attention scores \[32, 12, 512, 512\] take 384\.0 MiB: more than what the GPU/);
  // 128 MiB holds the scores of 10 examples of 512 tokens with 12 heads (12 MiB each), and the embeddings.
  assert.equal(long.largestBatch, 10);
});

test('largestBatchThatFits searches below the batch given', () => {
  const ceilings = wasmCeilings(1);
  const at = (batchSize: number) => estimateForShape({ ...shape, batchSize });
  const n = largestBatchThatFits(at, 1000, ceilings);
  assert.equal(largestBatchThatFits(at, n + 1, ceilings), n);
  assert.equal(largestBatchThatFits(at, n, ceilings), n - 1);
});
