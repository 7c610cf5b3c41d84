/**
 * The live metrics panel (one run, or several overlaid for comparison). The host sends a snapshot of every run's
 * series and then the trainer's messages as they come; this page applies them with the same code the host used
 * (common/runSeries.ts), so a run read from disk and a live one look the same.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-icon/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import { formatValue } from '../common/chartData';
import { evalMetricKey, metricTitle } from '../common/metricNames';
import { applyMessage, bestEval, runStatus } from '../common/runSeries';
import { metricsAppend, metricsCommands, metricsState } from '../common/webviewProtocol';
import type { MetricsAppend, MetricsState } from '../common/webviewProtocol';
import type { AlignBy } from '../common/chartData';
import { LineChart } from './chart';
import { button, clear, h, problemBanner, themeColor } from './dom';
import { PanelIpc } from './ipc';
import {
  configDifferences,
  evalMetricsOf,
  evalSeries,
  finalMetricRows,
  markers,
  metricsCsv,
  SmoothCache,
  STEP_CHARTS,
  stepSeries,
  applyDownloadMessages,
  downloadRows,
} from './metricsView';
import type { PanelRun } from './metricsView';
import { evalHeading, renderEvaluation } from './evaluationView';

const PALETTE = [
  '--vscode-charts-blue',
  '--vscode-charts-orange',
  '--vscode-charts-green',
  '--vscode-charts-purple',
  '--vscode-charts-red',
  '--vscode-charts-yellow',
];
const FALLBACK = ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700'];

const root = document.getElementById('root')!;
const showProblem = problemBanner(root);
const runs: PanelRun[] = [];
const cache = new SmoothCache();
const header = h('div', { class: 'header' });
const toolbar = h('div', { class: 'toolbar' });
const downloads = h('div', { class: 'downloads' });
const charts = h('div', { class: 'charts' });
const details = h('div', { class: 'details' });
root.append(header, toolbar, downloads, charts, details);

const ipc = new PanelIpc<MetricsState, MetricsAppend, typeof metricsCommands>({
  state: metricsState,
  append: metricsAppend,
  commands: metricsCommands,
  onProblem: showProblem,
  onSnapshot(state) {
    runs.length = 0;
    cache.clear();
    headerRows.clear();
    header.replaceChildren();
    lastDetailsKey = '';
    state.runs.forEach((r, i) =>
      runs.push({
        info: r.info,
        series: r.series,
        color: themeColor(PALETTE[i % PALETTE.length]!, FALLBACK[i % FALLBACK.length]!),
        ...(r.info.download ? { download: r.info.download } : {}),
      }),
    );
    rebuild();
  },
  onAppend(item) {
    const r = runs.find((x) => x.info.runId === item.runId);
    if (!r) return;
    let changed = false;
    if (item.info) {
      r.info = item.info;
      changed = true;
    }
    for (const m of item.messages) changed = applyMessage(r.series, m) || changed;
    changed = applyDownloadMessages(r, item.messages) || changed;
    if (!changed) return;
    if (evalMetricsOf(runs).length !== evalCharts.size) rebuild();
    else scheduleRender();
  },
});

let view = ipc.viewState({
  smoothing: 0.6,
  logY: false,
  by: 'step' as AlignBy,
  zoom: undefined as [number, number] | undefined,
});
const setView = (patch: Partial<typeof view>) => {
  view = { ...view, ...patch };
  ipc.saveViewState(view);
  scheduleRender();
};

const onZoom = (range: [number, number] | undefined) => setView({ zoom: range });
const stepCharts = new Map<string, LineChart>();
const evalCharts = new Map<string, LineChart>();

function buildToolbar(): void {
  clear(toolbar);
  const slider = h('input', {
    type: 'range',
    min: '0',
    max: '0.99',
    step: '0.01',
    value: String(view.smoothing),
    'aria-label': 'Smoothing',
  });
  const sliderValue = h('span', { class: 'muted' }, view.smoothing.toFixed(2));
  slider.addEventListener('input', () => {
    sliderValue.textContent = Number(slider.value).toFixed(2);
    setView({ smoothing: Number(slider.value) });
  });
  const log = h('vscode-checkbox', { label: 'Log scale', checked: view.logY }) as HTMLElement & { checked: boolean };
  log.addEventListener('change', () => setView({ logY: log.checked }));
  const by = h(
    'vscode-single-select',
    { 'aria-label': 'X axis' },
    h('vscode-option', { value: 'step', selected: view.by === 'step' }, 'by step'),
    h('vscode-option', { value: 'epoch', selected: view.by === 'epoch' }, 'by epoch'),
  ) as HTMLElement & { value: string };
  by.addEventListener('change', () => setView({ by: by.value === 'epoch' ? 'epoch' : 'step', zoom: undefined }));
  toolbar.append(
    h('label', { class: 'field' }, 'Smoothing ', slider, sliderValue),
    log,
    by,
    button('Reset zoom', () => setView({ zoom: undefined }), { icon: 'zoom-out', secondary: true }),
    button(
      'Export CSV',
      () => ipc.command('exportCsv', { csv: metricsCsv(runs, view.by), suggestedName: `${fileBase()}-metrics.csv` }),
      { icon: 'export', secondary: true },
    ),
  );
}

function fileBase(): string {
  return (
    runs
      .map((r) => r.series.name)
      .join('-vs-')
      .replace(/[^\w.-]+/g, '_') || 'run'
  );
}

/** A chart with its export buttons; `fileName` names the exported image (default: the title). */
function chartBox(title: string, chart: LineChart, fileName = title): HTMLElement {
  const exportAs = (format: 'png' | 'svg') =>
    ipc.command('exportImage', {
      format,
      data: format === 'png' ? chart.toPng() : chart.toSvg(),
      suggestedName: `${fileBase()}-${fileName.replace(/\W+/g, '_')}.${format}`,
    });
  return h(
    'section',
    { class: 'chart-box' },
    h(
      'div',
      { class: 'chart-actions' },
      button('', () => exportAs('png'), { icon: 'file-media', secondary: true, title: 'Export PNG' }),
      button('', () => exportAs('svg'), { icon: 'symbol-misc', secondary: true, title: 'Export SVG' }),
    ),
    chart.element,
  );
}

