import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskTokens } from '../../trainer/data/mlm';
import { collate } from '../../trainer/data/collate';
import { IGNORE_INDEX } from '../../trainer/data/batch';
import { mulberry32 } from '../../common/random';

const vocab = { vocabSize: 1000, maskId: 4, specialIds: new Set([0, 1, 2, 3, 4]) };

test('masking ratios are about 15% and 80/10/10, never on special tokens or padding', () => {
  const rng = mulberry32(123);
  const examples = Array.from({ length: 400 }, (_, i) => {
    const n = 20 + (i % 100);
    const body = Array.from({ length: n }, () => 5 + Math.floor(rng() * 995));
    return { inputIds: [2, ...body, 3], tokenTypeIds: new Array<number>(n + 2).fill(0) };
  });
  const batch = collate(examples, 0, 'masked-lm');
  const masked = maskTokens(batch, vocab, 0.15, mulberry32(7));
  let eligible = 0;
  let selected = 0;
  let toMask = 0;
  let toRandom = 0;
  let kept = 0;
  for (let i = 0; i < batch.inputIds.length; i++) {
    const original = batch.inputIds[i] as number;
    const label = masked.labels[i] as number;
    const now = masked.inputIds[i] as number;
    const special = batch.attentionMask[i] === 0 || vocab.specialIds.has(original);
    if (special) {
      assert.equal(label, IGNORE_INDEX);
      assert.equal(now, original);
      continue;
    }
    eligible++;
    if (label === IGNORE_INDEX) {
      assert.equal(now, original);
      continue;
    }
    selected++;
    assert.equal(label, original);
    if (now === vocab.maskId) toMask++;
    else if (now === original) kept++;
    else {
      toRandom++;
      assert.ok(!vocab.specialIds.has(now));
    }
  }
  const p = selected / eligible;
  assert.ok(Math.abs(p - 0.15) < 0.01, `selected ${p}`);
  assert.ok(Math.abs(toMask / selected - 0.8) < 0.02, `mask ${toMask / selected}`);
  // A random replacement can draw the original token (1 in 995): the "kept" share is ~10.01%.
  assert.ok(Math.abs(toRandom / selected - 0.1) < 0.015, `random ${toRandom / selected}`);
  assert.ok(Math.abs(kept / selected - 0.1) < 0.015, `kept ${kept / selected}`);
  // Input untouched; same rng seed gives the same masks.
  assert.deepEqual(collate(examples, 0, 'masked-lm').inputIds, batch.inputIds);
  assert.deepEqual(maskTokens(batch, vocab, 0.15, mulberry32(7)), masked);
});
