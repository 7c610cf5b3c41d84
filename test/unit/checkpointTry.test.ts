// The checkpoint explorer's Try (issue 17): the host sends a pair only to a run trained on pairs, and a single text
// only to one trained on single texts, whatever the page asks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tryTextsProblem } from '../../extension/panels/checkpointStore';

const pairRun = { text: 'sentence1', textPair: 'sentence2', label: 'label' };
const singleRun = { text: 'review', label: 'label' };

test('a pair run takes a pair and refuses a single text, naming the missing column', () => {
  assert.equal(tryTextsProblem({ text: 'a', textPair: 'b' }, pairRun), undefined);
  assert.equal(tryTextsProblem({ text: 'a', textPair: '' }, pairRun), undefined, 'an empty second text is a text');
  assert.match(
    tryTextsProblem({ text: 'a' }, pairRun) ?? '',
    /trained on sentence pairs: give the second text \(sentence2\)/,
  );
});

test('a single-text run takes one text and refuses a pair', () => {
  assert.equal(tryTextsProblem({ text: 'a' }, singleRun), undefined);
  assert.match(
    tryTextsProblem({ text: 'a', textPair: 'b' }, singleRun) ?? '',
    /single texts \(review\): it takes no second/,
  );
});

test('without the run columns (an unreadable config), the texts go through as given', () => {
  assert.equal(tryTextsProblem({ text: 'a', textPair: 'b' }, undefined), undefined);
  assert.equal(tryTextsProblem({ text: 'a' }, undefined), undefined);
});
