import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collate } from '../../trainer/data/collate';
import { lengthBucketedBatches, shuffledBatches } from '../../trainer/data/bucketing';
import { IGNORE_INDEX } from '../../trainer/data/batch';
import { mulberry32 } from '../../common/random';

test('collate pads to the longest in the batch', () => {
  const b = collate(
    [
      { inputIds: [2, 5, 3], tokenTypeIds: [0, 0, 0], label: 1 },
      { inputIds: [2, 5, 6, 3, 7, 3], tokenTypeIds: [0, 0, 0, 0, 1, 1], label: 0 },
    ],
    0,
    'text-classification',
  );
  assert.equal(b.size, 2);
  assert.equal(b.seqLen, 6);
  assert.deepEqual([...b.inputIds], [2, 5, 3, 0, 0, 0, 2, 5, 6, 3, 7, 3]);
  assert.deepEqual([...b.attentionMask], [1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
  assert.deepEqual([...b.tokenTypeIds], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
  assert.deepEqual([...b.labels], [1, 0]);
});

test('collate for masked-lm gives per-token labels of -100, and refuses unlabelled classification', () => {
  const b = collate([{ inputIds: [2, 3], tokenTypeIds: [0, 0] }], 9, 'masked-lm');
  assert.deepEqual([...b.labels], [IGNORE_INDEX, IGNORE_INDEX]);
  assert.throws(() => collate([{ inputIds: [2, 3], tokenTypeIds: [0, 0] }], 0, 'text-classification'), /no label/);
  assert.throws(() => collate([], 0, 'masked-lm'), /empty/);
});

test('length-bucketed batches cover every index once and group similar lengths', () => {
  const rng = mulberry32(3);
  const lengths = Array.from({ length: 1000 }, () => 5 + Math.floor(rng() * 500));
  const batches = lengthBucketedBatches(lengths, 8, mulberry32(11));
  const all = batches.flat().sort((a, b) => a - b);
  assert.deepEqual(
    all,
    Array.from({ length: 1000 }, (_, i) => i),
  );
  const padding = (bs: number[][]): number =>
    bs.reduce(
      (s, b) =>
        s +
        Math.max(...b.map((i) => lengths[i] as number)) * b.length -
        b.reduce((t, i) => t + (lengths[i] as number), 0),
      0,
    );
  const plain = shuffledBatches(1000, 8, mulberry32(11));
  assert.ok(padding(batches) * 5 < padding(plain), `${padding(batches)} vs ${padding(plain)}`);
  assert.deepEqual(lengthBucketedBatches(lengths, 8, mulberry32(11)), batches);
  assert.notDeepEqual(lengthBucketedBatches(lengths, 8, mulberry32(12)), batches);
});
