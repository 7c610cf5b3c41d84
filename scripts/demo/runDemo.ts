/**
 * `npm run demo`: trains one model three ways on one task, from scratch (the model's architecture and tokenizer,
 * random weights), fine-tuned from its weights, and fine-tuned with all but the top layer frozen, with the same
 * step budget and 3 seeds each; then scratch and fine-tune again on nested subsets of the training data (the
 * sample-efficiency curve). Runs go through the engine's CLI (`trainer/cli.ts train <config> --json`); the report
 * (report.ts) goes to the demo folder. Options: options.ts. Defaults: the shipped model (examples/pretrained) on
 * the shipped data (examples/sentiment).
 *
 * The configs start from the ordinary examples/{scratch,finetune,finetune-frozen}.finetune.yaml (demoConfig.ts);
 * per run, a copy with absolute paths, its own output folder and the seed is written under <out>/configs/. Runs
 * go two at a time by default, each on one thread (FINETUNE_THREADS): small runs use cores better side by side
 * than each split across both.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { writeFileAtomic } from '../../common/atomicWrite';
import { FineTuneError, isFineTuneError } from '../../common/errors';
import { section, seedConfig, type RunConfigOptions, type Yaml } from './demoConfig';
import { preflightData, writeSubsets, type PreparedData } from './demoData';
import { prepareHubData } from './hubData';
import { resolveDemoModel, SHIPPED_MODEL, type DemoModel } from './demoModel';
import { pool, runJob, type Job } from './jobs';
import { parseArgs, SUBSET_SEED, VARIANTS, type DemoOptions } from './options';
import { MultiProgress } from './progress';
import { CURVE_SVG, writeReport, type CurveManifest, type DemoManifest } from './report';
import { CURVE_ARMS } from './curveReport';

/** The step rule of the curve, as the report states it: the model scored is the one the task's runs keep. */
export function stepRule(training: Yaml): string {
  const scored =
    training.load_best_model_at_end === false
      ? 'the model at the end of training is scored, as in the comparison above'
      : 'the checkpoint with the best validation accuracy is scored';
  return (
    'Every point has the same optimiser steps as the full split (the same fixed budget, whatever the size), and ' +
    `${scored}: the number of labels is the only thing that changes.`
  );
}

type JobBase = Omit<RunConfigOptions, 'seed' | 'outputDir' | 'runName'>;
type Log = (s: string) => void;

/** Checks `--model` before anything is written; the shipped model's missing weights say how to make them. */
async function checkModel(o: DemoOptions): Promise<{ model: DemoModel; shipped: boolean }> {
  const shippedDir = path.join(o.root, SHIPPED_MODEL);
  const shipped = path.resolve(o.model) === shippedDir;
  try {
    const model = await resolveDemoModel(o.model, {
      cwd: process.cwd(),
      needWeights: o.variants.some((v) => v !== 'scratch'),
    });
    return { model, shipped };
  } catch (e) {
    if (shipped && isFineTuneError(e) && e.code === 'model-missing-weights')
      throw new FineTuneError(e.code, e.message, { fix: 'Run `npm run pretrain` first (or `--variants scratch`).' });
    throw e;
  }
}

/** A file task's splits, checked before any config is written (the runs may train on cleaned copies). */
async function prepareFiles(o: DemoOptions, log: Log): Promise<PreparedData | undefined> {
  if (o.task.data.kind !== 'files') return undefined;
  return preflightData(o.root, o.task, o.out, log, o.quick ? 100 : undefined);
}

/**
 * The curve's data: a file task's checked splits, or a Hub task's rows as a main run's config reads them (read
 * once here, through the engine's loader, so that every run then finds the data set in the cache).
 */
async function curveData(o: DemoOptions, files: PreparedData | undefined, main: readonly Job[], log: Log) {
  if (files !== undefined || o.task.data.kind !== 'hub') return files;
  return prepareHubData(o.task, (main[0] as Job).config, o.out, log);
}

/** Optimiser steps per epoch over `trainRows` examples, as the engine's plan counts them (schedulePlan.ts). */
function stepsPerEpoch(training: Yaml, trainRows: number): number {
  const batches = Math.ceil(trainRows / Number(training.per_device_train_batch_size ?? 8));
  return Math.max(1, Math.ceil(batches / Number(training.gradient_accumulation_steps ?? 1)));
}

/** The curve's budget: the full split's number of steps (max_steps, else epochs × steps per epoch). */
export function curveSteps(training: Yaml, trainRows: number): number {
  const maxSteps = Number(training.max_steps ?? -1);
  if (maxSteps > 0) return maxSteps;
  return Math.max(1, Math.ceil(stepsPerEpoch(training, trainRows) * Number(training.num_train_epochs ?? 3)));
}

