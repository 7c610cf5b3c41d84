import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  alignRuns,
  downsampleMinMax,
  emaSmooth,
  MinMaxBlocks,
  nearestIndex,
  niceTicks,
  toCsv,
} from '../../common/chartData';

test('debiased EMA matches hand-computed values', () => {
  // w = 0.5: acc1 = 0.5*2 = 1, debias 1-0.5 = 0.5 -> 2; acc2 = 0.5*1 + 0.5*4 = 2.5, debias 0.75 -> 3.3333;
  // acc3 = 0.5*2.5 + 0.5*0 = 1.25, debias 0.875 -> 1.428571...
  const s = emaSmooth([2, 4, 0], 0.5);
  assert.equal(s[0], 2);
  assert.ok(Math.abs(s[1]! - 10 / 3) < 1e-12);
  assert.ok(Math.abs(s[2]! - 1.25 / 0.875) < 1e-12);
});

test('EMA: weight 0 is the raw series; the first value is never pulled towards 0', () => {
  assert.deepEqual(emaSmooth([3, 1, 2], 0), [3, 1, 2]);
  assert.equal(emaSmooth([5, 5, 5], 0.99)[0], 5);
  assert.ok(Math.abs(emaSmooth([5, 5, 5], 0.99)[2]! - 5) < 1e-9);
});

test('EMA passes null through and leaves it out of the average', () => {
  const s = emaSmooth([2, null, 4], 0.5);
  assert.equal(s[1], null);
  assert.ok(Math.abs(s[2]! - 10 / 3) < 1e-12);
});

test('downsampling keeps extremes and bounds the number of points', () => {
  const n = 100_000;
  const xs = Array.from({ length: n }, (_, i) => i);
  const ys = xs.map((i) => Math.sin(i / 1000));
  ys[54_321] = 50; // a spike
  ys[77_777] = -50;
  const { indices } = downsampleMinMax(xs, ys, 0, n - 1, 500);
  assert.ok(indices.length <= 4 * 500 + 2, `got ${indices.length} points`);
  assert.ok(indices.includes(54_321));
  assert.ok(indices.includes(77_777));
  assert.ok(indices.includes(0) && indices.includes(n - 1));
  for (let i = 1; i < indices.length; i++) assert.ok(indices[i]! > indices[i - 1]!, 'ascending, no duplicates');
});

test('downsampling a zoomed range reaches one point past each edge and keeps small ranges whole', () => {
  const xs = [0, 10, 20, 30, 40, 50];
  const ys = [1, 2, 3, 4, 5, 6];
  assert.deepEqual(downsampleMinMax(xs, ys, 15, 35, 100).indices, [1, 2, 3, 4]);
  assert.deepEqual(downsampleMinMax([], [], 0, 1, 10).indices, []);
});

test('nearestIndex picks the closest x', () => {
  const xs = [0, 10, 20];
  assert.equal(nearestIndex(xs, 4), 0);
  assert.equal(nearestIndex(xs, 6), 1);
  assert.equal(nearestIndex(xs, 100), 2);
  assert.equal(nearestIndex([], 1), -1);
});

test('alignment by step puts runs on the union of steps', () => {
  const a = { id: 'a', steps: [1, 2, 3], epochs: [0.5, 1, 1.5], values: [3, 2, 1] };
  const b = { id: 'b', steps: [2, 4], epochs: [0.25, 0.5], values: [9, 8] };
  const t = alignRuns([a, b], 'step');
  assert.deepEqual(t.x, [1, 2, 3, 4]);
  assert.deepEqual(t.columns, [
    [3, 2, 1, null],
    [null, 9, null, 8],
  ]);
});

test('alignment by epoch meets runs with different steps per epoch', () => {
  // Run a: 3 steps per epoch, run b: 6 steps per epoch; epoch 1/3 computed two ways must line up.
  const a = { id: 'a', steps: [1, 2, 3], epochs: [1 / 3, 2 / 3, 1], values: [1, 2, 3] };
  const b = { id: 'b', steps: [2, 4, 6], epochs: [2 / 6, 4 / 6, 6 / 6], values: [4, 5, 6] };
  const t = alignRuns([a, b], 'epoch');
  assert.equal(t.x.length, 3);
  assert.deepEqual(t.columns, [
    [1, 2, 3],
    [4, 5, 6],
  ]);
});

test('ticks are round numbers inside the range; log ticks are decades', () => {
  const unit = niceTicks(0, 1, 5);
  assert.equal(unit.length, 6);
  [0, 0.2, 0.4, 0.6, 0.8, 1].forEach((v, i) => assert.ok(Math.abs(unit[i]! - v) < 1e-9));
  const t = niceTicks(0.13, 0.97, 4);
  assert.ok(t.every((v) => v >= 0.13 && v <= 0.97));
  assert.deepEqual(niceTicks(0.001, 10, 10, true), [0.001, 0.01, 0.1, 1, 10]);
});

test('CSV quotes fields that need it and leaves nulls empty', () => {
  assert.equal(
    toCsv(
      ['a', 'b'],
      [
        [1, null],
        ['x,y', 'q"'],
      ],
    ),
    'a,b\n1,\n"x,y","q"""\n',
  );
});

test('block-accelerated downsampling picks exactly the points a full scan picks, also after appends', () => {
  const xs: number[] = [];
  const ys: (number | null)[] = [];
  const blocks = new MinMaxBlocks();
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (const n of [1000, 5000, 20_017]) {
    while (xs.length < n) {
      xs.push(xs.length);
      ys.push(xs.length % 97 === 0 ? null : rnd());
    }
    for (const [x0, x1, b] of [
      [0, n, 100],
      [123, 4567, 37],
      [n / 3, n / 2, 10],
    ] as const) {
      assert.deepEqual(
        downsampleMinMax(xs, ys, x0, x1, b, blocks).indices,
        downsampleMinMax(xs, ys, x0, x1, b).indices,
      );
    }
  }
});
