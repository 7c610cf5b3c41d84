/**
 * The demo's report: reads the manifest runDemo wrote (`runs.json`: which run folder is which variant and seed)
 * and each run's metrics.jsonl, and writes `report.md` with a table of mean ± std over seeds and
 * `learning-curves.svg`. Everything in the table is computed here from those files, so the report can be
 * rebuilt (`node --import tsx scripts/demo/report.ts DIR`) without training again.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../common/atomicWrite';
import { learningCurvesSvg, type ChartRun } from './chart';
import { meanStd, summariseMetrics, type MeanStd, type RunSummary } from './runMetrics';

export interface ManifestRun {
  variant: string;
  seed: number;
  /** Relative to the manifest's folder. */
  runDir: string;
  trainableParams: number;
  totalParams: number;
  /** Wall-clock seconds of the whole process (start-up, data, training, test). */
  wallSeconds?: number;
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
  runs: ManifestRun[];
}

export interface VariantRow {
  variant: string;
  description: string;
  seeds: number;
  testAccuracy: MeanStd | null;
  testF1: MeanStd | null;
  trainSeconds: MeanStd | null;
  samplesPerSecond: MeanStd | null;
  trainableParams: number;
  totalParams: number;
  stepsToBest: MeanStd | null;
}

export interface BuiltReport {
  markdown: string;
  svg: string;
  rows: VariantRow[];
  runs: { run: ManifestRun; summary: RunSummary }[];
}

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

const pct = (m: MeanStd | null): string => (m ? `${(100 * m.mean).toFixed(1)} ± ${(100 * m.std).toFixed(1)}` : 'n/a');
const plain = (m: MeanStd | null, digits: number): string =>
  m ? `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}` : 'n/a';
const int = (n: number): string => n.toLocaleString('en-US');

export function variantRows(
  manifest: DemoManifest,
  runs: readonly { run: ManifestRun; summary: RunSummary }[],
): VariantRow[] {
  const names = [...new Set([...Object.keys(manifest.variants), ...runs.map((r) => r.run.variant)])];
  return names
    .map((variant) => {
      const mine = runs.filter((r) => r.run.variant === variant);
      const first = mine[0]?.run;
      return {
        variant,
        description: manifest.variants[variant] ?? '',
        seeds: mine.length,
        testAccuracy: meanStd(mine.map((r) => r.summary.testAccuracy)),
        testF1: meanStd(mine.map((r) => r.summary.testF1)),
        trainSeconds: meanStd(mine.map((r) => r.summary.trainSeconds)),
        samplesPerSecond: meanStd(mine.map((r) => r.summary.samplesPerSecond)),
        trainableParams: first?.trainableParams ?? 0,
        totalParams: first?.totalParams ?? 0,
        stepsToBest: meanStd(mine.map((r) => r.summary.stepsToBest)),
      };
    })
    .filter((r) => r.seeds > 0);
}

export function renderMarkdown(
  manifest: DemoManifest,
  rows: readonly VariantRow[],
  runs: readonly { run: ManifestRun; summary: RunSummary }[],
  svgName: string,
): string {
  const out: string[] = [];
  out.push(`# Training from scratch vs fine-tuning${manifest.quick ? ' (quick run)' : ''}`);
  out.push('');
  out.push(
    `Sentiment of review sentences (UCI Sentiment Labelled Sentences, examples/sentiment). Every run: the same architecture, ` +
      `${manifest.maxSteps} optimiser steps of ${manifest.batchSize} sentences; mean ± standard deviation over ${Math.max(...rows.map((r) => r.seeds), 0)} seed(s). ` +
      `Test scores are of the checkpoint with the best validation accuracy.`,
  );
  if (manifest.machine) out.push(`Machine: ${manifest.machine}. Generated ${manifest.createdAt}.`);
  out.push('');
  out.push(
    '| Variant | Test accuracy (%) | Test macro-F1 (%) | Training time (s) | Samples/s | Trainable params | Steps to best val. accuracy |',
  );
  out.push('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    out.push(
      `| ${r.variant} | ${pct(r.testAccuracy)} | ${pct(r.testF1)} | ${plain(r.trainSeconds, 1)} | ${plain(r.samplesPerSecond, 1)} | ` +
        `${int(r.trainableParams)} of ${int(r.totalParams)} | ${plain(r.stepsToBest, 0)} |`,
    );
  }
  out.push('');
  for (const r of rows) if (r.description) out.push(`- **${r.variant}**: ${r.description}`);
  const scratch = rows.find((r) => r.variant === 'scratch');
  const tuned = rows.filter((r) => r.variant !== 'scratch' && r.testAccuracy);
  if (scratch?.testAccuracy && tuned.length) {
    out.push('');
    for (const t of tuned) {
      const gain = 100 * ((t.testAccuracy as MeanStd).mean - scratch.testAccuracy.mean);
      out.push(`${t.variant} vs scratch: ${gain >= 0 ? '+' : ''}${gain.toFixed(1)} points of test accuracy.`);
    }
  }
  out.push('');
  out.push(`![Validation accuracy and training loss of every run](${svgName})`);
  out.push('');
  out.push('## Runs');
  out.push('');
  out.push(
    '| Variant | Seed | Test accuracy | Test macro-F1 | Best val. accuracy | at step | Training time (s) | Samples/s | Status |',
  );
  out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const f = (v: number | null, d: number, scale = 1): string => (v === null ? 'n/a' : (v * scale).toFixed(d));
  for (const { run, summary: s } of runs) {
    out.push(
      `| ${run.variant} | ${run.seed} | ${f(s.testAccuracy, 1, 100)} | ${f(s.testF1, 1, 100)} | ${f(s.bestValidationAccuracy, 1, 100)} | ${s.stepsToBest ?? 'n/a'} | ` +
        `${f(s.trainSeconds, 1)} | ${f(s.samplesPerSecond, 1)} | ${s.status ?? 'no done message'} |`,
    );
  }
  out.push('');
  return out.join('\n');
}

export async function buildReport(dir: string): Promise<BuiltReport> {
  const manifest = await readManifest(dir);
  const runs: { run: ManifestRun; summary: RunSummary }[] = [];
  for (const run of manifest.runs) {
    let text = '';
    try {
      text = await fs.readFile(path.join(dir, run.runDir, 'metrics.jsonl'), 'utf8');
    } catch {
      // A run that failed before writing metrics still gets a row, with n/a, rather than no report at all.
    }
    runs.push({ run, summary: summariseMetrics(text) });
  }
  const rows = variantRows(manifest, runs);
  const seedOrder = [...new Set(manifest.runs.map((r) => r.seed))];
  const chartRuns: ChartRun[] = runs.map(({ run, summary }) => ({
    label: `${run.variant} seed ${run.seed}`,
    variant: run.variant,
    seedIndex: seedOrder.indexOf(run.seed),
    validationAccuracy: summary.validationAccuracy,
    trainLoss: summary.trainLoss,
  }));
  const svgName = 'learning-curves.svg';
  const svg = learningCurvesSvg(chartRuns, 'Scratch vs fine-tuned: validation accuracy and training loss');
  return { markdown: renderMarkdown(manifest, rows, runs, svgName), svg, rows, runs };
}

export async function writeReport(dir: string): Promise<BuiltReport> {
  const built = await buildReport(dir);
  await writeFileAtomic(path.join(dir, 'report.md'), built.markdown);
  await writeFileAtomic(path.join(dir, 'learning-curves.svg'), built.svg);
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