/**
 * A curve run's evaluation and checkpoint schedule: a task that evaluates every epoch (MRPC) does so at the full
 * split's epochs, in steps; an epoch of a 64-example subset is 2 steps, and BERT-base would be evaluated on the
 * whole validation split and saved 170 times in its 345 steps.
 */
export function curveSchedule(training: Yaml, trainRows: number): Yaml {
  const every = stepsPerEpoch(training, trainRows);
  return {
    ...(training.eval_strategy === 'epoch' ? { eval_strategy: 'steps', eval_steps: every } : {}),
    ...(training.save_strategy === 'epoch' ? { save_strategy: 'steps', save_steps: every } : {}),
  };
}

interface JobSpec {
  variant: string;
  seed: number;
  trainExamples?: number;
  trainFile?: string;
}

async function writeJob(o: DemoOptions, spec: JobSpec, base: JobBase) {
  const size = spec.trainExamples === undefined ? '' : `-n${spec.trainExamples}`;
  const name = `${spec.variant}${size}-seed${spec.seed}`;
  const source = path.join(o.root, 'examples', `${spec.variant}.finetune.yaml`);
  const text = await fs.readFile(source, 'utf8');
  const dataFiles = spec.trainFile ? { ...base.dataFiles, train: spec.trainFile } : base.dataFiles;
  const cfg = seedConfig(text, path.dirname(source), {
    ...base,
    variant: spec.variant,
    seed: spec.seed,
    outputDir: path.join(o.out, 'runs', name),
    runName: name,
    ...(dataFiles ? { dataFiles } : {}),
  });
  const file = path.join(o.out, 'configs', `${name}.finetune.yaml`);
  await writeFileAtomic(
    file,
    `# Generated by scripts/demo/runDemo.ts from ${path.relative(o.root, source)}\n${stringify(cfg)}`,
  );
  const label = `${spec.variant}${size ? ` n=${spec.trainExamples}` : ''} seed ${spec.seed}`;
  const job: Job = {
    variant: spec.variant,
    seed: spec.seed,
    config: file,
    progress: { label, step: 0, total: 0, state: 'waiting' },
  };
  if (spec.trainExamples !== undefined) job.trainExamples = spec.trainExamples;
  return { job, cfg };
}

/** The main comparison's jobs, then the curve's (scratch and fine-tune on each subset, the curve's seeds). */
async function buildJobs(
  o: DemoOptions,
  model: DemoModel,
  shipped: boolean,
  files: PreparedData | undefined,
  log: Log,
) {
  const base: JobBase = {
    model,
    shippedModel: shipped,
    task: o.task,
    learningRates: o.learningRates,
    dataFiles: files?.dataFiles ?? {},
    ...(o.backend !== undefined ? { backend: o.backend } : {}),
    ...(o.quick ? { quickSteps: o.quickSteps } : {}),
    ...(o.maxSteps !== undefined ? { maxSteps: o.maxSteps } : {}),
  };
  const jobs: Job[] = [];
  let training: Yaml = {};
  for (const variant of o.variants) {
    for (const seed of o.seeds) {
      const { job, cfg } = await writeJob(o, { variant, seed }, base);
      training = section(cfg, 'training');
      jobs.push(job);
    }
  }
  const arms = CURVE_ARMS.filter((a) => o.variants.includes(a));
  if (o.sizes.length === 0 || arms.length === 0) return { jobs, training };
  const data = await curveData(o, files, jobs, log);
  if (data === undefined) return { jobs, training };
  const curve = await curveJobs(
    o,
    { ...base, dataFiles: { ...base.dataFiles, ...data.curveFiles } },
    data,
    training,
    log,
  );
  return { jobs: [...jobs, ...curve.jobs], training, ...(curve.manifest ? { curve: curve.manifest } : {}) };
}

/** The curve's jobs on `data`'s subsets, every one with the full split's budget of steps. */
async function curveJobs(o: DemoOptions, base: JobBase, data: PreparedData, training: Yaml, log: Log) {
  const subsets = await writeSubsets(data.train, o.sizes, SUBSET_SEED, o.task, o.out, log);
  const arms = CURVE_ARMS.filter((a) => o.variants.includes(a));
  const jobs: Job[] = [];
  if (subsets.length === 0) return { jobs };
  const steps = curveSteps(training, data.train.length);
  const schedule = curveSchedule(training, data.train.length);
  for (const { size, file } of subsets)
    for (const variant of arms)
      for (const seed of o.curveSeeds) {
        const spec = { variant, seed, trainExamples: size, trainFile: file };
        jobs.push((await writeJob(o, spec, { ...base, maxSteps: steps, training: schedule })).job);
      }
  const manifest: CurveManifest = {
    sizes: subsets.map((s) => s.size),
    seeds: o.curveSeeds,
    subsetSeed: SUBSET_SEED,
    trainRows: data.train.length,
    rule: stepRule(training),
  };
  return { jobs, manifest };
}

