import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { BertModel } from '../../trainer/model/bert';
import { BERT_BASE_UNCASED, countParameters, parameterSpecs } from '../../common/modelConfig';
import { bertParameters } from '../../common/bertParams';
import { buildModuleTree } from '../../common/moduleTree';
import type { StateDict } from '../../trainer/model/stateDict';
import { TINY, classBatch, useBackend } from './modelFixtures';

test('bert-base parameter counts match transformers, computed from the config alone', () => {
  const cls = countParameters(BERT_BASE_UNCASED, 'sequence-classification', 2);
  assert.equal(cls, 109_483_778); // BertForSequenceClassification(bert-base-uncased, num_labels=2)
  assert.equal(cls - (768 * 2 + 2), 109_482_240); // BertModel (with pooler)
  // BertForMaskedLM: no pooler, transform + LayerNorm + bias; the decoder weight is the (tied) embedding.
  assert.equal(countParameters(BERT_BASE_UNCASED, 'masked-lm'), 109_482_240 - 590_592 + 590_592 + 1_536 + 30_522);
  const tree = buildModuleTree(bertParameters(BERT_BASE_UNCASED, 'sequence-classification', 2), (n) =>
    n.startsWith('classifier.'),
  );
  assert.equal(tree.total, cls);
  assert.equal(tree.trainable, 1538);
  const bert = tree.children.find((c) => c.name === 'bert')!;
  const layer0 = bert.children.find((c) => c.name === 'encoder')!.children[0]!.children[0]!;
  assert.equal(layer0.path, 'bert.encoder.layer.0');
  assert.deepEqual(
    layer0.children.map((c) => c.name),
    ['attention', 'intermediate', 'output'],
  );
  assert.equal(layer0.total, 7_087_872);
  assert.deepEqual(
    tree.children.map((c) => c.name),
    ['bert', 'classifier'],
  );
});

test('HF names, and the model tree matches the allocated parameters', async () => {
  await useBackend('cpu');
  const m = BertModel.create(TINY, 'masked-lm', { seed: 1 });
  const names = m.parameterNames();
  assert.ok(names.includes('bert.encoder.layer.1.attention.self.query.weight'));
  assert.ok(names.includes('cls.predictions.transform.LayerNorm.bias'));
  assert.ok(!names.some((n) => n.includes('pooler') || n.includes('decoder')));
  let total = 0;
  for (const v of m.params.values()) total += v.size;
  assert.equal(buildModuleTree(bertParameters(TINY, 'masked-lm'), () => true).total, total);
  assert.deepEqual(
    names,
    parameterSpecs(TINY, 'masked-lm').map((s) => s.name),
  );
  assert.equal(total, countParameters(TINY, 'masked-lm'));
  m.dispose();
});

test('state dict: PyTorch layout, bit-identical round trip, same logits', async () => {
  await useBackend('cpu');
  const a = BertModel.create(TINY, 'sequence-classification', { numLabels: 3, seed: 1 });
  const sd = await a.toStateDict();
  const q = 'bert.encoder.layer.0.intermediate.dense.weight';
  // nn.Linear(8, 16).weight is [16, 8]; entry [o][i] is memory [i][o].
  assert.deepEqual(sd.get(q)!.shape, [16, 8]);
  const mem = a.params.get(q)!.dataSync();
  assert.equal(sd.get(q)!.data[3 * 8 + 5], mem[5 * 16 + 3]);
  assert.deepEqual(sd.get('bert.embeddings.word_embeddings.weight')!.shape, [20, 8]);

  const b = BertModel.create(TINY, 'sequence-classification', { numLabels: 3, seed: 2 });
  const report = b.loadStateDict(sd);
  assert.equal(report.loaded.length, a.parameterNames().length);
  assert.deepEqual(report.newlyInitialized, []);
  for (const n of a.parameterNames()) assert.deepEqual(b.params.get(n)!.dataSync(), a.params.get(n)!.dataSync(), n);
  const sd2 = await b.toStateDict();
  for (const [k, e] of sd) assert.deepEqual(sd2.get(k)!.data, e.data, k);
  assert.deepEqual((await b.predict(classBatch())).logits, (await a.predict(classBatch())).logits);
  [a, b].forEach((m) => m.dispose());
});

test('MLM checkpoint into a classifier: cls.* dropped, pooler and classifier newly initialised', async () => {
  await useBackend('cpu');
  const mlm = BertModel.create(TINY, 'masked-lm', { seed: 1 });
  const sd = await mlm.toStateDict();
  assert.ok(!sd.has('cls.predictions.decoder.weight'), 'tied decoder weight is not saved');
  // Old TF-converted names and a BertModel-style key without the bert. prefix are accepted too.
  const ln = sd.get('bert.embeddings.LayerNorm.weight')!;
  sd.delete('bert.embeddings.LayerNorm.weight');
  sd.set('embeddings.LayerNorm.gamma', ln);
  sd.set('bert.embeddings.position_ids', { shape: [1, 16], data: new Float32Array(16) });
  const clf = BertModel.create(TINY, 'sequence-classification', { numLabels: 3, seed: 9 });
  const before = clf.params.get('classifier.weight')!.dataSync().slice();
  const report = clf.loadStateDict(sd);
  assert.deepEqual(report.newlyInitialized.sort(), [
    'bert.pooler.dense.bias',
    'bert.pooler.dense.weight',
    'classifier.bias',
    'classifier.weight',
  ]);
  assert.ok(report.ignored.includes('cls.predictions.bias'));
  assert.ok(report.ignored.includes('bert.embeddings.position_ids'));
  assert.deepEqual(clf.params.get('classifier.weight')!.dataSync(), before);
  assert.deepEqual(
    clf.params.get('bert.embeddings.LayerNorm.weight')!.dataSync(),
    mlm.params.get('bert.embeddings.LayerNorm.weight')!.dataSync(),
  );
  [mlm, clf].forEach((m) => m.dispose());
});

test('loadStateDict lists every missing, unexpected and mis-shaped key and changes nothing', async () => {
  await useBackend('cpu');
  const m = BertModel.create(TINY, 'sequence-classification', { numLabels: 3, seed: 1 });
  const sd: StateDict = await m.toStateDict();
  sd.delete('bert.encoder.layer.1.output.dense.bias');
  sd.set('bert.encoder.layer.2.output.dense.bias', { shape: [8], data: new Float32Array(8) });
  const w = sd.get('bert.encoder.layer.0.attention.self.key.weight')!;
  sd.set('bert.encoder.layer.0.attention.self.key.weight', { shape: [4, 16], data: w.data });
  const q = 'bert.encoder.layer.0.attention.self.query.weight';
  sd.set(q, { shape: [8, 8], data: new Float32Array(64).fill(7) });
  const before = m.params.get(q)!.dataSync().slice();
  assert.throws(
    () => m.loadStateDict(sd),
    (e: Error) =>
      /missing keys \(1\): bert\.encoder\.layer\.1\.output\.dense\.bias/.test(e.message) &&
      /unexpected keys \(1\): bert\.encoder\.layer\.2\.output\.dense\.bias/.test(e.message) &&
      /self\.key\.weight: checkpoint \[4, 16\], model \[8, 8\]/.test(e.message),
  );
  assert.deepEqual(m.params.get(q)!.dataSync(), before, 'a failed load leaves the model untouched');
  m.dispose();
  assert.equal(tf.memory().numTensors, 0);
});
