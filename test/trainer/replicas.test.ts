import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from '../../trainer/data/batch';
import { IGNORE_INDEX } from '../../trainer/data/batch';
import type { Encoded } from '../../trainer/data/collate';
import { evaluate } from '../../trainer/engine/evaluate';
import { BertModel } from '../../trainer/model/bert';
import type { Prediction } from '../../trainer/model/bert';
import { Replicas } from '../../trainer/parallel/replicas';
import { concatPredictions, predictionRows, shardRanges, sliceBatch } from '../../trainer/parallel/shard';
import { THREADS_ENV } from '../../common/protocol';
import { trainerThreads } from '../../trainer/parallel/threads';
import { TINY, useBackend } from './modelFixtures';

/** `size` examples of length 7 with varied padding; MLM labels on a few positions of each. */
function batchOf(size: number, head: 'classification' | 'mlm'): Batch {
  const S = 7;
  const inputIds = new Int32Array(size * S);
  const attentionMask = new Int32Array(size * S);
  const labels = head === 'mlm' ? new Int32Array(size * S).fill(IGNORE_INDEX) : new Int32Array(size);
  for (let e = 0; e < size; e++) {
    const len = 3 + (e % 5);
    for (let j = 0; j < len; j++) {
      inputIds[e * S + j] = 1 + ((e * 7 + j * 3) % (TINY.vocab_size - 1));
      attentionMask[e * S + j] = 1;
    }
    if (head === 'mlm') {
      // Example 2 has no labelled position: its shard may predict nothing.
      if (e !== 2) labels[e * S + 1] = (e + 4) % TINY.vocab_size;
      if (e % 2) labels[e * S + 2] = (e + 9) % TINY.vocab_size;
    } else labels[e] = e % 3;
  }
  return { size, seqLen: S, inputIds, attentionMask, tokenTypeIds: new Int32Array(size * S), labels };
}

test('shardRanges covers every example once, in order, without empty shards', () => {
  assert.deepEqual(shardRanges(10, 3), [
    [0, 4],
    [4, 7],
    [7, 10],
  ]);
  assert.deepEqual(shardRanges(2, 4), [
    [0, 1],
    [1, 2],
  ]);
  assert.deepEqual(shardRanges(5, 1), [[0, 5]]);
  assert.deepEqual(shardRanges(1, 2), [[0, 1]]);
});

test('masked-LM shards put the labelled positions back in row-major order', () => {
  const b = batchOf(5, 'mlm');
  // A stand-in prediction whose row r holds the r-th labelled position's label.
  const fake = (x: Batch): Prediction => {
    const rows = [...x.labels].filter((l) => l !== IGNORE_INDEX);
    return { logits: Float32Array.from(rows), shape: [rows.length, 1] };
  };
  const parts = shardRanges(b.size, 3).map(([s, e]) => fake(sliceBatch(b, 'masked-lm', s, e)));
  const whole = fake(b);
  assert.equal(predictionRows(b, 'masked-lm'), whole.shape[0]);
  assert.deepEqual(concatPredictions(parts, 1), whole);
});

test('trainerThreads: every core up to 4, or the environment variable', () => {
  assert.equal(trainerThreads({}, 2), 2);
  assert.equal(trainerThreads({}, 16), 4);
  assert.equal(trainerThreads({}, 1), 1);
  assert.equal(trainerThreads({ [THREADS_ENV]: '1' }, 8), 1);
  assert.equal(trainerThreads({ [THREADS_ENV]: '3' }, 2), 3);
  assert.equal(trainerThreads({ [THREADS_ENV]: 'lots' }, 2), 2);
});

for (const head of ['sequence-classification', 'masked-lm'] as const) {
  test(`a pool of worker threads predicts exactly what one thread does (${head}, wasm)`, async () => {
    await useBackend('wasm');
    const model = BertModel.create(TINY, head, { numLabels: 3, seed: 5 });
    const pool = await Replicas.start(model, { threads: 3, onFallback: (why) => assert.fail(why) });
    try {
      assert.ok(pool, 'the pool started');
      assert.equal(pool.threads, 3);
      await pool.sync(model);
      const b = batchOf(5, head === 'masked-lm' ? 'mlm' : 'classification');
      const one = await model.predict(b);
      const many = await pool.predict(model, b);
      assert.deepEqual(many.shape, one.shape);
      assert.deepEqual([...many.logits], [...one.logits]);
      // Changed weights reach the workers only through sync.
      const name = 'bert.embeddings.word_embeddings.weight';
      const v = model.params.get(name)!;
      v.assign(tf.tidy(() => tf.mul(v, 2)));
      await pool.sync(model);
      assert.deepEqual([...(await pool.predict(model, b)).logits], [...(await model.predict(b)).logits]);
    } finally {
      await pool?.close();
      model.dispose();
    }
  });
}

