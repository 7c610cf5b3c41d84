import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { BertModel } from '../../trainer/model/bert';
import type { BertHead } from '../../common/modelConfig';
import { TINY, classBatch, mlmBatch, useBackend } from './modelFixtures';
import type { Batch } from '../../trainer/data/batch';

function lossAt(m: BertModel, batch: Batch, seed: number): number {
  return tf.tidy(() => m.loss(batch, { training: true, seed }).dataSync()[0]!);
}

/**
 * Central differences in float32: h = 1e-2 keeps rounding error (~1e-7/h) well below the O(h²) truncation
 * error for this smooth, small model. Dropout stays on: masks are a function of the seed, so the loss is a
 * deterministic function of the weights and the check covers the dropout paths too.
 */
async function checkGradients(head: BertHead, batch: Batch, names: string[]): Promise<void> {
  const m = BertModel.create(TINY, head, { numLabels: 3, seed: 7 });
  const seed = 123;
  const { grads } = await m.lossAndGrads(batch, { training: true, seed });
  const h = 1e-2;
  try {
    for (const name of names) {
      const v = m.params.get(name);
      assert.ok(v, name);
      const g = grads.get(name);
      assert.ok(g, `gradient for ${name}`);
      const ga = g.dataSync();
      // Probe the three entries with the largest gradient, so the check is not dominated by noise.
      const order = [...ga.keys()].sort((a, b) => Math.abs(ga[b]!) - Math.abs(ga[a]!)).slice(0, 3);
      const base = new Float32Array(v.dataSync() as Float32Array);
      for (const i of order) {
        const plus = base.slice();
        plus[i]! += h;
        v.assign(tf.tensor(plus, v.shape));
        const lp = lossAt(m, batch, seed);
        const minus = base.slice();
        minus[i]! -= h;
        v.assign(tf.tensor(minus, v.shape));
        const lm = lossAt(m, batch, seed);
        v.assign(tf.tensor(base, v.shape));
        const numeric = (lp - lm) / (2 * h);
        const analytic = ga[i]!;
        const err = Math.abs(numeric - analytic);
        assert.ok(
          err <= 2e-2 * Math.max(Math.abs(numeric), Math.abs(analytic)) + 2e-4,
          `${name}[${i}]: analytic ${analytic} vs numeric ${numeric}`,
        );
      }
    }
  } finally {
    for (const g of grads.values()) g.dispose();
    m.dispose();
  }
}

for (const backend of ['cpu', 'wasm'] as const) {
  test(`[${backend}] classification gradients match finite differences`, async () => {
    await useBackend(backend);
    await checkGradients('sequence-classification', classBatch(), [
      'bert.embeddings.word_embeddings.weight',
      'bert.embeddings.position_embeddings.weight',
      'bert.embeddings.token_type_embeddings.weight',
      'bert.embeddings.LayerNorm.weight',
      'bert.encoder.layer.0.attention.self.query.weight',
      'bert.encoder.layer.0.attention.self.key.bias',
      'bert.encoder.layer.1.attention.self.value.weight',
      'bert.encoder.layer.0.attention.output.LayerNorm.bias',
      'bert.encoder.layer.1.intermediate.dense.weight',
      'bert.encoder.layer.1.output.dense.weight',
      'bert.pooler.dense.weight',
      'classifier.weight',
      'classifier.bias',
    ]);
  });

  test(`[${backend}] masked-LM gradients match finite differences (tied decoder)`, async () => {
    await useBackend(backend);
    await checkGradients('masked-lm', mlmBatch(), [
      'bert.embeddings.word_embeddings.weight',
      'bert.encoder.layer.1.attention.self.query.weight',
      'cls.predictions.transform.dense.weight',
      'cls.predictions.transform.LayerNorm.weight',
      'cls.predictions.bias',
    ]);
  });

  test(`[${backend}] padding does not change an example's logits`, async () => {
    await useBackend(backend);
    const m = BertModel.create({ ...TINY, initializer_range: 0.02 }, 'sequence-classification', {
      numLabels: 3,
      seed: 1,
    });
    const b = classBatch();
    // Example 1 alone, unpadded (4 tokens), versus inside the batch padded to 6 with garbage ids.
    const alone: Batch = {
      size: 1,
      seqLen: 4,
      inputIds: b.inputIds.slice(6, 10),
      attentionMask: b.attentionMask.slice(6, 10),
      tokenTypeIds: b.tokenTypeIds.slice(6, 10),
      labels: Int32Array.from([0]),
    };
    const padded = { ...b, inputIds: Int32Array.from([...b.inputIds.slice(0, 10), 17, 13]) };
    const a = (await m.predict(alone)).logits;
    const p = (await m.predict(padded)).logits.slice(3, 6);
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(a[i]! - p[i]!) < 1e-5, `logit ${i}: ${a[i]} vs ${p[i]}`);
    assert.ok(a.every(Number.isFinite));
    m.dispose();
  });

  test(`[${backend}] dropout: off in eval, deterministic per seed, different across seeds`, async () => {
    await useBackend(backend);
    const m = BertModel.create(TINY, 'sequence-classification', { numLabels: 3, seed: 1 });
    const b = classBatch();
    const run = (training: boolean, seed?: number) =>
      tf.tidy(() => m.forward(b, seed === undefined ? { training } : { training, seed }).dataSync() as Float32Array);
    assert.deepEqual(run(false), run(false, 99));
    assert.deepEqual(run(true, 5), run(true, 5));
    assert.notDeepEqual(run(true, 5), run(true, 6));
    assert.notDeepEqual(run(true, 5), run(false));
    assert.throws(() => m.forward(b, { training: true }), /seed/);
    m.dispose();
  });

  test(`[${backend}] no tensor leaks over 20 training steps`, async () => {
    await useBackend(backend);
    const m = BertModel.create(TINY, 'masked-lm', { seed: 1 });
    const before = tf.memory().numTensors;
    for (let step = 0; step < 20; step++) {
      const trainable = (n: string) => !n.includes('layer.0.');
      const { loss, grads } = await m.lossAndGrads(mlmBatch(), { training: true, seed: step }, trainable);
      assert.ok(Number.isFinite(loss));
      assert.ok(![...grads.keys()].some((n) => n.includes('layer.0.')), 'frozen parameters get no gradient');
      for (const g of grads.values()) g.dispose();
      await m.predict(mlmBatch());
      assert.equal(tf.memory().numTensors, before, `step ${step}`);
    }
    m.dispose();
    assert.equal(tf.memory().numTensors, before - TINY_PARAM_TENSORS_MLM);
  });
}

