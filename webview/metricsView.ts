/**
 * What the metrics panel draws, computed from the runs it holds: chart series (raw + smoothed, by step or
 * epoch), markers, the CSV export and the comparison tables. Smoothing is kept incrementally per run and field,
 * so that an append of one step costs one EMA update rather than a pass over 100,000 points.
 */
import { alignRuns, toCsv } from '../common/chartData';
import type { AlignBy, RunSeriesInput } from '../common/chartData';
import { bestEval, evalMetricNames, finalMetrics, STEP_FIELDS } from '../common/runSeries';
import type { RunSeriesData, StepField } from '../common/runSeries';
import type { MetricsRunInfo } from '../common/webviewProtocol';
import type { ChartMarker, ChartSeries } from './chart';
import { evalMetricKey } from '../common/metricNames';
import { downloadAfter, downloadDescription } from '../common/downloadProgress';
import type { DownloadState } from '../common/downloadProgress';
import type { TrainerMessage } from '../common/protocol';

export interface PanelRun {
  info: MetricsRunInfo;
  series: RunSeriesData;
  color: string;
  /** The Hub file the run is downloading (before its first step), from the snapshot and the live messages. */
  download?: DownloadState;
}

/** Folds live messages into the run's download; true when the progress bar must be redrawn. */
export function applyDownloadMessages(run: PanelRun, messages: readonly TrainerMessage[]): boolean {
  let d = run.download;
  for (const m of messages) d = downloadAfter(d, m);
  if (d === run.download) return false;
  if (d) run.download = d;
  else delete run.download;
  return true;
}

export interface DownloadRow {
  runId: string;
  /** The run's name, when the panel compares several runs. */
  name?: string;
  text: string;
  bytes: number;
  total: number;
}

/** One progress bar per run that is downloading, above the charts. */
export function downloadRows(runs: readonly PanelRun[]): DownloadRow[] {
  return runs.flatMap((r) =>
    r.download
      ? [
          {
            runId: r.info.runId,
            ...(runs.length > 1 ? { name: r.series.name } : {}),
            text: downloadDescription(r.download),
            bytes: r.download.bytes,
            total: r.download.total,
          },
        ]
      : [],
  );
}

/** Incremental debiased EMA: extends the smoothed array with the values appended since the last call. */
class Smoother {
  private last = 0;
  private count = 0;
  readonly out: (number | null)[] = [];
  constructor(readonly weight: number) {}
  extend(values: readonly (number | null)[]): (number | null)[] {
    const w = this.weight;
    for (let i = this.out.length; i < values.length; i++) {
      const v = values[i];
      if (v === null || v === undefined || !Number.isFinite(v)) {
        this.out.push(v ?? null);
        continue;
      }
      this.last = this.last * w + (1 - w) * v;
      this.count++;
      this.out.push(w === 0 ? v : this.last / (1 - Math.pow(w, this.count)));
    }
    return this.out;
  }
}

export class SmoothCache {
  private readonly map = new Map<string, Smoother>();
  get(runId: string, field: string, values: readonly (number | null)[], weight: number): (number | null)[] {
    const key = `${runId}\u0000${field}`;
    let s = this.map.get(key);
    // A shorter array than before means the run was truncated (resume) or replaced (snapshot): start over.
    if (!s || s.weight !== weight || s.out.length > values.length) this.map.set(key, (s = new Smoother(weight)));
    return s.extend(values);
  }
  clear(): void {
    this.map.clear();
  }
}

export const STEP_CHARTS: { field: StepField; title: string; smooth: boolean }[] = [
  { field: 'loss', title: 'Training loss', smooth: true },
  { field: 'learningRate', title: 'Learning rate', smooth: false },
  { field: 'gradNorm', title: 'Gradient norm', smooth: true },
  { field: 'samplesPerSecond', title: 'Throughput (samples/s)', smooth: true },
];

