/**
 * The new metric names in the places that carry them: eval messages (new and old runs' metrics.jsonl alike), the
 * metrics panel's charts and their titles, and the HF keys of trainer_state.json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evalMetricKey, metricTitle } from '../../common/metricNames';
import { parseTrainerMessage } from '../../common/protocol';
import { applyMessage, emptyRunSeries } from '../../common/runSeries';
import { evalMetricsOf } from '../../webview/metricsView';
import type { PanelRun } from '../../webview/metricsView';

const evalLine = (metrics: Record<string, number>) =>
  JSON.stringify({ type: 'eval', step: 4, epoch: 1, split: 'validation', metrics, isBest: true });

test('eval messages carry any metric name: an old run (f1 only) and a new one (MCC, Pearson, Spearman)', () => {
  const old = parseTrainerMessage(evalLine({ loss: 0.5, accuracy: 0.8, f1: 0.79 }));
  assert.ok(old.ok);
  const metrics = { loss: 0.4, accuracy: 0.8, f1: 0.85, f1_macro: 0.79, matthews_correlation: 0.6 };
  const single = parseTrainerMessage(evalLine(metrics));
  assert.ok(single.ok && single.message.type === 'eval');
  assert.deepEqual(single.message.metrics, metrics);
  assert.ok(parseTrainerMessage(evalLine({ loss: 1.2, pearson: -0.25, spearmanr: 0.3 })).ok);
});

test('the metrics panel charts every metric of its runs, titled with the HF key', () => {
  const series = emptyRunSeries('r', 'r');
  for (const line of [evalLine({ loss: 1.2, pearson: 0.5, spearmanr: 0.4 })]) {
    const parsed = parseTrainerMessage(line);
    assert.ok(parsed.ok);
    applyMessage(series, parsed.message);
  }
  const run = { series, info: {}, color: '#fff' } as unknown as PanelRun;
  assert.deepEqual(evalMetricsOf([run]), ['loss', 'pearson', 'spearmanr']);
  assert.equal(metricTitle('matthews_correlation'), 'Matthews correlation (eval_matthews_correlation)');
  assert.equal(metricTitle('eval_spearmanr'), 'Spearman ρ (eval_spearmanr)');
  assert.equal(metricTitle('f1'), 'F1 (eval_f1)');
  assert.equal(metricTitle('loss'), 'eval_loss');
  assert.equal(metricTitle('some_custom'), 'eval_some_custom');
  assert.equal(evalMetricKey('eval_pearson'), 'eval_pearson');
});
