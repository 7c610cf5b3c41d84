import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bertParameters, countParameters } from '../../common/bertParams';
import { buildModuleTree } from '../../common/moduleTree';
import { isFrozen } from '../../common/freeze';
import { estimateTrainingMemory, lowestTrainableModule } from '../../common/memoryEstimate';

// BERT-tiny (google/bert_uncased_L-2_H-128_A-2) with a 2-label classifier: 4,386,178 parameters, counted by hand:
// embeddings 30522·128 + 512·128 + 2·128 + 2·128 = 3,972,864; a layer 4·(128·128+128) + 128·512+512 + 512·128+128
// + 4·128 = 198,272 (× 2); pooler 128·128+128 = 16,512; classifier 2·128+2 = 258.
const tiny = {
  vocab_size: 30522,
  hidden_size: 128,
  num_hidden_layers: 2,
  intermediate_size: 512,
  max_position_embeddings: 512,
  type_vocab_size: 2,
};
const base = {
  hiddenSize: 128,
  numLayers: 2,
  intermediateSize: 512,
  numHeads: 2,
  vocabSize: 30522,
  numLabels: 2,
  head: 'sequence-classification' as const,
  batchSize: 8,
  seqLength: 128,
};

test('the parameter count agrees with the hand count', () => {
  assert.equal(countParameters(bertParameters(tiny, 'sequence-classification', 2)), 4_386_178);
});

test('everything trainable: weights, grads, AdamW states and activations by hand', () => {
  const m = estimateTrainingMemory({
    ...base,
    totalParams: 4_386_178,
    trainableParams: 4_386_178,
    lowestTrainable: -1,
  });
  assert.equal(m.weights, 17_544_712); // 4 bytes · 4,386,178
  assert.equal(m.gradients, 17_544_712);
  assert.equal(m.optimizer, 35_089_424); // m and v
  // per layer: 8·128·(10·128 + 2·512) = 2,359,296 plus 3·8·2·128² = 786,432 → 3,145,728 values, two layers;
  // embeddings 2·8·128·128 = 262,144; head 3·8·128 + 8·2 = 3,088. Sum 6,556,688 values · 4 bytes.
  assert.equal(m.activations, 26_226_752);
  assert.equal(m.layersWithActivations, 2);
  assert.equal(m.total, 17_544_712 * 2 + 35_089_424 + 26_226_752);
});

test('freezing the embeddings and layer 0 drops their grads, optimizer state and activations', () => {
  const params = bertParameters(tiny, 'sequence-classification', 2);
  const tree = buildModuleTree(params, (n) => !isFrozen(n, ['bert.embeddings', 'bert.encoder.layer.0'], []));
  assert.equal(tree.trainable, 198_272 + 16_512 + 258);
  const lowest = lowestTrainableModule(tree, 2);
  assert.equal(lowest, 1);
  const m = estimateTrainingMemory({
    ...base,
    totalParams: tree.total,
    trainableParams: tree.trainable,
    lowestTrainable: lowest,
  });
  assert.equal(m.gradients, 4 * 215_042);
  assert.equal(m.optimizer, 8 * 215_042);
  assert.equal(m.activations, 4 * (3_145_728 + 3_088));
  assert.equal(m.layersWithActivations, 1);
});

test('nothing trainable keeps no activations; head only keeps the head', () => {
  const params = bertParameters(tiny, 'sequence-classification', 2);
  assert.equal(
    lowestTrainableModule(
      buildModuleTree(params, () => false),
      2,
    ),
    null,
  );
  const headOnly = buildModuleTree(params, (n) => !n.startsWith('bert.'));
  assert.equal(lowestTrainableModule(headOnly, 2), 2);
  const m = estimateTrainingMemory({
    ...base,
    totalParams: headOnly.total,
    trainableParams: headOnly.trainable,
    lowestTrainable: 2,
  });
  assert.equal(m.activations, 4 * 3_088);
  assert.equal(
    estimateTrainingMemory({ ...base, totalParams: 10, trainableParams: 0, lowestTrainable: null }).activations,
    0,
  );
});
