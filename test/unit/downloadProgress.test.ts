// Issue 16, item 4 in the editor: the trainer's `download` messages become the run's status bar text
// ("↓ model.safetensors 120/440 MB") and a progress bar per run in the metrics panel, until the file is complete,
// training starts or the run ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { downloadAfter, downloadPercent, formatDownloadedBytes } from '../../common/downloadProgress';
import type { DownloadState } from '../../common/downloadProgress';
import type { TrainerMessage } from '../../common/protocol';
import { metricsRunInfo } from '../../common/webviewProtocol';
import { emptyRunSeries } from '../../common/runSeries';
import { applyMessage } from '../../extension/runStore';
import type { RunInfo } from '../../extension/runModel';
import { statusText, statusTooltip } from '../../extension/statusText';
import { applyDownloadMessages, downloadRows } from '../../webview/metricsView';
import type { PanelRun } from '../../webview/metricsView';

const BERT = 440_449_768;
const dl = (file: string, bytes: number, total: number): TrainerMessage => ({
  type: 'download',
  repo: 'bert-base-uncased',
  file,
  bytes,
  total,
});
const step: TrainerMessage = {
  type: 'step',
  step: 1,
  epoch: 0.1,
  loss: 0.7,
  learningRate: 1e-5,
  gradNorm: 1,
  samplesPerSecond: 1,
  tokensPerSecond: 1,
  elapsedMs: 1,
  etaMs: 1000,
};

function run(over: Partial<RunInfo> = {}): RunInfo {
  return { id: 'r', name: 'sst2', status: 'starting', step: 0, checkpoints: [], live: true, ...over };
}

test('the download in flight follows the messages: a file, the next, none once complete or training', () => {
  let d: DownloadState | undefined;
  d = downloadAfter(d, dl('config.json', 570, 570));
  assert.equal(d, undefined, 'a complete file is not in flight');
  d = downloadAfter(d, dl('model.safetensors', 120_000_000, BERT));
  assert.deepEqual(d, { repo: 'bert-base-uncased', file: 'model.safetensors', bytes: 120_000_000, total: BERT });
  const log: TrainerMessage = { type: 'log', level: 'info', message: 'x' };
  assert.equal(downloadAfter(d, log), d, 'other messages keep it');
  const warning: TrainerMessage = { type: 'error', error: { code: 'w', message: 'w' }, fatal: false };
  assert.equal(downloadAfter(d, warning), d);
  assert.equal(downloadAfter(d, { ...warning, fatal: true }), undefined, 'a failed run downloads nothing more');
  assert.equal(downloadAfter(d, step), undefined);
  assert.equal(downloadAfter(d, { type: 'done', status: 'cancelled', step: 0, elapsedMs: 1 }), undefined);
  assert.equal(downloadAfter(d, dl('model.safetensors', BERT, BERT)), undefined);
});

test('sizes are shown in the unit of the total, and the percent reaches 100 only at the last byte', () => {
  const at = (bytes: number, total: number) => formatDownloadedBytes({ repo: 'm', file: 'f', bytes, total });
  assert.equal(at(120_000_000, BERT), '120/440 MB');
  assert.equal(at(500_000_000, 1_340_000_000), '0.50/1.34 GB');
  assert.equal(at(2_000, 48_000), '2/48 kB');
  assert.equal(at(10, 570), '10/570 B');
  assert.equal(downloadPercent({ repo: 'm', file: 'f', bytes: BERT - 1, total: BERT }), 99);
  assert.equal(downloadPercent({ repo: 'm', file: 'f', bytes: 110_112_442, total: BERT }), 25);
});

test('the status bar says which file downloads and how far, instead of "starting…"', () => {
  const r = run();
  applyMessage(r, dl('model.safetensors', 120_000_000, BERT));
  assert.equal(statusText(r, 0), '$(cloud-download) sst2  ↓ model.safetensors 120/440 MB');
  assert.equal(statusText(r, 2), '$(cloud-download) sst2  ↓ model.safetensors 120/440 MB  (+2)');
  assert.equal(
    statusTooltip(r),
    'sst2: Downloading bert-base-uncased: model.safetensors, 120/440 MB (27%). Click to open the metrics.',
  );
  applyMessage(r, dl('model.safetensors', BERT, BERT));
  assert.equal(r.download, undefined);
  assert.equal(statusText(r, 0), '$(loading~spin) sst2  starting…');
  r.status = 'running';
  applyMessage(r, step);
  assert.equal(statusText(r, 0), '$(sync~spin) sst2  step 1  loss 0.7  ETA 1s');
});

test('the metrics panel maps download messages to one progress bar per downloading run', () => {
  const info = { runId: 'a', live: true, metricForBest: 'loss', config: {} };
  const a: PanelRun = { info, series: emptyRunSeries('a', 'first'), color: '#fff' };
  const b: PanelRun = { info: { ...info, runId: 'b' }, series: emptyRunSeries('b', 'second'), color: '#000' };
  assert.deepEqual(downloadRows([a]), []);
  assert.equal(applyDownloadMessages(a, [dl('config.json', 570, 570)]), false, 'nothing to redraw');
  assert.equal(
    applyDownloadMessages(a, [dl('model.safetensors', 1e8, BERT), dl('model.safetensors', 2e8, BERT)]),
    true,
  );
  assert.deepEqual(downloadRows([a]), [
    {
      runId: 'a',
      text: 'Downloading bert-base-uncased: model.safetensors, 200/440 MB (45%)',
      bytes: 2e8,
      total: BERT,
    },
  ]);
  // Comparing runs: each bar is named by its run.
  assert.equal(downloadRows([a, b])[0]!.name, 'first');
  assert.equal(downloadRows([a, b]).length, 1);
  assert.equal(applyDownloadMessages(a, [step]), true);
  assert.deepEqual(downloadRows([a, b]), []);
});

test('a snapshot carries the download in flight, checked like every panel message', () => {
  const info = { runId: 'a', live: true, metricForBest: 'loss', config: {} };
  const download = { repo: 'org/m', file: 'pytorch_model.bin', bytes: 5, total: 10 };
  assert.equal(metricsRunInfo.check({ ...info, download }), undefined);
  assert.match(metricsRunInfo.check({ ...info, download: { ...download, bytes: -1 } }) ?? '', /download\.bytes/);
  assert.match(metricsRunInfo.check({ ...info, download: { ...download, file: 3 } }) ?? '', /download\.file/);
});
