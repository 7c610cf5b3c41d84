import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lrLambda, warmupSteps } from '../../trainer/optim/schedule';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);

// Reference values computed from transformers/optimization.py's lambdas with num_training_steps=100, warmup=10.
test('linear warm-up then linear decay to 0, as get_linear_schedule_with_warmup', () => {
  const f = lrLambda('linear', 100, 10);
  close(f(0), 0);
  close(f(5), 0.5);
  close(f(10), 1);
  close(f(55), 45 / 90);
  close(f(99), 1 / 90);
  close(f(100), 0);
  close(f(150), 0);
});

test('cosine with half a cycle, as get_cosine_schedule_with_warmup', () => {
  const f = lrLambda('cosine', 100, 10);
  close(f(3), 0.3);
  close(f(10), 1);
  close(f(55), 0.5);
  close(f(32.5), 0.5 * (1 + Math.cos(Math.PI * 0.25)));
  close(f(100), 0);
});

test('constant and constant_with_warmup', () => {
  close(lrLambda('constant', 100, 10)(0), 1);
  close(lrLambda('constant', 100, 10)(77), 1);
  const f = lrLambda('constant_with_warmup', 100, 10);
  close(f(0), 0);
  close(f(4), 0.4);
  close(f(10), 1);
  close(f(99), 1);
});

test('warm-up steps: explicit steps win over the ratio, the ratio rounds up as HF', () => {
  assert.equal(warmupSteps(100, 0.1, 0), 10);
  assert.equal(warmupSteps(95, 0.1, 0), 10);
  assert.equal(warmupSteps(100, 0.1, 7), 7);
  assert.equal(warmupSteps(100, 0, 0), 0);
  // No warm-up: linear starts at the full rate.
  close(lrLambda('linear', 100, 0)(0), 1);
});