function manifestOf(
  o: DemoOptions,
  jobs: readonly Job[],
  training: Yaml,
  curve: CurveManifest | undefined,
  seconds: number,
): DemoManifest {
  const modelName = path.resolve(o.model) === path.join(o.root, SHIPPED_MODEL) ? SHIPPED_MODEL : o.model;
  const main = jobs.filter((j) => j.trainExamples === undefined);
  return {
    formatVersion: 1,
    createdAt: new Date().toISOString(),
    quick: o.quick,
    maxSteps: Math.max(0, ...main.map((j) => j.progress.total)),
    batchSize: Number(training.per_device_train_batch_size ?? 8),
    variants: Object.fromEntries(o.variants.map((v) => [v, (VARIANTS[v] as (m: string) => string)(modelName)])),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, ${o.parallel} run(s) at a time; whole demo ${seconds.toFixed(0)} s`,
    task: o.task.name,
    model: modelName,
    testOf: training.load_best_model_at_end === false ? 'last' : 'best',
    ...(curve ? { curve } : {}),
    plannedRuns: jobs.length,
    runs: jobs.flatMap((j) => (j.run ? [j.run] : [])),
  };
}

export async function runDemo(o: DemoOptions, log: (s: string) => void = (s) => console.log(s)): Promise<DemoManifest> {
  const t0 = Date.now();
  const { model, shipped } = await checkModel(o);
  await fs.rm(o.out, { recursive: true, force: true });
  await fs.mkdir(o.out, { recursive: true });
  const files = await prepareFiles(o, log);
  const { jobs, training, curve } = await buildJobs(o, model, shipped, files, log);
  const curveRuns = jobs.filter((j) => j.trainExamples !== undefined).length;
  log(
    `${jobs.length} runs (${o.variants.join(', ')} x seeds ${o.seeds.join(', ')}${curveRuns ? `; ${curveRuns} for the curve` : ''}), ` +
      `${o.parallel} at a time; output in ${o.out}`,
  );
  const view = new MultiProgress(
    process.stdout,
    !!process.stdout.isTTY && !process.env.CI,
    jobs.map((j) => j.progress),
  );
  // runs.json is rewritten after every run (one write at a time), so that a demo stopped part-way still
  // reports the runs it finished: `node --import tsx scripts/demo/report.ts DIR`.
  let written = Promise.resolve();
  const save = async (): Promise<DemoManifest> => {
    const manifest = manifestOf(o, jobs, training, curve, (Date.now() - t0) / 1000);
    const text = `${JSON.stringify(manifest, null, 2)}\n`;
    written = written.then(() => writeFileAtomic(path.join(o.out, 'runs.json'), text));
    await written;
    return manifest;
  };
  await pool(jobs, o.parallel, async (j) => {
    await runJob(j, o.root, o.out, o.parallel, () => view.update());
    await save();
  });
  for (const j of jobs) if (j.error) log(`${j.progress.label}: ${j.error}`);
  const manifest = await save();
  const built = await writeReport(o.out);
  log('');
  log(built.markdown.split('\n## Runs')[0] ?? '');
  log(`report: ${path.join(o.out, 'report.md')}`);
  if (o.publish) {
    await writeFileAtomic(path.join(o.root, 'examples', 'report.md'), built.markdown);
    await writeFileAtomic(path.join(o.root, 'examples', 'learning-curves.svg'), built.svg);
    if (built.curveSvg) await writeFileAtomic(path.join(o.root, 'examples', CURVE_SVG), built.curveSvg);
    log(
      `published examples/report.md, examples/learning-curves.svg${built.curveSvg ? ` and examples/${CURVE_SVG}` : ''}`,
    );
  }
  if (jobs.some((j) => j.error)) process.exitCode = 1;
  return manifest;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
  Promise.resolve()
    .then(() => runDemo(parseArgs(process.argv.slice(2), root)))
    .catch((e: unknown) => {
      const fix = isFineTuneError(e) && e.fix ? `\n  fix: ${e.fix}` : '';
      console.error(`demo: ${(e as Error).message}${fix}`);
      process.exit(1);
    });
}