test('evaluation through the pool gives the same metrics, and a pool whose workers are gone falls back once', async () => {
  await useBackend('wasm');
  const model = BertModel.create(TINY, 'sequence-classification', { numLabels: 3, seed: 9 });
  const b = batchOf(9, 'classification');
  const examples: Encoded[] = Array.from({ length: b.size }, (_, e) => {
    const ids = [...b.inputIds.slice(e * b.seqLen, (e + 1) * b.seqLen)];
    const len = ids.findIndex((x) => x === 0);
    const n = len < 0 ? ids.length : len;
    return { inputIds: ids.slice(0, n), tokenTypeIds: new Array(n).fill(0), label: b.labels[e]! };
  });
  const fallbacks: string[] = [];
  const pool = await Replicas.start(model, { threads: 2, onFallback: (why) => fallbacks.push(why) });
  try {
    const opts = { batchSize: 4, padId: 0, labelNames: ['a', 'b', 'c'] };
    const alone = await evaluate(model, examples, opts);
    await pool!.sync(model);
    assert.deepEqual(await evaluate(model, examples, { ...opts, replicas: pool }), alone);
    await pool!.close();
    assert.deepEqual(await evaluate(model, examples, { ...opts, replicas: pool }), alone);
    assert.equal(fallbacks.length, 1, fallbacks.join('\n'));
    assert.match(fallbacks[0]!, /one thread/);
  } finally {
    model.dispose();
  }
});

/**
 * Largest |a - b| relative to the gradient's largest |b|, or to `floor` where that is larger: float rounding
 * differs with the summation order, and some gradients are zero up to rounding (the key bias: softmax ignores a
 * shift shared by all keys), so their rounding noise is measured against the scale of the others.
 */
function relErr(a: Float32Array, b: Float32Array, floor: number): number {
  let d = 0;
  let m = floor;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
}

for (const [head, backend] of [
  ['sequence-classification', 'wasm'],
  ['masked-lm', 'wasm'],
  ['sequence-classification', 'cpu'],
] as const) {
  test(`training on worker threads gives one thread's loss and gradients, dropout included (${head}, ${backend})`, async () => {
    await useBackend(backend);
    const model = BertModel.create(TINY, head, { numLabels: 3, seed: 6 });
    const pool = await Replicas.start(model, { threads: 3, onFallback: (why) => assert.fail(why) });
    try {
      assert.ok(pool);
      await pool.sync(model);
      const b = batchOf(7, head === 'masked-lm' ? 'mlm' : 'classification');
      // Everything, then only the top layer and the head (frozen parameters get no gradient anywhere).
      const top = (n: string) =>
        n.includes('layer.1.') || n.startsWith('classifier') || n.startsWith('cls.') || n.includes('pooler');
      for (const trainable of [() => true, top]) {
        const one = await model.lossAndGrads(b, { training: true, seed: 77 }, trainable);
        const many = await pool.lossAndGrads(model, b, 77, trainable);
        assert.ok(Math.abs(many.loss - one.loss) < 1e-5 * Math.abs(one.loss), `loss ${many.loss} vs ${one.loss}`);
        assert.deepEqual([...many.grads.keys()].sort(), [...one.grads.keys()].sort());
        const floor = 1e-3 * Math.max(...[...one.grads.values()].map((g) => tf.max(tf.abs(g)).dataSync()[0]!));
        for (const [n, g] of one.grads) {
          const e = relErr(many.grads.get(n)!.dataSync() as Float32Array, g.dataSync() as Float32Array, floor);
          assert.ok(e < 1e-4, `${n}: relative error ${e}`);
        }
        // Another dropout seed is another loss: the masks are really in play.
        const other = await model.lossAndGrads(b, { training: true, seed: 78 }, trainable);
        assert.notEqual(other.loss, one.loss);
        for (const r of [one, many, other]) for (const g of r.grads.values()) g.dispose();
      }
    } finally {
      await pool?.close();
      model.dispose();
    }
  });
}
