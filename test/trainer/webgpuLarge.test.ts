/**
 * A BERT-base-shaped model (hidden 768, 12 heads, intermediate 3072, the full 30522-token vocabulary; 2 layers)
 * takes one training step at batch 32 × 128 on the webgpu backend: weights, gradients and AdamW state live in
 * GPU buffers, so the WebAssembly heap's 4 GiB no longer bounds the model. On the software adapter this is the
 * slowest test of the suite (minutes of CPU); it skips only where no adapter exists at all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { BERT_BASE_UNCASED } from '../../common/modelConfig';
import { selectBackend } from '../../trainer/backend';
import { BertModel } from '../../trainer/model/bert';
import { AdamW } from '../../trainer/optim/adamw';
import { clipByGlobalNorm } from '../../trainer/optim/clip';
import { syntheticBatch } from '../../bench/models';
import { needAdapter } from './webgpuFixtures';

test(
  'webgpu: a BERT-base-shaped model takes a training step at batch 32 × 128',
  { timeout: 30 * 60_000 },
  async (t) => {
    if (!(await needAdapter(t))) return;
    const choice = await selectBackend('webgpu');
    assert.equal(tf.getBackend(), 'webgpu');
    const config = { ...BERT_BASE_UNCASED, num_hidden_layers: 2 };
    const model = BertModel.create(config, 'sequence-classification', { numLabels: 2, seed: 1 });
    const names = model.parameterNames();
    const settings = new Map(names.map((n) => [n, { lr: 1e-4, weightDecay: 0.01 }]));
    const opt = new AdamW(model.params, settings, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
    const before = new Float32Array((await model.params.get('classifier.weight')!.data()) as Float32Array);
    const baseline = tf.memory().numTensors;
    const t0 = Date.now();

    const { loss, grads } = await model.lossAndGrads(syntheticBatch(config, 32, 128), { training: true, seed: 1 });
    const norm = await clipByGlobalNorm(grads, 1);
    opt.apply(grads, 1);
    for (const g of grads.values()) g.dispose();
    const after = (await model.params.get('classifier.weight')!.data()) as Float32Array;
    t.diagnostic(`one step in ${((Date.now() - t0) / 1000).toFixed(1)} s on ${choice.reason}`);

    // Two balanced labels and a freshly initialised head: the loss starts near ln 2.
    assert.ok(Number.isFinite(loss) && Math.abs(loss - Math.LN2) < 0.5, `loss ${loss}`);
    assert.ok(Number.isFinite(norm) && norm > 0, `gradient norm ${norm}`);
    assert.equal(grads.size, names.length, 'every parameter has a gradient');
    assert.ok(
      after.some((v, i) => v !== before[i]),
      'the step changed the weights',
    );
    assert.ok(after.every(Number.isFinite));
    // What stays is the optimizer's two moments per parameter, nothing of the step itself.
    assert.equal(tf.memory().numTensors, baseline + 2 * names.length);
    opt.dispose();
    model.dispose();
  },
);