/** Variables of the tiny MLM model: 5 embedding tensors + 16 per layer + 5 head tensors. */
const TINY_PARAM_TENSORS_MLM = 5 + 16 * TINY.num_hidden_layers + 5;

test('same seed gives the same weights; another seed does not', async () => {
  await useBackend('cpu');
  const a = BertModel.create(TINY, 'sequence-classification', { seed: 3 });
  const b = BertModel.create(TINY, 'sequence-classification', { seed: 3 });
  const c = BertModel.create(TINY, 'sequence-classification', { seed: 4 });
  for (const name of a.parameterNames()) {
    assert.deepEqual(a.params.get(name)!.dataSync(), b.params.get(name)!.dataSync(), name);
  }
  const w = 'bert.encoder.layer.0.attention.self.query.weight';
  assert.notDeepEqual(a.params.get(w)!.dataSync(), c.params.get(w)!.dataSync());
  // HF init: padding row zero, LayerNorm 1/0, biases 0.
  const emb = a.params.get('bert.embeddings.word_embeddings.weight')!.dataSync();
  assert.ok(emb.slice(0, TINY.hidden_size).every((x) => x === 0));
  assert.ok(
    a.params
      .get('bert.embeddings.LayerNorm.weight')!
      .dataSync()
      .every((x) => x === 1),
  );
  assert.ok(
    a.params
      .get('classifier.bias')!
      .dataSync()
      .every((x) => x === 0),
  );
  [a, b, c].forEach((m) => m.dispose());
});

test('hiddenStates: the last layer output per token, without dropout, leaking no tensors', async () => {
  await useBackend('cpu');
  const m = BertModel.create(TINY, 'masked-lm', { seed: 5 });
  const batch = classBatch();
  const before = tf.memory().numTensors;
  const a = m.hiddenStates(batch);
  const b = m.hiddenStates(batch);
  assert.deepEqual(a.shape, [batch.size * batch.seqLen, TINY.hidden_size]);
  // TINY has dropout 0.1: equal outputs mean it is off.
  assert.deepEqual(a.dataSync(), b.dataSync());
  // Post-LayerNorm with the initial gamma 1 / beta 0: every row has mean 0.
  const d = a.dataSync() as Float32Array;
  for (let r = 0; r < a.shape[0]; r++) {
    const row = d.slice(r * TINY.hidden_size, (r + 1) * TINY.hidden_size);
    assert.ok(Math.abs(row.reduce((s, x) => s + x, 0) / row.length) < 1e-5, `row ${r}`);
  }
  tf.dispose([a, b]);
  assert.equal(tf.memory().numTensors, before);
  m.dispose();
});
