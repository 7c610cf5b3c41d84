/**
 * The plan stage of a run: read and encode the data, choose the labels and the tokenizer, plan the batches; then
 * open the run folder and announce the plan. Data errors (an unknown label on line N) come before any model is
 * loaded, and before a run folder exists.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { greaterIsBetter, normaliseMetricName } from '../../common/config/rules';
import { FineTuneError } from '../../common/errors';
import type { TrainerMessage } from '../../common/protocol';
import type { LabelMap } from '../data/labels';
import { resolveModelFolder } from '../hf/modelFolder';
import { runHubOptions } from '../hf/hubProgress';
import type { RunHubOptions } from '../hf/hubProgress';
import type { FineTuneConfig } from '../../common/config/schema';
import { readTrainerState } from './checkpoint';
import { cleanStaleFiles } from '../../common/runFolder/staleFiles';
import { resumeHome, RunFolder, runsRoot } from './runFolder';
import { DataPlan } from './schedulePlan';
import { reportsToTensorBoard, tensorBoardSink } from '../tensorboard/reportTo';
import { chooseLabels, encodeRows, readRows, resolveTokenizer } from './setup';
import { checkResumeProblemType, runProblemType } from './problemTypeCheck';
import type { TrainOptions } from './trainOptions';
import type { ResumePoint, RunData, RunOutput } from './trainSession';

export async function planData(o: TrainOptions): Promise<RunData> {
  const c = structuredClone(o.loaded.config);
  if (o.maxSteps !== undefined) c.training.max_steps = o.maxSteps;
  // Hub downloads report progress and stop with the run; the watch on its flags ends once the model is built.
  const hub = runHubOptions(c.model, o.emit, o.control);
  try {
    return await encodeData(o, c, hub);
  } catch (e) {
    hub.dispose();
    throw e;
  }
}

async function encodeData(o: TrainOptions, c: FineTuneConfig, hub: RunHubOptions): Promise<RunData> {
  const t = c.training;
  const baseDir = o.loaded.dir;
  const { tokenizer } = await resolveTokenizer(c.model.tokenizer ?? c.model.name_or_path!, baseDir, hub.tokenizer);
  const rows = await readRows(c, baseDir, hub.tokenizer);
  let labels: LabelMap | undefined;
  if (c.task === 'text-classification') {
    const pretrained =
      c.mode === 'fine-tune'
        ? (await resolveModelFolder(c.model.name_or_path!, { ...hub.model, baseDir })).config
        : undefined;
    const task = runProblemType(c, rows.train, pretrained, rows.files.train);
    labels = chooseLabels(rows.train, pretrained?.id2label, task, rows.labelNames);
  }
  const encode = (r: typeof rows.train, f: string | undefined) =>
    encodeRows(r, tokenizer, c.data.max_length, labels, f ?? rows.files.train, c.data.label_separator);
  const trainSet = encode(rows.train, rows.files.train);
  const valSet = encode(rows.validation, rows.files.validation);
  const testSet = encode(rows.test, rows.files.test);
  const plan = new DataPlan({
    examples: trainSet.length,
    batchSize: t.per_device_train_batch_size,
    accumulation: t.gradient_accumulation_steps,
    epochs: t.num_train_epochs,
    maxSteps: t.max_steps,
    seed: t.seed,
    groupByLength: c.data.group_by_length,
    lengths: trainSet.map((e) => e.inputIds.length),
  });
  return {
    config: c,
    baseDir,
    hub,
    tokenizer,
    ...(labels ? { labels } : {}),
    trainSet,
    valSet,
    testSet,
    plan,
    warnings: [...o.loaded.warnings, ...rows.warnings],
  };
}

/**
 * Opens the run folder (a new one, or the resumed checkpoint's own: see resumeHome), reads the checkpoint to
 * resume from, cleans what killed trainers left, and sends `plan`.
 */
