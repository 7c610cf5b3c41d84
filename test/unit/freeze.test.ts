import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFrozen, matchesPattern, patternProblem, unmatchedPatterns } from '../../common/freeze';

test('a module name matches everything below it, and only at a dot boundary', () => {
  assert.ok(matchesPattern('bert.embeddings.LayerNorm.weight', 'bert.embeddings'));
  assert.ok(matchesPattern('bert.embeddings', 'bert.embeddings'));
  assert.ok(!matchesPattern('bert.embeddings_extra.weight', 'bert.embeddings'));
  assert.ok(!matchesPattern('xbert.embeddings.weight', 'bert.embeddings'));
});

test('* crosses dots like fnmatch; ? and classes work', () => {
  assert.ok(matchesPattern('bert.encoder.layer.3.attention.self.query.weight', 'bert.encoder.layer.*.attention'));
  assert.ok(matchesPattern('bert.encoder.layer.3.output.dense.bias', '*.bias'));
  assert.ok(!matchesPattern('bert.encoder.layer.3.output.dense.weight', '*.bias'));
  assert.ok(matchesPattern('bert.encoder.layer.2.output.dense.bias', 'bert.encoder.layer.[0-3]'));
  assert.ok(!matchesPattern('bert.encoder.layer.4.output.dense.bias', 'bert.encoder.layer.[0-3]'));
  assert.ok(!matchesPattern('bert.encoder.layer.10.output.dense.bias', 'bert.encoder.layer.?'));
  assert.ok(matchesPattern('bert.encoder.layer.1.output.dense.bias', 'bert.encoder.layer.?'));
  assert.ok(!matchesPattern('bert.encoder.layer.1.output.dense.bias', 'bert.encoder.layer.[!0-3]'));
});

test('special characters in patterns are literal', () => {
  assert.ok(!matchesPattern('bertXembeddings.weight', 'bert.embeddings'));
  assert.ok(matchesPattern('a+b.c', 'a+b'));
});

test('unfreeze re-opens part of a frozen pattern', () => {
  const freeze = ['bert'];
  const unfreeze = ['bert.encoder.layer.11'];
  assert.ok(isFrozen('bert.encoder.layer.0.output.dense.weight', freeze, unfreeze));
  assert.ok(!isFrozen('bert.encoder.layer.11.output.dense.weight', freeze, unfreeze));
  assert.ok(!isFrozen('classifier.weight', freeze, unfreeze));
});

test('unmatchedPatterns reports the index of each pattern that matches nothing', () => {
  assert.deepEqual(
    unmatchedPatterns(
      ['bert.embeddings', 'bert.embedding', 'classifier'],
      ['bert.embeddings.word_embeddings.weight', 'classifier.bias'],
    ),
    [1],
  );
});

test('a reversed class is reported by patternProblem and matches nothing, instead of throwing (defect 6)', () => {
  assert.match(patternProblem('bert.[z-a]')!, /`\[z-a\]` is not a valid class: the range `z-a` runs backwards/);
  assert.equal(patternProblem('bert.[a-z]'), undefined);
  assert.equal(matchesPattern('bert.a', 'bert.[z-a]'), false);
  assert.deepEqual(unmatchedPatterns(['bert.[z-a]', 'bert'], ['bert.x']), [0]);
});

test('matching takes linear passes, whatever the stars (no regex backtracking)', () => {
  const name = 'a'.repeat(60) + '.weight';
  const t0 = performance.now();
  assert.equal(matchesPattern(name, '*a*a*a*a*a*a*a*a*a*a*a*a*b'), false);
  assert.equal(matchesPattern(name, '*a*a*a*a*a*a*a*a*a*a*a*a'), true);
  assert.ok(performance.now() - t0 < 200);
});
