// What the metrics panel derives from its runs: series with raw + smoothed lines, markers, the CSV and the
// comparison tables (webview/metricsView.ts, pure apart from types).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyMessage, emptyRunSeries } from '../../common/runSeries';
import type { RunSeriesData } from '../../common/runSeries';
import {
  configDifferences,
  finalMetricRows,
  markers,
  metricsCsv,
  SmoothCache,
  stepSeries,
} from '../../webview/metricsView';
import type { PanelRun } from '../../webview/metricsView';

function run(
  id: string,
  losses: number[],
  stepsPerEpoch: number,
  config: Record<string, unknown>,
  patience?: number,
): PanelRun {
  const s: RunSeriesData = emptyRunSeries(id, id);
  losses.forEach((loss, i) =>
    applyMessage(s, {
      type: 'step',
      step: i + 1,
      epoch: (i + 1) / stepsPerEpoch,
      loss,
      learningRate: 1e-3,
      gradNorm: 1,
      samplesPerSecond: 10,
      tokensPerSecond: 100,
      elapsedMs: i,
      etaMs: null,
    }),
  );
  applyMessage(s, {
    type: 'eval',
    step: 2,
    epoch: 2 / stepsPerEpoch,
    split: 'validation',
    metrics: { accuracy: 0.8 },
    isBest: true,
  });
  applyMessage(s, {
    type: 'eval',
    step: 4,
    epoch: 4 / stepsPerEpoch,
    split: 'validation',
    metrics: { accuracy: 0.7 },
    isBest: false,
    patienceUsed: 1,
  });
  return {
    info: { runId: id, live: false, config, ...(patience ? { earlyStoppingPatience: patience } : {}) },
    series: s,
    color: '#000',
  };
}

test('smoothed lines are debiased EMAs of the raw ones, extended incrementally', () => {
  const r = run('a', [4, 2, 2, 2], 2, {});
  const cache = new SmoothCache();
  const [raw, smooth] = stepSeries([r], 'loss', true, 0.5, 'step', cache);
  assert.deepEqual(Array.from(raw!.ys), [4, 2, 2, 2]);
  assert.equal(smooth!.ys[0], 4);
  assert.ok(Math.abs(smooth!.ys[1]! - (0.5 * 2 + 0.25 * 4) / 0.75) < 1e-12);
  applyMessage(r.series, {
    type: 'step',
    step: 5,
    epoch: 2.5,
    loss: 10,
    learningRate: 1e-3,
    gradNorm: 1,
    samplesPerSecond: 10,
    tokensPerSecond: 100,
    elapsedMs: 5,
    etaMs: null,
  });
  const [, again] = stepSeries([r], 'loss', true, 0.5, 'step', cache);
  assert.equal(again!.ys.length, 5);
  assert.ok(again!.ys[4]! > again!.ys[3]!);
});

test('markers: the best evaluation, and the patience count when early stopping is on', () => {
  const m = markers([run('a', [1, 1, 1, 1], 2, {}, 3)], 'step');
  assert.deepEqual(
    m.map((x) => [x.x, x.label]),
    [
      [2, 'best'],
      [4, 'patience 1/3'],
    ],
  );
  assert.deepEqual(
    markers([run('a', [1, 1, 1, 1], 2, {})], 'epoch').map((x) => x.x),
    [1],
  );
});

test('the CSV puts two runs on one step column; the tables keep differing config keys and final metrics', () => {
  const a = run('a', [1, 2], 2, { 'training.learning_rate': 0.001, 'training.seed': 1 });
  const b = run('b', [3, 4, 5], 2, { 'training.learning_rate': 0.0003, 'training.seed': 1 });
  const lines = metricsCsv([a, b], 'step').trim().split('\n');
  assert.equal(
    lines[0],
    'step,a/loss,a/learningRate,a/gradNorm,a/samplesPerSecond,a/tokensPerSecond,a/eval_accuracy,b/loss,b/learningRate,b/gradNorm,b/samplesPerSecond,b/tokensPerSecond,b/eval_accuracy',
  );
  assert.equal(lines.length, 1 + 4, 'steps 1..3 and the eval at step 4');
  assert.match(lines[3]!, /^3,,,,,,,5,/);
  assert.deepEqual(configDifferences([a, b]), [{ key: 'training.learning_rate', values: ['0.001', '0.0003'] }]);
  assert.deepEqual(finalMetricRows([a, b]), [{ key: 'accuracy', values: [0.7, 0.7] }]);
});
