import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bertParameters, countParameters } from '../../common/bertParams';
import { allPaths, buildModuleTree } from '../../common/moduleTree';
import { trainablePredicate } from '../../common/freeze';

const bertBase = {
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  intermediate_size: 3072,
  max_position_embeddings: 512,
  type_vocab_size: 2,
};

test('bert-base-uncased parameter counts match Hugging Face', () => {
  // BertForSequenceClassification.from_pretrained('bert-base-uncased', num_labels=2).num_parameters() == 109,483,778
  assert.equal(countParameters(bertParameters(bertBase, 'sequence-classification', 2)), 109_483_778);
  // BertModel (with pooler) has 109,482,240.
  assert.equal(countParameters(bertParameters(bertBase, 'none')), 109_482_240);
  // BertForMaskedLM: no pooler, tied decoder: 109,514,298.
  assert.equal(countParameters(bertParameters(bertBase, 'masked-lm')), 109_514_298);
});

test('linear weights use PyTorch [out, in] shapes', () => {
  const ps = bertParameters({ ...bertBase, num_hidden_layers: 1 }, 'sequence-classification', 3);
  const get = (n: string) => ps.find((p) => p.name === n)?.shape;
  assert.deepEqual(get('bert.encoder.layer.0.intermediate.dense.weight'), [3072, 768]);
  assert.deepEqual(get('bert.encoder.layer.0.output.dense.weight'), [768, 3072]);
  assert.deepEqual(get('classifier.weight'), [3, 768]);
});

test('module tree sums counts and follows trainable flags', () => {
  const ps = bertParameters(
    {
      ...bertBase,
      vocab_size: 100,
      hidden_size: 8,
      intermediate_size: 16,
      num_hidden_layers: 2,
      max_position_embeddings: 16,
    },
    'sequence-classification',
    2,
  );
  const tree = buildModuleTree(ps, trainablePredicate(['bert.embeddings', 'bert.encoder.layer.0'], []));
  assert.equal(tree.total, countParameters(ps));
  const bert = tree.children.find((c) => c.name === 'bert')!;
  const emb = bert.children.find((c) => c.name === 'embeddings')!;
  assert.equal(emb.trainable, 0);
  assert.equal(emb.total, (100 + 16 + 2) * 8 + 16);
  const layers = bert.children.find((c) => c.name === 'encoder')!.children.find((c) => c.name === 'layer')!;
  assert.equal(layers.children[0]!.trainable, 0);
  assert.equal(layers.children[1]!.trainable, layers.children[1]!.total);
  assert.equal(tree.trainable, tree.total - emb.total - layers.children[0]!.total);
  assert.ok(allPaths(tree).includes('bert.encoder.layer.1.attention.self.query.weight'));
});
