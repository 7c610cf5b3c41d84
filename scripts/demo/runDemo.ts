/**
 * `npm run demo`: trains the same small BERT on examples/sentiment three ways, from scratch, fine-tuned from
 * examples/pretrained, and fine-tuned with all but the top layer frozen, with the same step budget and 3 seeds
 * each, through the engine's CLI (`trainer/cli.ts train <config> --json`), then writes report.md and
 * learning-curves.svg (scripts/demo/report.ts) into the demo folder.
 *
 *   npm run demo -- [--quick] [--publish] [--seeds 1,2,3] [--parallel 2] [--out DIR] [--variants scratch,finetune]
 *                   [--max-steps N (another budget, the same for every variant)]
 *
 * The configs are the ordinary examples/{scratch,finetune,finetune-frozen}.finetune.yaml; per seed, a copy
 * with absolute paths, its own output folder and the seed is written under <out>/configs/. Runs go two at a time
 * by default, each on one thread (FINETUNE_THREADS): small runs use cores better side by side than each split
 * across both.
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { writeFileAtomic } from '../../common/atomicWrite';
import { THREADS_ENV } from '../../common/protocol';
import { readDataset } from '../../files/data/readDataset';
import { toCsv } from './csvFile';
import { MultiProgress, type RunProgress } from './progress';
import { writeReport, type DemoManifest, type ManifestRun } from './report';
import { checkSplits, SPLIT_NAMES, type Splits } from './splitData';

export const VARIANTS: Record<string, string> = {
  scratch: 'random initialisation (examples/scratch.finetune.yaml)',
  finetune: 'all layers fine-tuned from examples/pretrained (examples/finetune.finetune.yaml)',
  'finetune-frozen':
    'embeddings and all encoder layers but the top one frozen (examples/finetune-frozen.finetune.yaml)',
};

export interface DemoOptions {
  root: string;
  out: string;
  quick: boolean;
  publish: boolean;
  seeds: number[];
  parallel: number;
  variants: string[];
  quickSteps: number;
  /** Overrides every config's max_steps (same budget for all variants). */
  maxSteps?: number;
}

export function parseArgs(argv: readonly string[], root: string): DemoOptions {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  const seeds = (value('--seeds') ?? (quick ? '1' : '1,2,3')).split(',').map(Number);
  if (seeds.some((s) => !Number.isInteger(s) || s < 0))
    throw new Error(`--seeds wants comma-separated non-negative integers, got ${value('--seeds')}`);
  const variants = (value('--variants') ?? Object.keys(VARIANTS).join(',')).split(',');
  const unknown = variants.filter((v) => !(v in VARIANTS));
  if (unknown.length)
    throw new Error(`unknown variant(s) ${unknown.join(', ')}; known: ${Object.keys(VARIANTS).join(', ')}`);
  const parallel = Number(value('--parallel') ?? 2);
  if (!Number.isInteger(parallel) || parallel < 1)
    throw new Error(`--parallel wants a positive integer, got ${value('--parallel')}`);
  const quickSteps = Number(value('--quick-steps') ?? 12);
  if (!Number.isInteger(quickSteps) || quickSteps < 1)
    throw new Error(`--quick-steps wants a positive integer, got ${value('--quick-steps')}`);
  const maxSteps = value('--max-steps') === undefined ? undefined : Number(value('--max-steps'));
  if (maxSteps !== undefined && !(Number.isInteger(maxSteps) && maxSteps >= 1))
    throw new Error(`--max-steps wants a positive integer, got ${value('--max-steps')}`);
  return {
    root,
    out: path.resolve(value('--out') ?? path.join(root, '.finetune', quick ? 'demo-quick' : 'demo')),
    quick,
    publish: argv.includes('--publish'),
    seeds,
    parallel,
    variants,
    quickSteps,
    ...(maxSteps !== undefined ? { maxSteps } : {}),
  };
}

type Yaml = Record<string, unknown>;
const section = (o: Yaml, key: string): Yaml => (o[key] ??= {}) as Yaml;

/**
 * A per-seed copy of a config: relative paths made absolute (against the original's folder), the seed set, and
 * its own output folder. In quick mode the step budget shrinks and evaluation comes often enough to chart.
 */
