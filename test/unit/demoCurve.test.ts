/**
 * The sample-efficiency curve's pure parts: the subsets (nested, stratified, deterministic), the statistics and
 * "where they meet" on hand-made numbers, the report's sentences made from them, and the chart.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertWellFormedSvg } from './svgCheck';
import { compareArms, curveStats, whereTheyMeet, type CurvePoint, type SizeComparison } from '../../scripts/demo/curve';
import { sampleEfficiencySvg } from '../../scripts/demo/curveChart';
import { curveSection } from '../../scripts/demo/curveReport';
import type { RunResult } from '../../scripts/demo/report';
import { summariseMetrics } from '../../scripts/demo/runMetrics';
import { nestedSubsets, stratifiedOrder } from '../../scripts/demo/subsets';
import { findTask } from '../../scripts/demo/tasks';

/** 700 'pos', 250 'neg', 50 'neutral', interleaved as a data file might have them. */
const labels = Array.from({ length: 1000 }, (_, i) => (i % 20 === 7 ? 'neutral' : i % 4 === 1 ? 'neg' : 'pos'));
const share = (l: string) => labels.filter((x) => x === l).length / labels.length;

test('subsets are nested, stratified to within one example per label, and without repeats', () => {
  const sizes = [10, 64, 128, 256, 512];
  const subsets = nestedSubsets(labels, sizes, 42);
  assert.deepEqual(
    subsets.map((s) => s.size),
    sizes,
  );
  for (const [i, s] of subsets.entries()) {
    assert.equal(s.rows.length, s.size);
    assert.equal(new Set(s.rows).size, s.size, 'no row twice');
    assert.ok(s.rows.every((r) => Number.isInteger(r) && r >= 0 && r < labels.length));
    const next = subsets[i + 1];
    if (next) assert.deepEqual(next.rows.slice(0, s.size), s.rows, `${s.size} is the start of ${next.size}`);
    for (const label of ['pos', 'neg', 'neutral']) {
      const count = s.rows.filter((r) => labels[r] === label).length;
      assert.ok(Math.abs(count - share(label) * s.size) <= 1, `${label}: ${count} of ${s.size}`);
    }
  }
  // The rarest label is in even the smallest subset whose quota reaches one example.
  assert.ok(subsets[1]!.rows.some((r) => labels[r] === 'neutral'));
});

test('subsets are drawn from the seed: the same seed gives the same rows, another seed others', () => {
  assert.deepEqual(nestedSubsets(labels, [100], 42), nestedSubsets(labels, [100], 42));
  assert.notDeepEqual(nestedSubsets(labels, [100], 42)[0]!.rows, nestedSubsets(labels, [100], 7)[0]!.rows);
  // Not the first rows of the file: a shuffled draw.
  assert.notDeepEqual(
    [...nestedSubsets(labels, [100], 42)[0]!.rows].sort((a, b) => a - b),
    [...Array(100).keys()],
  );
});

test('the whole order is a permutation, and sizes at or above the split are left to the full-split point', () => {
  const order = stratifiedOrder(labels, 1);
  assert.deepEqual(
    [...order].sort((a, b) => a - b),
    [...labels.keys()],
  );
  assert.deepEqual(
    nestedSubsets(labels, [64, 1000, 5000, 64], 1).map((s) => s.size),
    [64],
  );
});

test('curve statistics: mean and sample std over seeds, per arm and size, sizes ascending', () => {
  const stats = curveStats([
    { arm: 'scratch', size: 128, score: 0.6 },
    { arm: 'scratch', size: 64, score: 0.5 },
    { arm: 'scratch', size: 64, score: 0.7 },
    { arm: 'scratch', size: 128, score: null },
    { arm: 'finetune', size: 64, score: 0.8 },
  ]);
  const scratch = stats.get('scratch')!;
  assert.deepEqual(
    scratch.map((p) => p.size),
    [64, 128],
  );
  assert.ok(Math.abs(scratch[0]!.mean - 0.6) < 1e-12);
  assert.ok(Math.abs(scratch[0]!.std - Math.sqrt(0.02)) < 1e-12, 'sample std of 0.5 and 0.7');
  assert.deepEqual(scratch[1], { size: 128, mean: 0.6, std: 0, n: 1 });
  assert.equal(stats.get('finetune')!.length, 1);
});

const pt = (size: number, mean: number, std: number, n = 3): CurvePoint => ({ size, mean, std, n });

test('compareArms: a gain counts when it is over two standard errors of the difference', () => {
  const base = [pt(64, 0.6, 0.03), pt(256, 0.7, 0.03), pt(1024, 0.8, 0.03)];
  const tuned = [pt(64, 0.7, 0.03), pt(256, 0.72, 0.03), pt(1024, 0.7, 0.03), pt(4096, 0.9, 0)];
  const c = compareArms(base, tuned);
  assert.deepEqual(
    c.map((x) => x.size),
    [64, 256, 1024],
    'only sizes both arms have',
  );
  const se = Math.sqrt((2 * 0.03 ** 2) / 3); // 0.0245: 2 se = 0.049
  assert.ok(Math.abs(c[0]!.noise! - se) < 1e-12);
  assert.deepEqual(
    c.map((x) => x.verdict),
    ['helps', 'even', 'hurts'],
  );
  assert.ok(Math.abs(c[0]!.gain - 0.1) < 1e-12);
  const single = compareArms([pt(64, 0.6, 0, 1)], [pt(64, 0.61, 0, 1)]);
  assert.equal(single[0]!.noise, null, 'one seed: no spread');
  assert.equal(single[0]!.verdict, 'helps', 'then the sign decides');
});

const cmp = (size: number, gain: number, verdict: SizeComparison['verdict']): SizeComparison => ({
  size,
  gain,
  noise: 0.01,
  verdict,
});

