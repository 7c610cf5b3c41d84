/**
 * The demo's report: reads the manifest runDemo wrote (`runs.json`: which run folder is which variant, seed and
 * training-set size) and each run's metrics.jsonl, and writes `report.md` with a table of mean ± std over seeds,
 * `learning-curves.svg` and, when the demo drew one, the sample-efficiency curve (curveReport.ts). Everything
 * in it is computed here from those files, so the report can be rebuilt
 * (`node --import tsx scripts/demo/report.ts DIR`) without training again.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../common/atomicWrite';
import { learningCurvesSvg, type ChartRun } from './chart';
import { curveSection, type CurveSection } from './curveReport';
import { meanStd, summariseMetrics, type MeanStd, type RunSummary } from './runMetrics';
import { findTask, metricValue, type DemoTask } from './tasks';

export interface ManifestRun {
  variant: string;
  seed: number;
  /** Relative to the manifest's folder. */
  runDir: string;
  trainableParams: number;
  totalParams: number;
  /** Wall-clock seconds of the whole process (start-up, data, training, test). */
  wallSeconds?: number;
  /** CPU seconds of the whole process, all threads (scripts/demo/cpuProbe.ts). */
  cpuSeconds?: number;
  /** A point of the sample-efficiency curve: its training subset's size. Absent: the full train split. */
  trainExamples?: number;
}

export interface CurveManifest {
  /** Subset sizes below the full split. */
  sizes: number[];
  seeds: number[];
  subsetSeed: number;
  /** Rows of the full train split: the curve's last point. */
  trainRows: number;
  /** The step rule, one sentence for the report. */
  rule: string;
}

export interface DemoManifest {
  formatVersion: 1;
  createdAt: string;
  quick: boolean;
  maxSteps: number;
  batchSize: number;
  /** Variant name -> one-line description, in table order. */
  variants: Record<string, string>;
  machine?: string;
  /** The demo task's name (scripts/demo/tasks.ts); absent in reports before `--task`: sentiment. */
  task?: string;
  /** `--model` as given. */
  model?: string;
  /** Whether test scores are of the best checkpoint on validation (the default) or of the last model. */
  testOf?: 'best' | 'last';
  curve?: CurveManifest;
  /** How many runs the demo set out to train; more than `runs` while it is under way, or if it was stopped. */
  plannedRuns?: number;
  runs: ManifestRun[];
}

export interface VariantRow {
  variant: string;
  description: string;
  seeds: number;
  /** Per metric of the task (tasks.ts), in its order. */
  scores: (MeanStd | null)[];
  trainSeconds: MeanStd | null;
  samplesPerSecond: MeanStd | null;
  trainableParams: number;
  totalParams: number;
  stepsToBest: MeanStd | null;
}

export type RunResult = { run: ManifestRun; summary: RunSummary };

export interface BuiltReport {
  markdown: string;
  svg: string;
  /** The sample-efficiency chart; absent when the demo drew no curve. */
  curveSvg?: string;
  rows: VariantRow[];
  runs: RunResult[];
  curve?: CurveSection;
}

export const CURVE_SVG = 'sample-efficiency.svg';
const CURVES_SVG = 'learning-curves.svg';

export async function readManifest(dir: string): Promise<DemoManifest> {
  const file = path.join(dir, 'runs.json');
  let data: DemoManifest;
  try {
    data = JSON.parse(await fs.readFile(file, 'utf8')) as DemoManifest;
  } catch (e) {
    throw new Error(`${file}: cannot read the demo manifest (${(e as Error).message}); run \`npm run demo\` first`);
  }
  if (data.formatVersion !== 1 || !Array.isArray(data.runs))
    throw new Error(`${file}: not a demo manifest of format version 1`);
  return data;
}

export const pct = (m: MeanStd | null): string =>
  m ? `${(100 * m.mean).toFixed(1)} ± ${(100 * m.std).toFixed(1)}` : 'n/a';
const plain = (m: MeanStd | null, digits: number): string =>
  m ? `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}` : 'n/a';
const int = (n: number): string => n.toLocaleString('en-US');

/** The task's metric values of one run's test evaluation, in the task's order. */
export function testScores(summary: RunSummary, task: DemoTask): (number | null)[] {
  return task.metrics.map((spec) => metricValue(summary.testMetrics, spec));
}

