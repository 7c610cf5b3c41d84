/**
 * The task metrics (GLUE's binary F1, macro-F1, Matthews, Pearson, Spearman, multi-label F1 and subset accuracy)
 * against values worked out by hand, and against metrics_reference.py: the same definitions written
 * independently in numpy, run on random cases with ties and degenerate classes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { classificationMetrics } from '../../common/metrics';
import { averageRanks, matthewsFromConfusion, pearson, spearman } from '../../common/metrics/correlation';
import { multiLabelMetrics, thresholdLogits } from '../../common/metrics/multiLabel';
import { mulberry32, randInt } from '../../common/random';
import { pythonWith, requirePython, skipUnless } from './hfParityCases';

const close = (a: number, b: number, what: string, tol = 1e-9) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('binary F1 is the positive class (label id 1), as GLUE scores MRPC; macro-F1 and MCC beside it', () => {
  // truth 1 1 1 0 0, pred 1 1 0 1 0: tp 2, fp 1, fn 1, tn 1.
  const m = classificationMetrics([1, 1, 1, 0, 0], [1, 1, 0, 1, 0], ['no', 'yes']);
  close(m.f1, 2 / 3, 'f1 of label 1');
  close(m.f1Macro, (2 / 3 + 1 / 2) / 2, 'macro: class 0 has F1 1/2');
  close(m.matthews, (2 * 1 - 1 * 1) / Math.sqrt(3 * 3 * 2 * 2), 'mcc = (tp·tn − fp·fn)/√(…)');
  close(m.accuracy, 3 / 5, 'accuracy');
});

test('degenerate cases give 0 as sklearn does: no positive class, one class only', () => {
  // Neither present nor predicted: sklearn's f1_score gives 0 (zero_division).
  assert.equal(classificationMetrics([0, 0, 0], [0, 0, 0], ['a', 'b']).f1, 0);
  // All one class on either side: MCC's denominator is 0, and sklearn's matthews_corrcoef answers 0.
  assert.equal(classificationMetrics([1, 1, 1], [1, 1, 1], ['a', 'b']).matthews, 0);
  assert.equal(classificationMetrics([0, 1, 1], [1, 1, 1], ['a', 'b']).matthews, 0);
  assert.equal(matthewsFromConfusion([]), 0);
  assert.equal(pearson([1, 2, 3], [5, 5, 5]), 0);
  assert.equal(pearson([1], [2]), 0);
});

test('with more than two labels f1 is the macro average; MCC has the multiclass form', () => {
  const m = classificationMetrics([0, 1, 2, 2], [0, 2, 2, 1], ['a', 'b', 'c']);
  assert.equal(m.f1, m.f1Macro);
  // sklearn: c = 2, s = 4, t = (1,1,2), p = (1,1,2): (2·4 − 6)/√((16 − 6)(16 − 6)) = 0.2.
  close(m.matthews, 0.2, 'multiclass mcc');
  close(
    matthewsFromConfusion([
      [1, 0],
      [0, 1],
    ]),
    1,
    'perfect',
  );
  close(
    matthewsFromConfusion([
      [0, 1],
      [1, 0],
    ]),
    -1,
    'inverted',
  );
});

test('Pearson and Spearman with ties (average ranks)', () => {
  assert.deepEqual([...averageRanks([10, 20, 20, 30, 20])], [1, 3, 3, 5, 3]);
  close(pearson([1, 2, 3], [2, 4, 7]), 0.9933992677987828, 'pearson by hand: 4.5/√(2·4.6667)');
  // x ranks 1,2.5,2.5,4; y ranks 1,2,3,4: r = 4.5 / √(4.5·5) = 0.9486832980505138.
  close(spearman([1, 2, 2, 3], [1, 2, 3, 4]), 0.9486832980505138, 'spearman with a tie');
  close(spearman([1, 2, 3, 4], [10, 100, 1000, 1e4]), 1, 'monotone');
  close(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1, 'reversed');
});

test('multi-label: subset accuracy, micro- and macro-F1 (by hand), threshold on the sigmoid', () => {
  const truth = [1, 0, 1, 0, 1, 0, 1, 1, 0];
  const pred = [1, 0, 0, 0, 1, 0, 1, 1, 1];
  const m = multiLabelMetrics(truth, pred, ['a', 'b', 'c']);
  close(m.accuracy, 1 / 3, 'only the second row has every label right');
  // a: tp 2; b: tp 2; c: tp 0 fp 1 fn 1 → micro 2·4/(2·4 + 1 + 1) = 0.8; macro (1 + 1 + 0)/3.
  close(m.f1Micro, 0.8, 'micro');
  close(m.f1Macro, 2 / 3, 'macro');
  assert.deepEqual(
    m.perClass.map((p) => p.support),
    [2, 2, 1],
  );
  assert.deepEqual([...thresholdLogits([0.1, -0.1, 3], 0.5)], [1, 0, 1]);
  assert.deepEqual([...thresholdLogits([0.1, -0.1, 3], 0.9)], [0, 0, 1]);
});

const numpy = pythonWith('numpy');

interface Case {
  kind: 'regression' | 'single' | 'multi';
  [k: string]: unknown;
}

function randomCases(): Case[] {
  const rng = mulberry32(17);
  const cases: Case[] = [];
  for (let i = 0; i < 12; i++) {
    const n = 5 + randInt(rng, 40);
    // Values on a coarse grid, so that ties are common (as STS-B's scores on a 0–5 scale in fifths).
    const x = Array.from({ length: n }, () => randInt(rng, 6) / 5);
    const y = x.map((v) => Math.round((v + rng() - 0.5) * 5) / 5);
    cases.push({ kind: 'regression', x, y });
    const k = 2 + (i % 3);
    const truth = Array.from({ length: n }, () => randInt(rng, k));
    const pred = truth.map((t) => (rng() < 0.6 ? t : randInt(rng, k)));
    cases.push({ kind: 'single', k, truth, pred });
    const cells = () => Array.from({ length: k }, () => (rng() < 0.4 ? 1 : 0));
    cases.push({ kind: 'multi', truth: Array.from({ length: n }, cells), pred: Array.from({ length: n }, cells) });
  }
  return cases;
}

function ours(c: Case): Record<string, number> {
  if (c.kind === 'regression') {
    const [x, y] = [c.x as number[], c.y as number[]];
    return { pearson: pearson(x, y), spearmanr: spearman(x, y) };
  }
  if (c.kind === 'single') {
    const names = Array.from({ length: c.k as number }, (_, i) => `L${i}`);
    const m = classificationMetrics(c.truth as number[], c.pred as number[], names);
    const f1Positive = m.perClass[1]!.f1;
    return { accuracy: m.accuracy, f1_positive: f1Positive, f1_macro: m.f1Macro, matthews_correlation: m.matthews };
  }
  const truth = c.truth as number[][];
  const names = truth[0]!.map((_, i) => `L${i}`);
  const m = multiLabelMetrics(truth.flat(), (c.pred as number[][]).flat(), names);
  return { accuracy: m.accuracy, f1_micro: m.f1Micro, f1_macro: m.f1Macro };
}

test(
  'every metric agrees with an independent numpy implementation on random cases with ties',
  { skip: skipUnless(numpy, 'numpy', { requiredInCi: true }) },
  () => {
    const cases = randomCases();
    const script = path.join(__dirname, 'metrics_reference.py');
    const r = spawnSync(requirePython(numpy, 'numpy'), [script], {
      input: JSON.stringify(cases),
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const reference = JSON.parse(r.stdout) as Record<string, number>[];
    assert.equal(reference.length, cases.length);
    cases.forEach((c, i) => {
      for (const [name, expected] of Object.entries(reference[i]!)) {
        close(ours(c)[name]!, expected, `case ${i} (${c.kind}) ${name}`, 1e-9);
      }
    });
  },
);