function rebuild(): void {
  buildToolbar();
  clear(charts);
  stepCharts.clear();
  evalCharts.clear();
  for (const c of STEP_CHARTS) {
    const chart = new LineChart(c.title, view.by, onZoom);
    stepCharts.set(c.field, chart);
    charts.append(chartBox(c.title, chart));
  }
  for (const m of evalMetricsOf(runs)) {
    const chart = new LineChart(`Evaluation ${metricTitle(m)}`, view.by, onZoom);
    evalCharts.set(m, chart);
    charts.append(chartBox(metricTitle(m), chart, evalMetricKey(m)));
  }
  render();
}

let pending = 0;
function scheduleRender(): void {
  if (!pending)
    pending = requestAnimationFrame(() => {
      pending = 0;
      render();
    });
}

function render(): void {
  renderHeader();
  renderDownloads();
  const ms = markers(runs, view.by);
  const opts = { zoom: view.zoom, logY: view.logY, xLabel: view.by };
  for (const c of STEP_CHARTS)
    stepCharts.get(c.field)?.set(stepSeries(runs, c.field, c.smooth, view.smoothing, view.by, cache), ms, opts);
  // Evaluations share the step charts' x range, so an eval point sits under the training steps it followed.
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of runs) {
    const xs = view.by === 'step' ? r.series.steps.step : r.series.steps.epoch;
    if (xs.length) ((lo = Math.min(lo, xs[0]!)), (hi = Math.max(hi, xs[xs.length - 1]!)));
  }
  const evalOpts = { ...opts, zoom: view.zoom ?? (hi > lo ? ([lo, hi] as [number, number]) : undefined) };
  for (const [m, chart] of evalCharts) chart.set(evalSeries(runs, m, view.by), ms, evalOpts);
  renderDetails();
}

/** A progress bar per run that is still downloading its model, above the charts (which are empty until then). */
function renderDownloads(): void {
  const rows = downloadRows(runs);
  downloads.replaceChildren(
    ...rows.map((row) => {
      const bar = h('progress', { max: String(row.total), value: String(row.bytes) });
      const label = h('span', {}, row.name ? `${row.name}: ${row.text}` : row.text);
      return h('div', { class: 'download', role: 'status' }, label, bar);
    }),
  );
}

function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const s = Math.round(ms / 1000);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  return hh ? `${hh}h ${String(mm).padStart(2, '0')}m` : `${mm}m ${String(s % 60).padStart(2, '0')}s`;
}

/**
 * The header is built once per run and status (buttons are custom elements with shadow DOM: recreating them on
 * every step would cost more than the charts); on each update only its text changes.
 */
const headerRows = new Map<string, { key: string; el: HTMLElement; fields: Record<string, HTMLElement> }>();

