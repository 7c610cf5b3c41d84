import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bagOfWords, words } from '../../scripts/demo/bagOfWords';
import { fitLogistic } from '../../scripts/demo/logisticRegression';

test('the logistic regression separates separable points, and a large L2 penalty shrinks its weights', () => {
  // Class 1 when 2a - b > 0.5; the second feature is noise-free but opposite in sign.
  const xs = [
    [1, 0],
    [2, 1],
    [1.5, 0.5],
    [3, 2],
    [0, 1],
    [0.2, 2],
    [-1, 0],
    [0.5, 1.5],
  ];
  const ys = xs.map(([a, b]) => (2 * a! - b! > 0.5 ? 1 : 0));
  assert.deepEqual(ys, [1, 1, 1, 1, 0, 0, 0, 0]);
  const m = fitLogistic(xs, ys, { l2: 0, epochs: 2000, learningRate: 0.5 });
  assert.equal(m.accuracy(xs, ys), 1);
  assert.ok(m.weights[0]! > 0 && m.weights[1]! < 0, `weights ${Array.from(m.weights)}`);
  assert.ok(m.logit([4, 0]) > 0 && m.logit([-2, 3]) < 0);
  const shrunk = fitLogistic(xs, ys, { l2: 10, epochs: 2000, learningRate: 0.05 });
  assert.ok(Math.hypot(...shrunk.weights) < Math.hypot(...m.weights) / 10);
  assert.throws(() => fitLogistic(xs, ys.slice(1), { l2: 0, epochs: 1, learningRate: 1 }), /as many labels as rows/);
});

test('bag of words: lower-cased words of the training texts only, present or not', () => {
  assert.deepEqual(words("Didn't LOVE it... great!"), ["didn't", 'love', 'it', 'great', '!']);
  const bow = bagOfWords(['great food', 'bad bad service']);
  assert.deepEqual([...bow.vocabulary.keys()], ['great', 'food', 'bad', 'service']);
  assert.deepEqual(Array.from(bow.encode('Bad, BAD food; unseen words')), [0, 1, 1, 0]);
});