export async function openRun(
  o: TrainOptions,
  d: RunData,
  created: (rf: RunFolder) => void,
): Promise<{ out: RunOutput; resume?: ResumePoint }> {
  const from = d.config.training.resume_from_checkpoint;
  const resumeDir = o.resumeFrom ?? (from ? path.resolve(d.baseDir, from) : undefined);
  const home = resumeDir ? await resumeHome(resumeDir, o.loaded.file, d.config) : undefined;
  let resume: ResumePoint | undefined;
  let rf: RunFolder;
  if (home && 'dir' in home && resumeDir) {
    // Read and checked before the folder is touched: a checkpoint that cannot be resumed changes nothing.
    resume = await readResumePoint(o, d, resumeDir);
    rf = await RunFolder.reopen(home, o.loaded.file, d.config, resume.state.global_step, o.loaded.overrides);
  } else {
    rf = await RunFolder.create(o.loaded.file, d.config, o.loaded.overrides);
  }
  created(rf);
  o.onRunFolder?.(rf);
  const out = runOutput(o, rf);
  for (const w of d.warnings) out.log('warn', w);
  if (home && 'reason' in home) out.log('info', `This resume starts a new run folder: ${home.reason}.`);
  await cleanLeftovers(out, runsRoot(o.loaded.file, d.config), resumeDir);
  if (resumeDir && !resume) resume = await readResumePoint(o, d, resumeDir);
  if (reportsToTensorBoard(d.config)) {
    const tb = tensorBoardSink(rf.dir, resume?.state.global_step);
    rf.reportTo(tb);
    out.log(
      'info',
      `TensorBoard: ${path.basename(tb.file)} in the run folder (tensorboard --logdir ${path.dirname(rf.dir)}).`,
    );
  }
  const totalSteps = d.plan.totalSteps;
  await rf.update({ backend: o.backend, totalSteps, ...(resume ? { resumedFrom: resume.dir } : {}) });
  out.emit(planMessage(rf, d, resume));
  // The run log names the backend (the GPU adapter and its limits on webgpu) and why each other one was not used;
  // after the plan, so that a run folder that cannot be written is reported with the folder the plan named.
  rf.log(`backend: ${o.backend.name}: ${o.backend.reason}`);
  for (const t of o.backend.tried) rf.log(`  ${t.available ? 'usable' : 'not used'}: ${t.backend}: ${t.why}`);
  return { out, ...(resume ? { resume } : {}) };
}

/** At most this many run folders are looked into for leftovers at each start. */
const MAX_RUNS_CLEANED = 1000;

/**
 * Temp folders of saves (and prunes) that a killed trainer never finished, in the runs folder's runs and in the
 * folder of the checkpoint resumed from. Those of live trainers stay.
 */
async function cleanLeftovers(out: RunOutput, root: string, resumeDir: string | undefined): Promise<void> {
  const entries = await fs.readdir(root, { withFileTypes: true }).catch(() => []);
  const dirs = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => path.join(root, e.name));
  const extra = resumeDir ? [path.dirname(path.resolve(resumeDir))] : [];
  for (const dir of new Set([...dirs.slice(0, MAX_RUNS_CLEANED), ...extra])) {
    const cleaned = await cleanStaleFiles(dir).catch(() => []);
    if (cleaned.length) out.log('info', `Removed what killed trainers left in ${dir}: ${cleaned.join(', ')}.`);
  }
}

function runOutput(o: TrainOptions, rf: RunFolder): RunOutput {
  const emit = (m: TrainerMessage) => {
    rf.record(m);
    o.emit(m);
  };
  const log = (level: 'info' | 'warn', message: string) => {
    rf.log(`${level}: ${message}`);
    emit({ type: 'log', level, message });
  };
  return { rf, emit, log };
}

async function readResumePoint(o: TrainOptions, d: RunData, dir: string): Promise<ResumePoint> {
  const state = await readTrainerState(dir);
  const labels = d.labels?.labels;
  if (labels && state.labels && state.labels.join('\u0000') !== labels.join('\u0000')) {
    const was = state.labels.join(', ');
    const message = `the checkpoint was trained with the labels ${was}, the data has ${labels.join(', ')}`;
    throw new FineTuneError('resume-labels-differ', message, {
      file: o.loaded.file,
      fix: 'Resume with the same data the checkpoint was trained on.',
    });
  }
  if (d.labels) await checkResumeProblemType(dir, d.labels.problemType, o.loaded.file);
  return { dir, state };
}

function planMessage(rf: RunFolder, d: RunData, resume: ResumePoint | undefined): TrainerMessage {
  const c = d.config;
  return {
    type: 'plan',
    runId: rf.runId,
    runDir: rf.dir,
    mode: c.mode,
    task: c.task,
    totalSteps: d.plan.totalSteps,
    stepsPerEpoch: d.plan.stepsPerEpoch,
    epochs: d.plan.totalSteps / d.plan.stepsPerEpoch,
    trainExamples: d.trainSet.length,
    evalExamples: d.valSet.length,
    ...(d.labels ? { labels: d.labels.labels } : {}),
    ...(resume ? { resumedFromStep: resume.state.global_step } : {}),
    metricForBestModel: normaliseMetricName(c.training.metric_for_best_model ?? 'loss'),
    greaterIsBetter: greaterIsBetter(c),
  };
}