function renderHeader(): void {
  if (!runs.length) {
    header.replaceChildren(h('p', { class: 'muted' }, 'No run to show.'));
    headerRows.clear();
    return;
  }
  const seen = new Set<string>();
  runs.forEach((r) => {
    const s = r.series;
    const status = runStatus(s, r.info.live);
    const running = r.info.live && (status === 'running' || status === 'starting');
    const key = `${status}|${running}|${r.color}|${s.name}`;
    seen.add(r.info.runId);
    let row = headerRows.get(r.info.runId);
    if (!row || row.key !== key) {
      const fields = {
        status: h('span', { class: `status status-${status}` }, status),
        backend: h('span', {}),
        step: h('span', { class: 'step-count' }),
        elapsed: h('span', {}),
        eta: h('span', {}),
        best: h('span', {}),
        patience: h('span', { class: 'muted' }),
        error: h('span', { class: 'error-text' }),
      };
      const swatch = h('span', { class: 'swatch' });
      swatch.style.background = r.color;
      const el = h(
        'div',
        { class: 'run-header', 'data-run': r.info.runId },
        swatch,
        h('strong', {}, s.name),
        ...Object.values(fields),
        running
          ? button('Stop', () => ipc.command('stop', { runId: r.info.runId }), { icon: 'debug-stop', secondary: true })
          : null,
        running
          ? button('Save checkpoint now', () => ipc.command('saveNow', { runId: r.info.runId }), {
              icon: 'save',
              secondary: true,
            })
          : null,
        button('Checkpoints', () => ipc.command('openCheckpoints', { runId: r.info.runId }), {
          icon: 'history',
          secondary: true,
        }),
      );
      if (row) row.el.replaceWith(el);
      else header.append(el);
      row = { key, el, fields };
      headerRows.set(r.info.runId, row);
    }
    const f = row.fields;
    const step = s.steps.step[s.steps.step.length - 1] ?? s.done?.step ?? 0;
    const total = s.plan?.totalSteps;
    const elapsed = s.done?.elapsedMs ?? s.steps.elapsedMs[s.steps.elapsedMs.length - 1];
    const metric = r.info.metricForBest ?? 'loss';
    const bestValue = s.done?.bestMetric ?? bestEval(s)?.metrics[metric];
    const lastEval = s.evals[s.evals.length - 1];
    setText(f.backend!, `backend ${s.hello?.backend.name ?? '—'}`, s.hello?.backend.reason);
    setText(f.step!, `step ${step}${total ? ` / ${total}` : ''}`);
    setText(f.elapsed!, `elapsed ${duration(elapsed)}`);
    setText(f.eta!, `ETA ${running ? duration(s.lastEtaMs) : '—'}`);
    setText(f.best!, `best ${metric} ${formatValue(bestValue)}`);
    setText(
      f.patience!,
      r.info.earlyStoppingPatience !== undefined
        ? `patience ${lastEval?.patienceUsed ?? 0}/${r.info.earlyStoppingPatience}`
        : '',
    );
    setText(f.error!, s.errors[s.errors.length - 1] ?? '', s.errors.join('\n'));
  });
  for (const [id, row] of headerRows) {
    if (!seen.has(id)) {
      row.el.remove();
      headerRows.delete(id);
    }
  }
  header.querySelector(':scope > p.muted')?.remove();
}

function setText(el: HTMLElement, text: string, title?: string): void {
  if (el.textContent !== text) el.textContent = text;
  if (title !== undefined && el.title !== title) el.title = title;
}

let lastDetailsKey = '';
function renderDetails(): void {
  // Tables change only on evaluations and at the end; skip rebuilding them on every step.
  const key = runs.map((r) => `${r.info.runId}:${r.series.evals.length}:${r.series.done ? 1 : 0}`).join('|');
  if (key === lastDetailsKey) return;
  lastDetailsKey = key;
  clear(details);
  if (runs.length > 1) {
    const heads = h('tr', {}, h('th', {}, 'config'), ...runs.map((r) => h('th', {}, r.series.name)));
    const diff = configDifferences(runs);
    details.append(
      h('h3', {}, 'Config differences'),
      diff.length
        ? h(
            'table',
            { class: 'grid' },
            h('thead', {}, heads),
            h('tbody', {}, ...diff.map((d) => h('tr', {}, h('td', {}, d.key), ...d.values.map((v) => h('td', {}, v))))),
          )
        : h('p', { class: 'muted' }, 'The configs are the same.'),
    );
  }
  const finals = finalMetricRows(runs);
  if (finals.length) {
    details.append(
      h('h3', {}, 'Final metrics'),
      h(
        'table',
        { class: 'grid' },
        h('thead', {}, h('tr', {}, h('th', {}, 'metric'), ...runs.map((r) => h('th', {}, r.series.name)))),
        h(
          'tbody',
          {},
          ...finals.map((f) =>
            h('tr', {}, h('td', {}, f.key), ...f.values.map((v) => h('td', { class: 'num' }, formatValue(v)))),
          ),
        ),
      ),
    );
  }
  for (const r of runs) {
    const e = [...r.series.evals].reverse().find((x) => x.confusion || x.perClass);
    if (e) details.append(renderEvaluation(evalHeading(e, runs.length > 1 ? r.series.name : ''), e));
  }
}
