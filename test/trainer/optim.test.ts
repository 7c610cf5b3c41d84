import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { AdamW } from '../../trainer/optim/adamw';
import { GradientAccumulator } from '../../trainer/optim/accumulate';
import { clipByGlobalNorm, globalNorm } from '../../trainer/optim/clip';
import { layerDepth, nameMatches, paramSetting } from '../../trainer/optim/paramGroups';

before(async () => {
  await tf.setBackend('cpu');
});

/** torch.optim.AdamW's update, written out in float64 for one parameter vector. */
function torchAdamW(
  p: number[],
  grads: number[][],
  lr: number,
  wd: number,
  b1: number,
  b2: number,
  eps: number,
): number[] {
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const x = [...p];
  grads.forEach((g, k) => {
    const t = k + 1;
    for (let i = 0; i < x.length; i++) {
      x[i] = x[i]! * (1 - lr * wd);
      m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
      v[i] = b2 * v[i]! + (1 - b2) * g[i]! * g[i]!;
      const denom = Math.sqrt(v[i]!) / Math.sqrt(1 - b2 ** t) + eps;
      x[i] = x[i]! - (lr / (1 - b1 ** t)) * (m[i]! / denom);
    }
  });
  return x;
}

test('AdamW matches a hand-computed torch.optim.AdamW trajectory (decoupled decay, bias correction)', () => {
  const p0 = [0.5, -1.25, 2, 0.001];
  const grads = [
    [0.1, -0.2, 0.3, 0],
    [-0.05, 0.4, 0.1, 1e-4],
    [0.2, 0.2, -0.3, -2],
  ];
  const w = tf.variable(tf.tensor1d(p0), true, 'adamw-test-w');
  const opt = new AdamW(new Map([['w', w]]), new Map([['w', { lr: 0.01, weightDecay: 0.1 }]]), {
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
  });
  for (const g of grads) {
    const gt = tf.tensor1d(g);
    opt.apply(new Map([['w', gt]]), 1);
    gt.dispose();
  }
  const want = torchAdamW(p0, grads, 0.01, 0.1, 0.9, 0.999, 1e-8);
  const got = [...w.dataSync()];
  got.forEach((x, i) => assert.ok(Math.abs(x - want[i]!) < 1e-6, `w[${i}] = ${x}, want ${want[i]}`));
  // The first step of Adam moves every coordinate with a nonzero gradient by about lr (sign of the gradient).
  assert.equal(opt.step, 3);
  opt.dispose();
  w.dispose();
});

test('AdamW: lr factor 0 leaves weights untouched (warm-up step 0), state only for params with grads', async () => {
  const a = tf.variable(tf.tensor1d([1, 2]), true, 'adamw-a');
  const b = tf.variable(tf.tensor1d([3, 4]), true, 'adamw-b');
  const opt = new AdamW(
    new Map([
      ['a', a],
      ['b', b],
    ]),
    new Map([['a', { lr: 0.1, weightDecay: 0.5 }]]),
    { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
  );
  const g = tf.tensor1d([1, 1]);
  opt.apply(new Map([['a', g]]), 0);
  assert.deepEqual([...a.dataSync()], [1, 2]);
  assert.deepEqual([...opt.state.keys()], ['a']);
  assert.throws(() => opt.apply(new Map([['b', g]]), 1), /untrainable/);
  const snap = await opt.snapshot();
  assert.deepEqual([...snap.entries.keys()], ['a']);
  assert.deepEqual(
    [...snap.entries.get('a')!.expAvg].map((x) => Number(x.toFixed(6))),
    [0.1, 0.1],
  );
  g.dispose();
  opt.dispose();
  a.dispose();
  b.dispose();
});

test('AdamW updates do not leak tensors, and dispose releases all its state', async () => {
  const start = tf.memory().numTensors;
  const init = tf.randomNormal([8, 8]);
  const w = tf.variable(init, true, 'adamw-leak');
  init.dispose();
  const opt = new AdamW(new Map([['w', w]]), new Map([['w', { lr: 1e-3, weightDecay: 0.01 }]]), {
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
  });
  const g = tf.onesLike(w);
  opt.apply(new Map([['w', g]]), 1);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) opt.apply(new Map([['w', g]]), 1);
  assert.equal(tf.memory().numTensors, before);
  const snap = await opt.snapshot();
  opt.restore(snap);
  assert.equal(tf.memory().numTensors, before);
  g.dispose();
  opt.dispose();
  w.dispose();
  assert.equal(tf.memory().numTensors, start);
});

