import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bertParameters, countParameters } from '../../common/bertParams';
import { buildModuleTree } from '../../common/moduleTree';
import { isFrozen } from '../../common/freeze';
import {
  estimateTrainingMemory,
  largestTensors,
  lowestTrainableModule,
  HEAP_BASE_BYTES,
  PROCESS_BASE_BYTES,
} from '../../common/memoryEstimate';

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

test('everything trainable: weights, grads, AdamW states, activations and the update by hand', () => {
  const m = estimateTrainingMemory({
    ...base,
    totalParams: 4_386_178,
    trainableParams: 4_386_178,
    lowestTrainable: -1,
  });
  assert.equal(m.weights, 17_544_712); // 4 bytes · 4,386,178
  assert.equal(m.gradients, 17_544_712);
  assert.equal(m.optimizer, 35_089_424); // m and v
  // A layer keeps 8·128·(10·128 + 2·512 + 2) = 2,361,344 + 2·8·2·128² = 524,288 + 3·128² = 49,152 → 2,934,784
  // values, two layers; the last hidden state 8·128·128 = 131,072; embeddings 4·131,072 = 524,288; the head
  // 3·8·128 + 8·2 = 3,088; a layer's working set 2·8·2·128² + 2·8·128·512 + 4·8·128·128 = 2,097,152; the word
  // embeddings' dense gradient and its scatter-add 3·30522·128 = 11,720,448.
  assert.equal(m.activations, 4 * (2 * 2_934_784 + 131_072 + 524_288 + 3_088 + 2_097_152 + 11_720_448));
  // AdamW's temporaries: 12 copies of the word embeddings, 30522·128 values.
  assert.equal(m.update, 4 * 12 * 30522 * 128);
  assert.equal(m.layersWithActivations, 2);
  assert.equal(m.total, 17_544_712 * 2 + 35_089_424 + m.activations + m.update + HEAP_BASE_BYTES);
  // One thread: no workers; a save copies the weights out twice (arrays, then the file buffer), the moments more.
  assert.equal(m.perWorker, 0);
  assert.equal(m.workers, 0);
  assert.equal(m.checkpointSpike, 4 * 7 * 4_386_178);
  assert.equal(m.processTotal, m.total + m.checkpointSpike + PROCESS_BASE_BYTES);
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
  assert.equal(m.activations, 4 * (2_934_784 + 131_072 + 3_088 + 2_097_152));
  // The largest trainable parameter is now a feed-forward weight, 128·512.
  assert.equal(m.update, 4 * 12 * 128 * 512);
  assert.equal(m.layersWithActivations, 1);
});

test('nothing trainable keeps no activations; head only keeps the last hidden state and the head', () => {
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
  assert.equal(m.activations, 4 * (131_072 + 3_088));
  const none = estimateTrainingMemory({ ...base, totalParams: 10, trainableParams: 0, lowestTrainable: null });
  assert.equal(none.activations, 0);
  assert.equal(none.update, 0);
});

test("worker threads: each holds the weights, its shard's gradients and activations, and sends its gradients back", () => {
  const all = { ...base, totalParams: 4_386_178, trainableParams: 4_386_178, lowestTrainable: -1 };
  const one = estimateTrainingMemory(all);
  const four = estimateTrainingMemory({ ...all, threads: 4 });
  const quarter = estimateTrainingMemory({ ...all, batchSize: 2 });
  // This thread computes a quarter of the batch, and holds the combined gradients besides its own.
  assert.equal(four.activations, quarter.activations);
  assert.equal(four.gradients, 2 * one.gradients);
  assert.equal(four.perWorker, one.weights + one.gradients + quarter.activations + HEAP_BASE_BYTES);
  assert.equal(four.workers, 3 * (four.perWorker + one.gradients));
  assert.equal(four.processTotal, four.total + four.workers + four.checkpointSpike + PROCESS_BASE_BYTES);
  // More threads than examples: the extra ones get nothing to do and start no heap.
  const two = (threads: number) => estimateTrainingMemory({ ...all, batchSize: 2, threads }).workers;
  assert.equal(two(4), two(2));
  assert.equal(two(1), 0);
  // Gradient accumulation keeps a second set of gradients.
  assert.equal(estimateTrainingMemory({ ...all, accumulation: 4 }).gradients, 2 * one.gradients);
});

test('the save spike: the weights copied out twice, the optimizer moments of the trainable ones more', () => {
  const m = estimateTrainingMemory({ ...base, totalParams: 1000, trainableParams: 900, lowestTrainable: -1 });
  assert.equal(m.checkpointSpike, 4 * (2 * 1000 + 5 * 900));
  const frozen = estimateTrainingMemory({ ...base, totalParams: 1000, trainableParams: 100, lowestTrainable: 1 });
  assert.equal(frozen.checkpointSpike, 4 * (2 * 1000 + 5 * 100));
});

test('the largest tensor: attention scores grow with the square of the length, MLM logits with the vocabulary', () => {
  const bertBase = { ...base, hiddenSize: 768, numHeads: 12, intermediateSize: 3072, numLayers: 12 };
  assert.match(largestTensors({ ...bertBase, batchSize: 32, seqLength: 128 } as never)[0]!.what, /word embeddings/);
  const long = largestTensors({ ...bertBase, batchSize: 32, seqLength: 512 } as never)[0]!;
  assert.deepEqual(long, { what: 'the attention scores [32, 12, 512, 512]', bytes: 4 * 32 * 12 * 512 * 512 });
  const mlm = largestTensors({ ...bertBase, head: 'masked-lm', mlmProbability: 0.15, batchSize: 32 } as never);
  assert.ok(mlm.some((t) => /masked-LM logits \[about 615, 30522\]/.test(t.what)));
});