export function seedConfig(
  text: string,
  configDir: string,
  o: {
    seed: number;
    outputDir: string;
    runName: string;
    quickSteps?: number;
    maxSteps?: number;
    dataFiles?: Partial<Record<SplitName, string>>;
  },
): Yaml {
  const c = (parse(text) ?? {}) as Yaml;
  const model = section(c, 'model');
  for (const key of ['name_or_path', 'tokenizer']) {
    const v = model[key];
    // A local folder next to the config; anything else (a Hub id such as bert-base-uncased) stays as written.
    if (typeof v === 'string' && existsSync(path.resolve(configDir, v))) model[key] = path.resolve(configDir, v);
  }
  const data = section(c, 'data');
  for (const key of ['train_file', 'validation_file', 'test_file']) {
    const v = data[key];
    if (typeof v === 'string') data[key] = path.resolve(configDir, v);
  }
  for (const [name, file] of Object.entries(o.dataFiles ?? {})) data[`${name}_file`] = file;
  c.output_dir = o.outputDir;
  c.run_name = o.runName;
  const training = section(c, 'training');
  training.seed = o.seed;
  if (o.maxSteps !== undefined) training.max_steps = o.maxSteps;
  if (o.quickSteps !== undefined) {
    training.max_steps = o.quickSteps;
    const every = Math.max(1, Math.floor(o.quickSteps / 4));
    training.eval_steps = every;
    training.save_steps = every;
    training.logging_steps = Math.max(1, Math.floor(every / 2));
  }
  return c;
}
type SplitName = (typeof SPLIT_NAMES)[number];

/**
 * Reads the three split files and runs the same checks as the data preparation (no text in two splits, no
 * label only in validation/test, no empty text). Problems are printed and decided before any training: the
 * offending rows are dropped into cleaned copies under the demo folder, which the runs then use.
 */
export async function preflightData(
  root: string,
  out: string,
  log: (s: string) => void,
  evalLimit?: number,
): Promise<Partial<Record<SplitName, string>>> {
  const files = Object.fromEntries(
    SPLIT_NAMES.map((n) => [n, path.join(root, 'examples', 'sentiment', `${n}.csv`)]),
  ) as Record<SplitName, string>;
  const splits = {} as Splits<{ text: string; label: string; source: string }>;
  for (const name of SPLIT_NAMES) {
    const ds = await readDataset(files[name], { textColumn: 'text', labelColumn: 'label' });
    for (const w of ds.warnings) log(`${files[name]}: ${w.message}`);
    splits[name] = ds.rows.map((r) => ({ text: r.text, label: r.label ?? '', source: '' }));
  }
  const checked = checkSplits(splits);
  if (checked.problems.length === 0 && evalLimit === undefined) return {};
  const cleaned: Partial<Record<SplitName, string>> = {};
  for (const p of checked.problems) log(`data check: ${p.message}`);
  if (evalLimit !== undefined) {
    // Quick mode: a smaller validation and test set (every label kept) so that a smoke run takes seconds.
    for (const name of ['validation', 'test'] as const)
      checked.splits[name] = balancedHead(checked.splits[name], evalLimit);
  }
  for (const name of SPLIT_NAMES) {
    const file = path.join(out, 'data', `${name}.csv`);
    await writeFileAtomic(file, toCsv(['text', 'label'], checked.splits[name]));
    cleaned[name] = file;
  }
  log(
    `training on ${evalLimit === undefined ? 'cleaned' : 'cleaned and shortened'} copies in ${path.join(out, 'data')}`,
  );
  return cleaned;
}

/** The first rows of each label, up to `limit` in all, in file order. */
export function balancedHead<T extends { label: string }>(rows: readonly T[], limit: number): T[] {
  const labels = [...new Set(rows.map((r) => r.label))];
  const per = Math.max(1, Math.floor(limit / Math.max(1, labels.length)));
  const taken = new Map<string, number>();
  return rows.filter((r) => {
    const n = taken.get(r.label) ?? 0;
    taken.set(r.label, n + 1);
    return n < per;
  });
}

interface Job {
  variant: string;
  seed: number;
  config: string;
  progress: RunProgress;
  run?: ManifestRun;
  error?: string;
}

/** Runs one config through the CLI in JSON mode, feeding the progress line; resolves with its manifest entry. */
function runJob(job: Job, root: string, out: string, parallelRuns: number, redraw: () => void): Promise<void> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(root, 'trainer', 'cli.ts'), 'train', job.config, '--json'],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
        // The demo already runs one training per core: worker threads (trainer/parallel) would only contend with them.
        env: {
          ...process.env,
          [THREADS_ENV]:
            process.env[THREADS_ENV] ?? String(Math.max(1, Math.floor(os.availableParallelism() / parallelRuns))),
        },
      },
    );
    job.progress.state = 'starting';
    redraw();
    let buffer = '';
    let runDir = '';
    let trainable = 0;
    let total = 0;
    const stderr: string[] = [];
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        let m: Record<string, unknown>;
        try {
          m = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        const p = job.progress;
        if (m.type === 'plan') {
          runDir = String(m.runDir);
          p.total = Number(m.totalSteps);
          p.state = 'training';
        } else if (m.type === 'model') {
          trainable = Number(m.trainable);
          total = Number(m.total);
        } else if (m.type === 'step') {
          p.step = Number(m.step);
          if (typeof m.loss === 'number') p.loss = m.loss;
          if (typeof m.samplesPerSecond === 'number') p.samplesPerSecond = m.samplesPerSecond;
        } else if (m.type === 'eval' && m.split === 'validation') {
          const acc = (m.metrics as Record<string, number> | undefined)?.accuracy;
          if (typeof acc === 'number') p.valAccuracy = acc;
        } else if (m.type === 'error') {
          const e = m.error as { message?: string; fix?: string } | undefined;
          job.error = `${e?.message ?? 'error'}${e?.fix ? ` (${e.fix})` : ''}`;
        }
        redraw();
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => {
      stderr.push(c);
      if (stderr.length > 40) stderr.shift();
    });
    child.on('close', (code) => {
      const p = job.progress;
      if (code === 0 && runDir) {
        p.state = 'done';
        p.step = p.total;
      } else {
        p.state = 'failed';
        job.error ??= `exit code ${code}: ${stderr.join('').trim().split('\n').slice(-3).join(' | ')}`;
        p.note = job.error.slice(0, 80);
      }
      if (runDir) {
        job.run = {
          variant: job.variant,
          seed: job.seed,
          runDir: path.relative(out, runDir),
          trainableParams: trainable,
          totalParams: total,
          wallSeconds: (Date.now() - started) / 1000,
        };
      }
      redraw();
      resolve();
    });
  });
}