test('global-norm clipping scales by max_norm / (norm + 1e-6) and reports the norm before clipping', async () => {
  const grads = new Map<string, tf.Tensor>([
    ['a', tf.tensor1d([3, 0])],
    ['b', tf.tensor1d([0, 4])],
  ]);
  assert.ok(Math.abs((await globalNorm(grads)) - 5) < 1e-6);
  const norm = await clipByGlobalNorm(grads, 1);
  assert.ok(Math.abs(norm - 5) < 1e-6);
  assert.ok(Math.abs((await globalNorm(grads)) - 5 / (5 + 1e-6)) < 1e-6);
  const [a0] = grads.get('a')!.dataSync();
  assert.ok(Math.abs(a0! - 3 / (5 + 1e-6)) < 1e-6);
  // Below the threshold, or with clipping off, nothing changes.
  const small = new Map<string, tf.Tensor>([['a', tf.tensor1d([0.3, 0.4])]]);
  const same = small.get('a')!;
  assert.ok(Math.abs((await clipByGlobalNorm(small, 1)) - 0.5) < 1e-6);
  assert.equal(small.get('a'), same);
  assert.ok(Math.abs((await clipByGlobalNorm(grads, 0)) - (await globalNorm(grads))) < 1e-9);
  for (const g of [...grads.values(), ...small.values()]) g.dispose();
});

test('gradient accumulation sums scaled micro-batch gradients and disposes the inputs', () => {
  const acc = new GradientAccumulator();
  const g1 = tf.tensor1d([1, 2]);
  const g2 = tf.tensor1d([3, 4]);
  acc.add(new Map([['w', g1]]), 0.5);
  acc.add(new Map([['w', g2]]), 0.5);
  assert.deepEqual([...acc.grads.get('w')!.dataSync()], [2, 3]);
  assert.ok(g1.isDisposed && g2.isDisposed);
  acc.clear();
  assert.equal(acc.grads.size, 0);
});

test('parameter groups: no_decay by substring as HF, layer-wise decay by depth, explicit rates win', () => {
  const o = {
    learningRate: 1e-3,
    weightDecay: 0.01,
    noDecay: ['bias', 'LayerNorm.weight'],
    layerwiseLrDecay: 0.5,
    numLayers: 2,
  };
  assert.ok(nameMatches('bert.encoder.layer.0.output.LayerNorm.weight', 'LayerNorm.weight'));
  assert.ok(nameMatches('classifier.weight', 'classifier.*'));
  assert.ok(!nameMatches('classifier.weight', 'bias'));
  assert.equal(paramSetting('bert.encoder.layer.1.attention.self.query.bias', o).weightDecay, 0);
  assert.equal(paramSetting('bert.embeddings.LayerNorm.weight', o).weightDecay, 0);
  assert.equal(paramSetting('bert.encoder.layer.1.attention.self.query.weight', o).weightDecay, 0.01);
  assert.equal(layerDepth('bert.embeddings.word_embeddings.weight', 2), 0);
  assert.equal(layerDepth('bert.encoder.layer.1.output.dense.weight', 2), 2);
  // The other families' names: RoBERTa's and ELECTRA's encoder, ELECTRA's projection, DistilBERT's transformer.
  assert.equal(layerDepth('roberta.encoder.layer.0.output.dense.weight', 2), 1);
  assert.equal(layerDepth('electra.embeddings_project.weight', 2), 0);
  assert.equal(layerDepth('distilbert.transformer.layer.1.ffn.lin1.weight', 2), 2);
  assert.equal(layerDepth('distilbert.embeddings.LayerNorm.weight', 2), 0);
  assert.equal(layerDepth('classifier.out_proj.weight', 2), 3);
  assert.equal(layerDepth('classifier.weight', 2), 3);
  assert.equal(paramSetting('classifier.weight', o).lr, 1e-3);
  assert.equal(paramSetting('bert.encoder.layer.1.output.dense.weight', o).lr, 1e-3 * 0.5);
  assert.equal(paramSetting('bert.encoder.layer.0.output.dense.weight', o).lr, 1e-3 * 0.25);
  assert.equal(paramSetting('bert.embeddings.word_embeddings.weight', o).lr, 1e-3 * 0.125);
  const withRates = { ...o, learningRates: { 'classifier.*': 5e-2, classifier: 1 } };
  assert.equal(paramSetting('classifier.bias', withRates).lr, 5e-2);
  assert.equal(paramSetting('classifier.bias', withRates).weightDecay, 0);
});
