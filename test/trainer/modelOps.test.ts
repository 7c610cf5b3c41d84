import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { DropoutRng, gatherRows, gelu, linear } from '../../trainer/model/ops';
import { useBackend } from './modelFixtures';

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i]! - b[i]!) <= tol * (1 + Math.abs(b[i]!)), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
}

/** erf to ~1e-15 by its Maclaurin series (|x| < 3) or the continued fraction of erfc, in float64. */
function erf64(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return Math.sign(x) * sum * (2 / Math.sqrt(Math.PI));
  }
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
}

for (const backend of ['cpu', 'wasm'] as const) {
  test(`[${backend}] linear: same values and gradients as matMul+add with tfjs's own gradient`, async () => {
    await useBackend(backend);
    const x = tf.randomNormal([5, 4], 0, 1, 'float32', 1) as tf.Tensor2D;
    const w = tf.randomNormal([4, 3], 0, 1, 'float32', 2) as tf.Tensor2D;
    const b = tf.randomNormal([3], 0, 1, 'float32', 3) as tf.Tensor1D;
    const dy = tf.randomNormal([5, 3], 0, 1, 'float32', 4);
    const ours = tf.grads((xx, ww, bb) =>
      tf.sum(tf.mul(linear(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D), dy)),
    );
    const ref = tf.grads((xx, ww, bb) => tf.sum(tf.mul(tf.add(tf.matMul(xx, ww), bb), dy)));
    close(linear(x, w, b).dataSync(), tf.add(tf.matMul(x, w), b).dataSync(), 1e-6, 'value');
    const go = ours([x, w, b]);
    const gr = ref([x, w, b]);
    ['dx', 'dw', 'db'].forEach((n, i) => close(go[i]!.dataSync(), gr[i]!.dataSync(), 1e-5, n));
    // And against a transposed matmul, as the default gradient computes it.
    close(go[0]!.dataSync(), tf.matMul(dy, w, false, true).dataSync(), 1e-5, 'dx vs transposeB');
    close(go[1]!.dataSync(), tf.matMul(x, dy, true, false).dataSync(), 1e-5, 'dw vs transposeA');
  });

  test(`[${backend}] gatherRows: same values as gather, gradient sums repeated ids`, async () => {
    await useBackend(backend);
    const table = tf.randomNormal([6, 3], 0, 1, 'float32', 5) as tf.Tensor2D;
    const ids = Int32Array.from([4, 1, 4, 0, 4]);
    const dy = tf.randomNormal([5, 3], 0, 1, 'float32', 6);
    close(gatherRows(table, ids).dataSync(), tf.gather(table, tf.tensor1d(ids, 'int32')).dataSync(), 0, 'value');
    const g = tf
      .grad((t) => tf.sum(tf.mul(gatherRows(t as tf.Tensor2D, ids), dy)))(table)
      .dataSync();
    // Expected: row r gets the sum of dy rows i with ids[i] == r (what UnsortedSegmentSum computes on cpu).
    const dyv = dy.dataSync();
    const want = new Float32Array(18);
    ids.forEach((r, i) => {
      for (let j = 0; j < 3; j++) want[r * 3 + j]! += dyv[i * 3 + j]!;
    });
    close(g, want, 1e-6, 'grad');
    if (backend === 'cpu') {
      const ref = tf
        .grad((t) => tf.sum(tf.mul(tf.gather(t, tf.tensor1d(ids, 'int32')), dy)))(table)
        .dataSync();
      close(g, ref, 1e-6, 'grad vs tfjs gather gradient');
    }
  });

  test(`[${backend}] gelu matches exact erf GELU and its derivative`, async () => {
    await useBackend(backend);
    const xs = Array.from({ length: 241 }, (_, i) => -12 + i * 0.1);
    const x = tf.tensor1d(xs);
    const got = gelu(x).dataSync();
    const dgot = tf
      .grad((t) => tf.sum(gelu(t)))(x)
      .dataSync();
    let maxErr = 0;
    let maxDErr = 0;
    xs.forEach((v, i) => {
      const cdf = 0.5 * (1 + erf64(v / Math.SQRT2));
      const want = v * cdf;
      const dwant = cdf + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI);
      maxErr = Math.max(maxErr, Math.abs(got[i]! - want));
      maxDErr = Math.max(maxDErr, Math.abs(dgot[i]! - dwant));
    });
    // Float32 GELU near |x| = 12 is ~12 with ulp 1e-6; the erf approximation contributes ~|x|·1e-7.
    assert.ok(maxErr < 2e-6, `max |gelu - exact| = ${maxErr}`);
    assert.ok(maxDErr < 2e-6, `max |gelu' - exact| = ${maxDErr}`);
  });
}

test('dropout masks: rate close to p, scaled by 1/(1-p), reproducible from the seed', async () => {
  await useBackend('cpu');
  const a = new DropoutRng(11).mask([100, 100], 0.1).dataSync();
  const b = new DropoutRng(11).mask([100, 100], 0.1).dataSync();
  assert.deepEqual(a, b);
  const dropped = a.filter((v) => v === 0).length / a.length;
  assert.ok(Math.abs(dropped - 0.1) < 0.01, `dropped ${dropped}`);
  assert.ok(a.every((v) => v === 0 || Math.abs(v - 1 / 0.9) < 1e-7));
  const rng = new DropoutRng(11);
  rng.mask([10], 0.5);
  assert.notDeepEqual(rng.mask([100], 0.5).dataSync(), new DropoutRng(11).mask([100], 0.5).dataSync());
});

test("dropout masks of a shard of the batch are the whole batch's masks for those examples", async () => {
  await useBackend('cpu');
  // 6 examples, masks [6·4, 3] (the [B·S, H] layout) and [6, 2, 4, 4] (attention), in the same call order.
  const whole = new DropoutRng(5, 6, 0);
  const w1 = whole.mask([24, 3], 0.3).dataSync();
  const w2 = whole.mask([6, 2, 4, 4], 0.3).dataSync();
  const shard = new DropoutRng(5, 2, 3); // examples 3 and 4
  assert.deepEqual(shard.mask([8, 3], 0.3).dataSync(), w1.slice(3 * 12, 5 * 12));
  assert.deepEqual(shard.mask([2, 2, 4, 4], 0.3).dataSync(), w2.slice(3 * 32, 5 * 32));
  // Different examples do not share a stream.
  assert.notDeepEqual(w1.slice(0, 12), w1.slice(12, 24));
  assert.throws(() => new DropoutRng(5, 4).mask([6, 3], 0.3), /does not split into 4 examples/);
});