async function pool(jobs: Job[], parallel: number, run: (j: Job) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) await run(jobs[next++] as Job);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, worker));
}

export async function runDemo(o: DemoOptions, log: (s: string) => void = (s) => console.log(s)): Promise<DemoManifest> {
  const t0 = Date.now();
  if (o.variants.some((v) => v !== 'scratch')) {
    try {
      await fs.access(path.join(o.root, 'examples', 'pretrained', 'model.safetensors'));
    } catch {
      throw new Error(
        'examples/pretrained/model.safetensors is missing: run `npm run pretrain` first (or `--variants scratch`)',
      );
    }
  }
  await fs.rm(o.out, { recursive: true, force: true });
  await fs.mkdir(o.out, { recursive: true });
  const dataFiles = await preflightData(o.root, o.out, log, o.quick ? 100 : undefined);
  const jobs: Job[] = [];
  let batchSize = 0;
  let maxSteps = 0;
  for (const variant of o.variants) {
    const source = path.join(o.root, 'examples', `${variant}.finetune.yaml`);
    const text = await fs.readFile(source, 'utf8');
    for (const seed of o.seeds) {
      const name = `${variant}-seed${seed}`;
      const cfg = seedConfig(text, path.dirname(source), {
        seed,
        outputDir: path.join(o.out, 'runs', name),
        runName: name,
        ...(o.quick ? { quickSteps: o.quickSteps } : {}),
        ...(o.maxSteps !== undefined ? { maxSteps: o.maxSteps } : {}),
        dataFiles,
      });
      const training = section(cfg, 'training');
      batchSize = Number(training.per_device_train_batch_size ?? 16);
      maxSteps = Number(training.max_steps ?? 0);
      const file = path.join(o.out, 'configs', `${name}.finetune.yaml`);
      await writeFileAtomic(
        file,
        `# Generated by scripts/demo/runDemo.ts from ${path.relative(o.root, source)}\n${stringify(cfg)}`,
      );
      jobs.push({
        variant,
        seed,
        config: file,
        progress: { label: `${variant} seed ${seed}`, step: 0, total: maxSteps, state: 'waiting' },
      });
    }
  }
  log(
    `${jobs.length} runs (${o.variants.join(', ')} x seeds ${o.seeds.join(', ')}), ${o.parallel} at a time; output in ${o.out}`,
  );
  const view = new MultiProgress(
    process.stdout,
    !!process.stdout.isTTY && !process.env.CI,
    jobs.map((j) => j.progress),
  );
  await pool(jobs, o.parallel, (j) => runJob(j, o.root, o.out, o.parallel, () => view.update()));
  for (const j of jobs) if (j.error) log(`${j.progress.label}: ${j.error}`);
  const manifest: DemoManifest = {
    formatVersion: 1,
    createdAt: new Date().toISOString(),
    quick: o.quick,
    maxSteps,
    batchSize,
    variants: Object.fromEntries(o.variants.map((v) => [v, VARIANTS[v] as string])),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, ${o.parallel} run(s) at a time; whole demo ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    runs: jobs.flatMap((j) => (j.run ? [j.run] : [])),
  };
  await writeFileAtomic(path.join(o.out, 'runs.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const built = await writeReport(o.out);
  log('');
  log(built.markdown.split('\n## Runs')[0] ?? '');
  log(`report: ${path.join(o.out, 'report.md')}`);
  if (o.publish) {
    await writeFileAtomic(path.join(o.root, 'examples', 'report.md'), built.markdown);
    await writeFileAtomic(path.join(o.root, 'examples', 'learning-curves.svg'), built.svg);
    log('published examples/report.md and examples/learning-curves.svg');
  }
  if (jobs.some((j) => j.error)) process.exitCode = 1;
  return manifest;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
  Promise.resolve()
    .then(() => runDemo(parseArgs(process.argv.slice(2), root)))
    .catch((e: unknown) => {
      console.error(`demo: ${(e as Error).message}`);
      process.exit(1);
    });
}