export function stepSeries(
  runs: readonly PanelRun[],
  field: StepField,
  smooth: boolean,
  weight: number,
  by: AlignBy,
  cache: SmoothCache,
): ChartSeries[] {
  const out: ChartSeries[] = [];
  const many = runs.length > 1;
  for (const r of runs) {
    const c = r.series.steps;
    const xs = by === 'step' ? c.step : c.epoch;
    const ys = c[field];
    const name = many ? `${r.series.name} ` : '';
    if (smooth && weight > 0) {
      // Both lines enter the hover read-out, so the exact raw value is always one glance away.
      out.push({ label: `${name}raw`, color: r.color, xs, ys, faint: true });
      out.push({ label: `${name}smoothed`, color: r.color, xs, ys: cache.get(r.info.runId, field, ys, weight) });
    } else {
      out.push({ label: name.trim() || 'value', color: r.color, xs, ys });
    }
  }
  return out;
}

export function evalSeries(runs: readonly PanelRun[], metric: string, by: AlignBy): ChartSeries[] {
  return runs.map((r) => {
    const evs = r.series.evals.filter((e) => e.split === 'validation' && metric in e.metrics);
    return {
      label: runs.length > 1 ? r.series.name : metric,
      color: r.color,
      xs: evs.map((e) => (by === 'step' ? e.step : e.epoch)),
      ys: evs.map((e) => e.metrics[metric] ?? null),
      dots: true,
    };
  });
}

export function evalMetricsOf(runs: readonly PanelRun[]): string[] {
  const names: string[] = [];
  for (const r of runs) for (const n of evalMetricNames(r.series)) if (!names.includes(n)) names.push(n);
  return names;
}

/** The best checkpoint of each run, and where early stopping stands at the last evaluation. */
export function markers(runs: readonly PanelRun[], by: AlignBy): ChartMarker[] {
  const out: ChartMarker[] = [];
  for (const r of runs) {
    const b = bestEval(r.series);
    if (b)
      out.push({
        x: by === 'step' ? b.step : b.epoch,
        label: runs.length > 1 ? `best ${r.series.name}` : 'best',
        color: r.color,
      });
    const last = r.series.evals[r.series.evals.length - 1];
    const patience = r.info.earlyStoppingPatience;
    if (last && patience !== undefined && last.patienceUsed !== undefined && last.patienceUsed > 0) {
      out.push({
        x: by === 'step' ? last.step : last.epoch,
        label: `patience ${last.patienceUsed}/${patience}`,
        color: r.color,
      });
    }
  }
  return out;
}

/** All step fields and evaluation metrics of all runs on one x column. */
export function metricsCsv(runs: readonly PanelRun[], by: AlignBy): string {
  const inputs: RunSeriesInput[] = [];
  const header: string[] = [by];
  const many = runs.length > 1;
  for (const r of runs) {
    const c = r.series.steps;
    for (const f of STEP_FIELDS) {
      inputs.push({ id: r.info.runId, steps: c.step, epochs: c.epoch, values: c[f] });
      header.push(many ? `${r.series.name}/${f}` : f);
    }
    for (const m of evalMetricNames(r.series)) {
      const evs = r.series.evals.filter((e) => e.split === 'validation' && m in e.metrics);
      inputs.push({
        id: r.info.runId,
        steps: evs.map((e) => e.step),
        epochs: evs.map((e) => e.epoch),
        values: evs.map((e) => e.metrics[m] ?? null),
      });
      header.push(many ? `${r.series.name}/${evalMetricKey(m)}` : evalMetricKey(m));
    }
  }
  const t = alignRuns(inputs, by);
  return toCsv(
    header,
    t.x.map((x, i) => [x, ...t.columns.map((c) => c[i] ?? null)]),
  );
}

/** Config keys whose values differ between the runs (all keys when only one run). */
export function configDifferences(runs: readonly PanelRun[]): { key: string; values: string[] }[] {
  const keys = new Set<string>();
  for (const r of runs) for (const k of Object.keys(r.info.config)) keys.add(k);
  const show = (v: unknown) => (v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));
  const rows: { key: string; values: string[] }[] = [];
  for (const k of [...keys].sort()) {
    const values = runs.map((r) => show(r.info.config[k]));
    if (runs.length === 1 || new Set(values).size > 1) rows.push({ key: k, values });
  }
  return rows;
}

export function finalMetricRows(runs: readonly PanelRun[]): { key: string; values: (number | undefined)[] }[] {
  const finals = runs.map((r) => finalMetrics(r.series));
  const keys = new Set<string>();
  for (const f of finals) for (const k of Object.keys(f)) keys.add(k);
  return [...keys].sort().map((k) => ({ key: k, values: finals.map((f) => f[k]) }));
}