/** One row per variant, over the runs on the full train split (the curve's subset runs are not in it). */
export function variantRows(manifest: DemoManifest, runs: readonly RunResult[], task: DemoTask): VariantRow[] {
  const full = runs.filter((r) => r.run.trainExamples === undefined);
  const names = [...new Set([...Object.keys(manifest.variants), ...full.map((r) => r.run.variant)])];
  return names
    .map((variant) => {
      const mine = full.filter((r) => r.run.variant === variant);
      const first = mine[0]?.run;
      return {
        variant,
        description: manifest.variants[variant] ?? '',
        seeds: mine.length,
        scores: task.metrics.map((_, i) => meanStd(mine.map((r) => testScores(r.summary, task)[i] ?? null))),
        trainSeconds: meanStd(mine.map((r) => r.summary.trainSeconds)),
        samplesPerSecond: meanStd(mine.map((r) => r.summary.samplesPerSecond)),
        trainableParams: first?.trainableParams ?? 0,
        totalParams: first?.totalParams ?? 0,
        stepsToBest: meanStd(mine.map((r) => r.summary.stepsToBest)),
      };
    })
    .filter((r) => r.seeds > 0);
}

function header(manifest: DemoManifest, rows: readonly VariantRow[], task: DemoTask): string[] {
  const seeds = Math.max(...rows.map((r) => r.seeds), 0);
  const model = manifest.model ? ` Model: ${manifest.model}.` : '';
  const selection =
    manifest.testOf === 'last'
      ? 'Test scores are of the model at the end of training.'
      : 'Test scores are of the checkpoint with the best validation accuracy.';
  const missing = (manifest.plannedRuns ?? 0) - manifest.runs.length;
  return [
    `# Training from scratch vs fine-tuning${manifest.quick ? ' (quick run)' : ''}`,
    '',
    ...(missing > 0
      ? [`**Incomplete:** ${manifest.runs.length} of the ${manifest.plannedRuns} planned runs finished.`, '']
      : []),
    `${task.description}${model} Every run: the same architecture, ${manifest.maxSteps} optimiser steps of ` +
      `${manifest.batchSize} examples; mean ± standard deviation over ${seeds} seed(s). ${selection}`,
  ];
}

function variantTable(rows: readonly VariantRow[], task: DemoTask): string[] {
  const metricHeads = task.metrics.map((m) => `Test ${m.label} (%)`).join(' | ');
  const out = [
    `| Variant | ${metricHeads} | Training time (s) | Samples/s | Trainable params | Steps to best val. accuracy |`,
    `| --- |${' --- |'.repeat(task.metrics.length)} --- | --- | --- | --- |`,
  ];
  for (const r of rows) {
    out.push(
      `| ${r.variant} | ${r.scores.map(pct).join(' | ')} | ${plain(r.trainSeconds, 1)} | ${plain(r.samplesPerSecond, 1)} | ` +
        `${int(r.trainableParams)} of ${int(r.totalParams)} | ${plain(r.stepsToBest, 0)} |`,
    );
  }
  return out;
}

function gainLines(rows: readonly VariantRow[], task: DemoTask): string[] {
  const h = task.headline;
  const scratch = rows.find((r) => r.variant === 'scratch')?.scores[h];
  if (!scratch) return [];
  return rows.flatMap((t) => {
    const s = t.scores[h];
    if (t.variant === 'scratch' || !s) return [];
    const gain = 100 * (s.mean - scratch.mean);
    const label = task.metrics[h]?.label ?? 'score';
    return [`${t.variant} vs scratch: ${gain >= 0 ? '+' : ''}${gain.toFixed(1)} points of test ${label}.`];
  });
}

function runsTable(runs: readonly RunResult[], task: DemoTask): string[] {
  const f = (v: number | null | undefined, d: number, scale = 1): string =>
    v === null || v === undefined ? 'n/a' : (v * scale).toFixed(d);
  const out = [
    '## Runs',
    '',
    `| Variant | Seed | Train examples | ${task.metrics.map((m) => `Test ${m.label}`).join(' | ')} | Best val. accuracy | at step | Training time (s) | CPU time (s) | Samples/s | Status |`,
    `| --- | --- | --- |${' --- |'.repeat(task.metrics.length)} --- | --- | --- | --- | --- | --- |`,
  ];
  for (const { run, summary: s } of runs) {
    const scores = testScores(s, task).map((v) => f(v, 1, 100));
    out.push(
      `| ${run.variant} | ${run.seed} | ${run.trainExamples === undefined ? 'all' : int(run.trainExamples)} | ${scores.join(' | ')} | ` +
        `${f(s.bestValidationAccuracy, 1, 100)} | ${s.stepsToBest ?? 'n/a'} | ${f(s.trainSeconds, 1)} | ${f(run.cpuSeconds, 1)} | ` +
        `${f(s.samplesPerSecond, 1)} | ${s.status ?? 'no done message'} |`,
    );
  }
  return out;
}