test('whereTheyMeet: the size from which fine-tuning stops helping, and the crossing on a log scale', () => {
  const meet = whereTheyMeet([cmp(100, 0.1, 'helps'), cmp(400, -0.1, 'even'), cmp(1600, -0.05, 'even')]);
  assert.equal(meet.kind, 'meet');
  assert.equal(meet.size, 400);
  // The gain falls from +0.1 to -0.1 halfway between 100 and 400 on a log scale: at 200.
  assert.ok(Math.abs(meet.crossing! - 200) < 1e-9, String(meet.crossing));
  // A help after an even size moves the meeting point past it.
  const late = whereTheyMeet([
    cmp(100, 0.1, 'helps'),
    cmp(200, 0.01, 'even'),
    cmp(400, 0.1, 'helps'),
    cmp(800, 0, 'even'),
  ]);
  assert.equal(late.size, 800);
  assert.ok(Math.abs(late.crossing! - 800) < 1e-9, 'the gain reaches zero exactly at 800');
  const apart = whereTheyMeet([cmp(64, 0.2, 'helps'), cmp(2084, 0.05, 'helps')]);
  assert.deepEqual(apart, { kind: 'apart' });
  const never = whereTheyMeet([cmp(64, 0.01, 'even'), cmp(128, -0.02, 'even')]);
  assert.equal(never.kind, 'never-ahead');
  assert.ok(never.crossing! > 64 && never.crossing! < 128);
  assert.deepEqual(whereTheyMeet([]), { kind: 'none' });
});

/** A run result whose only content is its test scores. */
function run(variant: string, seed: number, accuracy: number, trainExamples?: number): RunResult {
  const line = { type: 'eval', step: 10, split: 'test', metrics: { accuracy, f1: accuracy } };
  return {
    run: {
      variant,
      seed,
      runDir: 'x',
      trainableParams: 1,
      totalParams: 1,
      ...(trainExamples ? { trainExamples } : {}),
    },
    summary: summariseMetrics(JSON.stringify(line)),
  };
}

test('the report section says, from the numbers, where fine-tuning helps and where the arms meet', () => {
  const runs = [
    ...[0.55, 0.57].map((a, i) => run('scratch', i + 1, a, 64)),
    ...[0.7, 0.72].map((a, i) => run('finetune', i + 1, a, 64)),
    ...[0.75, 0.77].map((a, i) => run('scratch', i + 1, a, 256)),
    ...[0.76, 0.74].map((a, i) => run('finetune', i + 1, a, 256)),
    ...[0.8, 0.82, 0.81].map((a, i) => run('scratch', i + 1, a)),
    ...[0.8, 0.8, 0.8].map((a, i) => run('finetune', i + 1, a)),
    run('finetune-frozen', 1, 0.99),
  ];
  const curve = { sizes: [64, 256], seeds: [1, 2], subsetSeed: 42, trainRows: 2084, rule: 'Same steps.' };
  const s = curveSection(curve, runs, findTask('sentiment'), 'sample-efficiency.svg');
  const text = s.markdown.join('\n');
  assert.match(text, /\| 64 \| 56\.0 ± 1\.4 \(2\) \| 71\.0 ± 1\.4 \(2\) \| \+15\.0 \| helps \|/);
  assert.match(text, /\| 2,084 \| 81\.0 ± 1\.0 \(3\) \| 80\.0 ± 0\.0 \(3\) \| -1\.0 \| even \|/);
  assert.match(text, /Fine-tuning helps at 64 examples: \+15\.0 at 64 points of test accuracy\./);
  assert.match(text, /From 256 examples on, the two meet/);
  assert.equal(s.meeting.size, 256);
  assert.ok(!s.stats.has('finetune-frozen'), 'the curve compares scratch and fine-tune only');
  assert.equal((s.svg.match(/<circle /g) ?? []).length, 6);
});

test('the chart has one marker and one error bar per point, on a log-scale x axis', () => {
  const arms = [
    { arm: 'scratch', points: [pt(64, 0.6, 0.05), pt(128, 0.65, 0.02), pt(256, 0.7, 0.01)] },
    { arm: 'fine<tune>', points: [pt(64, 0.7, 0.04), pt(128, 0.72, 0.03), pt(256, 0.74, 0)] },
  ];
  const svg = sampleEfficiencySvg(arms, 'A & B');
  assertWellFormedSvg(svg);
  const circles = [...svg.matchAll(/<circle class="point" cx="([\d.]+)" cy="([\d.]+)"/g)];
  assert.equal(circles.length, 6);
  assert.equal((svg.match(/<g class="error-bar">/g) ?? []).length, 6);
  // Doubling sizes are equally spaced on a log scale.
  const xs = circles.slice(0, 3).map((m) => Number(m[1]));
  assert.ok(Math.abs(xs[1]! - xs[0]! - (xs[2]! - xs[1]!)) < 0.2, xs.join(','));
  // Higher scores are drawn higher (smaller y); the bar spans mean ± std around the marker.
  const ys = circles.slice(0, 3).map((m) => Number(m[2]));
  assert.ok(ys[0]! > ys[1]! && ys[1]! > ys[2]!);
  const firstBar = svg.match(/<g class="error-bar"><line x1="[\d.]+" y1="([\d.]+)" x2="[\d.]+" y2="([\d.]+)"/)!;
  assert.ok(Number(firstBar[1]) < ys[0]! && Number(firstBar[2]) > ys[0]!);
  assert.match(svg, /fine&lt;tune&gt;, 64 examples: 70\.0 ± 4\.0 \(3 seeds\)/);
  assert.equal((svg.match(/<path d="M[\d.]+,[\d.]+( L[\d.]+,[\d.]+){2}"/g) ?? []).length, 2, 'a line per arm');
});