/** The machine, the wall-clock time, and what the runs cost in CPU time (meaningful on a shared machine too). */
function costLine(manifest: DemoManifest, runs: readonly RunResult[]): string[] {
  const cpu = runs.map((r) => r.run.cpuSeconds).filter((v): v is number => v !== undefined);
  const cpuText = cpu.length
    ? ` The ${cpu.length} runs used ${cpu.reduce((a, b) => a + b, 0).toFixed(0)} CPU-seconds in all.`
    : '';
  return manifest.machine ? [`Machine: ${manifest.machine}.${cpuText} Generated ${manifest.createdAt}.`] : [];
}

export function renderMarkdown(
  manifest: DemoManifest,
  rows: readonly VariantRow[],
  runs: readonly RunResult[],
  task: DemoTask,
  curve?: CurveSection,
): string {
  const out = [...header(manifest, rows, task), ...costLine(manifest, runs), '', ...variantTable(rows, task), ''];
  for (const r of rows) if (r.description) out.push(`- **${r.variant}**: ${r.description}`);
  const gains = gainLines(rows, task);
  if (gains.length) out.push('', ...gains);
  out.push('', `![Validation accuracy and training loss of every run](${CURVES_SVG})`, '');
  if (curve) out.push(...curve.markdown, '');
  out.push(...runsTable(runs, task), '');
  return out.join('\n');
}

async function readRuns(dir: string, manifest: DemoManifest): Promise<RunResult[]> {
  const runs: RunResult[] = [];
  for (const run of manifest.runs) {
    let text = '';
    try {
      text = await fs.readFile(path.join(dir, run.runDir, 'metrics.jsonl'), 'utf8');
    } catch {
      // A run that failed before writing metrics still gets a row, with n/a, rather than no report at all.
    }
    runs.push({ run, summary: summariseMetrics(text) });
  }
  return runs;
}

function learningChart(runs: readonly RunResult[]): string {
  const full = runs.filter((r) => r.run.trainExamples === undefined);
  const seedOrder = [...new Set(full.map((r) => r.run.seed))];
  const chartRuns: ChartRun[] = full.map(({ run, summary }) => ({
    label: `${run.variant} seed ${run.seed}`,
    variant: run.variant,
    seedIndex: seedOrder.indexOf(run.seed),
    validationAccuracy: summary.validationAccuracy,
    trainLoss: summary.trainLoss,
  }));
  return learningCurvesSvg(chartRuns, 'Scratch vs fine-tuned: validation accuracy and training loss');
}

export async function buildReport(dir: string): Promise<BuiltReport> {
  const manifest = await readManifest(dir);
  const task = findTask(manifest.task ?? 'sentiment');
  const runs = await readRuns(dir, manifest);
  const rows = variantRows(manifest, runs, task);
  const curve = manifest.curve ? curveSection(manifest.curve, runs, task, CURVE_SVG) : undefined;
  return {
    markdown: renderMarkdown(manifest, rows, runs, task, curve),
    svg: learningChart(runs),
    ...(curve ? { curveSvg: curve.svg, curve } : {}),
    rows,
    runs,
  };
}

export async function writeReport(dir: string): Promise<BuiltReport> {
  const built = await buildReport(dir);
  await writeFileAtomic(path.join(dir, 'report.md'), built.markdown);
  await writeFileAtomic(path.join(dir, CURVES_SVG), built.svg);
  if (built.curveSvg) await writeFileAtomic(path.join(dir, CURVE_SVG), built.curveSvg);
  return built;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const dir = process.argv[2] ?? path.join(process.cwd(), '.finetune', 'demo');
  writeReport(dir).then(
    (b) => console.log(`wrote ${path.join(dir, 'report.md')} (${b.runs.length} runs)`),
    (e: unknown) => {
      console.error(`report: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
