/**
 * The training run: set-up, the step loop (accumulation, clipping, AdamW, schedule), evaluation, best-model
 * tracking, early stopping, checkpoints with save_total_limit, resume, the final test evaluation. It talks to
 * the outside only through `emit` (protocol messages) and `control` (flags the host sets), so the subprocess
 * entry, the CLI and the tests all drive the same code.
 */
import * as path from 'node:path';
import { greaterIsBetter, normaliseMetricName } from '../../common/config/rules';
import { bertParameters } from '../../common/bertParams';
import { buildModuleTree } from '../../common/moduleTree';
import type { BackendInfo, TrainerMessage, TrainerMessageOf } from '../../common/protocol';
import { deriveSeed, mulberry32 } from '../../common/random';
import { FineTuneError } from '../../common/errors';
import { collate } from '../data/collate';
import type { LabelMap } from '../data/labels';
import { maskTokens } from '../data/mlm';
import { resolveModelFolder } from '../hf/modelFolder';
import { GradientAccumulator } from '../optim/accumulate';
import { AdamW } from '../optim/adamw';
import { clipByGlobalNorm } from '../optim/clip';
import { paramSetting } from '../optim/paramGroups';
import type { ParamSetting } from '../optim/paramGroups';
import { lrLambda, warmupSteps } from '../optim/schedule';
import { Replicas } from '../parallel/replicas';
import type { TrainerState, SaveHooks } from './checkpoint';
import { loadModelWeights, pruneCheckpoints, readOptimizerSnapshot, readTrainerState, saveCheckpoint } from './checkpoint';
import { evaluate } from './evaluate';
import type { EvalResult } from './evaluate';
import type { LoadedConfig } from './loadConfig';
import { RunFolder } from './runFolder';
import { DataPlan } from './schedulePlan';
import { runHubOptions } from '../hf/hubProgress';
import { buildModel, chooseLabels, encodeRows, headOf, readRows, resolveTokenizer, trainablePredicate } from './setup';

/** Flags the host sets between steps (stop / save_now / cancel). */
export interface RunControl {
  stop: boolean;
  saveNow: boolean;
  cancel: boolean;
}

export interface TrainOptions {
  loaded: LoadedConfig;
  backend: BackendInfo;
  emit: (m: TrainerMessage) => void;
  control: RunControl;
  engineVersion: string;
  /** CLI `--max-steps`. */
  maxSteps?: number;
  /** CLI `--resume-from-checkpoint` (absolute): wins over the config's `resume_from_checkpoint`. */
  resumeFrom?: string;
  hooks?: SaveHooks;
  /** Called once the run folder exists (main.ts tees stderr into its log). */
  onRunFolder?: (rf: RunFolder) => void;
  /** Called after every optimiser step (tests watch tf.memory() with it). */
  onStepEnd?: (step: number) => void;
}

type Done = TrainerMessageOf<'done'>;

const SALT_DROPOUT = 0xd40f;
const SALT_MASK = 0x3a5c;
const REPORT_EVERY_MS = 5000;

export async function train(o: TrainOptions): Promise<Done> {
  let folder: RunFolder | undefined;
  try {
    return await trainIn(o, (rf) => (folder = rf));
  } catch (e) {
    // Set-up can fail after the run folder exists (a bad checkpoint to resume, weights that do not fit):
    // run.json must then say failed, not running.
    if (folder && folder.info.status === 'running') {
      const err = e instanceof FineTuneError ? e.toUserError() : { code: 'internal', message: e instanceof Error ? e.message : String(e) };
      await folder.update({ status: 'failed', endedAt: new Date().toISOString(), error: { code: err.code, message: err.message } });
    }
    throw e;
  }
}

async function trainIn(o: TrainOptions, created: (rf: RunFolder) => void): Promise<Done> {
  const t0 = Date.now();
  const c = structuredClone(o.loaded.config);
  if (o.maxSteps !== undefined) c.training.max_steps = o.maxSteps;
  const t = c.training;
  const baseDir = o.loaded.dir;

  // Data and tokenizer first: their errors (unknown label on line N) should come before any model is loaded.
  const hub = runHubOptions(c.model, o.emit, o.control);
  const { tokenizer } = await resolveTokenizer(c.model.tokenizer ?? c.model.name_or_path!, baseDir, hub.tokenizer);
  const rows = await readRows(c, baseDir);
  let labels: LabelMap | undefined;
  if (c.task === 'text-classification') {
    const fineTune = c.mode === 'fine-tune';
    const source = fineTune ? await resolveModelFolder(c.model.name_or_path!, { ...hub.model, baseDir }) : undefined;
    const pretrained = source?.config.id2label;
    labels = chooseLabels(rows.train, pretrained);
  }
  const encode = (r: typeof rows.train, f: string | undefined) => encodeRows(r, tokenizer, c.data.max_length, labels, f ?? rows.files.train);
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

  const rf = await RunFolder.create(o.loaded.file, c);
  created(rf);
  o.onRunFolder?.(rf);
  const emit = (m: TrainerMessage) => {
    rf.record(m);
    o.emit(m);
  };
  const log = (level: 'info' | 'warn', message: string) => {
    rf.log(`${level}: ${message}`);
    emit({ type: 'log', level, message });
  };
  for (const w of [...o.loaded.warnings, ...rows.warnings]) log('warn', w);

  const resumeDir = o.resumeFrom ?? (t.resume_from_checkpoint ? path.resolve(baseDir, t.resume_from_checkpoint) : undefined);
  const resumed = resumeDir ? await readTrainerState(resumeDir) : undefined;
  if (resumed && labels && resumed.labels && resumed.labels.join('\u0000') !== labels.labels.join('\u0000')) {
    throw new FineTuneError('resume-labels-differ', `the checkpoint was trained with the labels ${resumed.labels.join(', ')}, the data has ${labels.labels.join(', ')}`, {
      file: o.loaded.file,
      fix: 'Resume with the same data the checkpoint was trained on.',
    });
  }
  await rf.update({ backend: o.backend, totalSteps: plan.totalSteps, ...(resumeDir ? { resumedFrom: resumeDir } : {}) });
  emit({
    type: 'plan',
    runId: rf.runId,
    runDir: rf.dir,
    mode: c.mode,
    task: c.task,
    totalSteps: plan.totalSteps,
    stepsPerEpoch: plan.stepsPerEpoch,
    epochs: plan.totalSteps / plan.stepsPerEpoch,
    trainExamples: trainSet.length,
    evalExamples: valSet.length,
    ...(labels ? { labels: labels.labels } : {}),
    ...(resumed ? { resumedFromStep: resumed.global_step } : {}),
  });

  const built = await buildModel(c, baseDir, tokenizer, labels, hub.model).finally(hub.dispose);
  const model = built.model;
  const isTrainable = trainablePredicate(c);
  const tree = buildModuleTree(bertParameters(model.config, headOf(c.task), model.numLabels), isTrainable);
  emit({ type: 'model', tree, total: tree.total, trainable: tree.trainable, newlyInitialized: built.newlyInitialized });
  if (c.mode === 'fine-tune' && built.newlyInitialized.length) {
    log('info', `Newly initialised (not in the pre-trained model): ${built.newlyInitialized.join(', ')}. Train them before using the model.`);
  }

  const settings = new Map<string, ParamSetting>();
  for (const name of model.parameterNames()) {
    if (!isTrainable(name)) continue;
    settings.set(
      name,
      paramSetting(name, {
        learningRate: t.learning_rate,
        weightDecay: t.weight_decay,
        noDecay: t.no_decay,
        layerwiseLrDecay: t.layerwise_lr_decay,
        numLayers: model.config.num_hidden_layers,
        ...(t.learning_rates ? { learningRates: t.learning_rates } : {}),
      }),
    );
  }
  const optimizer = new AdamW(model.params, settings, { beta1: t.adam_beta1, beta2: t.adam_beta2, epsilon: t.adam_epsilon });
  const lambda = lrLambda(t.lr_scheduler_type, plan.totalSteps, warmupSteps(plan.totalSteps, t.warmup_ratio, t.warmup_steps));

  const metricName = normaliseMetricName(t.metric_for_best_model ?? 'loss');
  const gib = greaterIsBetter(c);
  const state: TrainerState = {
    formatVersion: 1,
    generatedBy: `finetune-studio ${o.engineVersion}`,
    global_step: 0,
    epoch: 0,
    total_steps: plan.totalSteps,
    steps_per_epoch: plan.stepsPerEpoch,
    seed: t.seed,
    data_position: { epoch: 0, step_in_epoch: 0 },
    metric_for_best_model: metricName,
    greater_is_better: gib,
    patience_used: 0,
    log_history: [],
    ...(labels ? { labels: labels.labels } : {}),
    task: c.task,
    mode: c.mode,
  };
  if (resumed && resumeDir) {
    await loadModelWeights(model, resumeDir);
    optimizer.restore(await readOptimizerSnapshot(resumeDir));
    state.global_step = resumed.global_step;
    state.log_history = resumed.log_history ?? [];
    state.patience_used = resumed.patience_used ?? 0;
    if (resumed.best_metric !== undefined) state.best_metric = resumed.best_metric;
    if (resumed.best_model_checkpoint !== undefined) state.best_model_checkpoint = resumed.best_model_checkpoint;
    log('info', `Resumed from ${resumeDir} at step ${resumed.global_step}.`);
  }

  const masking = { vocab: tokenizer, probability: c.data.mlm_probability, seed: t.seed };
  const evalOpts = { batchSize: t.per_device_eval_batch_size, padId: tokenizer.padId, ...(labels ? { labelNames: labels.labels } : {}), masking };
  // Worker threads for data parallelism (replicas.ts); closed in the `finally` below.
  const replicas = await Replicas.start(model, { onFallback: (why) => log('warn', why) });
  const trainableNames = model.parameterNames().filter(isTrainable);
  // The workers hold a copy of the weights: `stale` after each optimizer step, synced before they next compute.
  let stale = true;
  let staleAll = true;
  const fresh = async (): Promise<Replicas | null> => {
    if (replicas && stale) await replicas.sync(model, staleAll ? model.parameterNames() : trainableNames);
    stale = staleAll = false;
    return replicas;
  };
  if (replicas) log('info', `Training and evaluation run on ${replicas.threads} threads: each batch is split across worker threads, each with its own ${o.backend.name} backend.`);
  const accum = new GradientAccumulator();
  const checkpoints: string[] = [];
  let lastSaved = -1;
  let bestStep: number | undefined;
  let lastEval: EvalResult | undefined;
  let status: Done['status'] = 'completed';
  let step = state.global_step;
  const sessionStart = Date.now();
  const firstStep = step;
  let win = { loss: 0, steps: 0, samples: 0, tokens: 0, ms: 0 };
  let lastReport = Date.now();

  const save = async (atStep: number): Promise<void> => {
    state.global_step = atStep;
    state.epoch = atStep / plan.stepsPerEpoch;
    state.data_position = { epoch: plan.epochOf(atStep), step_in_epoch: atStep % plan.stepsPerEpoch };
    const isBest = bestStep === atStep;
    const dir = path.join(rf.dir, `checkpoint-${atStep}`);
    if (isBest) state.best_model_checkpoint = dir;
    await saveCheckpoint({ runDir: rf.dir, step: atStep, model, ...(labels ? { labels } : {}), tokenizer, optimizer, state, ...(built.sourceConfig ? { sourceConfig: built.sourceConfig } : {}) }, o.hooks);
    lastSaved = atStep;
    const deleted = await pruneCheckpoints(rf.dir, t.save_total_limit, [state.best_model_checkpoint, dir]);
    checkpoints.push(dir);
    const kept = checkpoints.filter((d) => !deleted.includes(d));
    checkpoints.splice(0, checkpoints.length, ...kept);
    emit({ type: 'checkpoint', step: atStep, path: dir, isBest, deleted });
    await rf.update({ step: atStep, checkpoints: [...checkpoints], lastCheckpoint: dir, ...(state.best_model_checkpoint ? { bestCheckpoint: state.best_model_checkpoint } : {}), ...(state.best_metric !== undefined ? { bestMetric: state.best_metric, metricForBestModel: metricName } : {}) });
  };

  const runEval = async (atStep: number): Promise<boolean> => {
    const r = await evaluate(model, valSet, { ...evalOpts, replicas: await fresh() });
    lastEval = r;
    const v = r.metrics[metricName];
    let isBest = false;
    let stopEarly = false;
    if (v !== undefined && Number.isFinite(v)) {
      const best = state.best_metric;
      isBest = best === undefined || (gib ? v > best : v < best);
      if (t.early_stopping_patience !== undefined) {
        const improved = best === undefined || (isBest && Math.abs(v - best) > t.early_stopping_threshold);
        state.patience_used = improved ? 0 : state.patience_used + 1;
        stopEarly = state.patience_used >= t.early_stopping_patience;
      }
      if (isBest) {
        state.best_metric = v;
        bestStep = atStep;
      }
    }
    state.log_history.push({ step: atStep, epoch: atStep / plan.stepsPerEpoch, ...Object.fromEntries(Object.entries(r.metrics).map(([k, x]) => [`eval_${k}`, x])) });
    emit({
      type: 'eval',
      step: atStep,
      epoch: atStep / plan.stepsPerEpoch,
      split: 'validation',
      metrics: r.metrics,
      ...(r.labels ? { labels: r.labels } : {}),
      ...(r.confusion ? { confusion: r.confusion } : {}),
      ...(r.perClass ? { perClass: r.perClass } : {}),
      isBest,
      ...(t.early_stopping_patience !== undefined ? { patienceUsed: state.patience_used } : {}),
    });
    return stopEarly;
  };

  try {
    while (step < plan.totalSteps) {
      const ts = Date.now();
      const micro = plan.microBatches(step);
      let loss = 0;
      for (let j = 0; j < micro.length; j++) {
        let batch = collate(micro[j]!.map((i) => trainSet[i]!), tokenizer.padId, c.task);
        if (c.task === 'masked-lm') batch = maskTokens(batch, tokenizer, c.data.mlm_probability, mulberry32(deriveSeed(t.seed, SALT_MASK, step, j)));
        const seed = deriveSeed(t.seed, SALT_DROPOUT, step, j);
        const workers = await fresh();
        const r = workers ? await workers.lossAndGrads(model, batch, seed, isTrainable) : model.lossAndGrads(batch, { training: true, seed }, isTrainable);
        accum.add(r.grads, 1 / micro.length);
        loss += r.loss / micro.length;
        win.samples += batch.size;
        for (const m of batch.attentionMask) win.tokens += m;
      }
      const gradNorm = clipByGlobalNorm(accum.grads, t.max_grad_norm);
      const factor = lambda(step);
      if (!Number.isFinite(loss)) {
        accum.clear();
        emit({ type: 'step', step: step + 1, epoch: (step + 1) / plan.stepsPerEpoch, loss: null, learningRate: t.learning_rate * factor, gradNorm: null, samplesPerSecond: 0, tokensPerSecond: 0, elapsedMs: Date.now() - t0, etaMs: null });
        throw new FineTuneError('loss-diverged', `the loss became ${loss} at step ${step + 1}`, { fix: 'Lower learning_rate, add warm-up (warmup_ratio: 0.1), or keep max_grad_norm at 1.' });
      }
      optimizer.apply(accum.grads, factor);
      stale = true;
      accum.clear();
      step += 1;
      win.loss += loss;
      win.steps += 1;
      win.ms += Date.now() - ts;
      o.onStepEnd?.(step);

      // HF logs every logging_steps; slow steps (a large model on a CPU) also report every few seconds, so that a
      // progress bar never sits still for minutes. The loss is averaged over the steps since the last report.
      if (step % t.logging_steps === 0 || step === plan.totalSteps || step === firstStep + 1 || Date.now() - lastReport >= REPORT_EVERY_MS) {
        lastReport = Date.now();
        const sec = Math.max(win.ms, 1) / 1000;
        const done = step - firstStep;
        const perStep = (Date.now() - sessionStart) / done;
        const entry = { type: 'step' as const, step, epoch: step / plan.stepsPerEpoch, loss: win.loss / win.steps, learningRate: t.learning_rate * factor, gradNorm: Number.isFinite(gradNorm) ? gradNorm : null, samplesPerSecond: win.samples / sec, tokensPerSecond: win.tokens / sec, elapsedMs: Date.now() - t0, etaMs: perStep * (plan.totalSteps - step) };
        state.log_history.push({ step, epoch: entry.epoch, loss: entry.loss, learning_rate: entry.learningRate, grad_norm: entry.gradNorm });
        emit(entry);
        win = { loss: 0, steps: 0, samples: 0, tokens: 0, ms: 0 };
      }

      const epochEnd = plan.endsEpoch(step);
      let stopEarly = false;
      if (valSet.length && ((t.eval_strategy === 'steps' && step % (t.eval_steps ?? t.logging_steps) === 0) || (t.eval_strategy === 'epoch' && epochEnd))) {
        stopEarly = await runEval(step);
      }
      // Yield so that stdin (stop / save_now / cancel) is read between steps.
      await new Promise<void>((r) => setImmediate(r));
      if (o.control.cancel) {
        status = 'cancelled';
        break;
      }
      const scheduled = (t.save_strategy === 'steps' && step % t.save_steps === 0) || (t.save_strategy === 'epoch' && epochEnd);
      if (scheduled || o.control.saveNow || o.control.stop) {
        o.control.saveNow = false;
        await save(step);
      }
      if (o.control.stop) {
        status = 'stopped';
        break;
      }
      if (stopEarly) {
        status = 'early-stopped';
        log('info', `Early stopping: ${metricName} did not improve for ${state.patience_used} evaluations.`);
        break;
      }
    }

    if (status === 'completed' || status === 'early-stopped') {
      if (lastSaved !== step) await save(step);
      if (t.load_best_model_at_end && state.best_model_checkpoint && path.resolve(state.best_model_checkpoint) !== path.resolve(path.join(rf.dir, `checkpoint-${step}`))) {
        await loadModelWeights(model, state.best_model_checkpoint);
        stale = staleAll = true;
        log('info', `Loaded the best model (${metricName} = ${state.best_metric}) from ${state.best_model_checkpoint}.`);
      }
    }
    let finalMetrics = lastEval?.metrics;
    if (testSet.length && (status === 'completed' || status === 'early-stopped')) {
      const r = await evaluate(model, testSet, { ...evalOpts, replicas: await fresh() });
      finalMetrics = r.metrics;
      emit({ type: 'eval', step, epoch: step / plan.stepsPerEpoch, split: 'test', metrics: r.metrics, ...(r.labels ? { labels: r.labels } : {}), ...(r.confusion ? { confusion: r.confusion } : {}), ...(r.perClass ? { perClass: r.perClass } : {}), isBest: false });
    }
    const doneMsg: Done = {
      type: 'done',
      status,
      step,
      ...(state.best_metric !== undefined ? { bestMetric: state.best_metric } : {}),
      ...(state.best_model_checkpoint ? { bestCheckpoint: state.best_model_checkpoint } : {}),
      ...(lastSaved >= 0 ? { lastCheckpoint: path.join(rf.dir, `checkpoint-${lastSaved}`) } : {}),
      ...(finalMetrics ? { finalMetrics } : {}),
      elapsedMs: Date.now() - t0,
    };
    emit(doneMsg);
    await rf.update({ status, step, endedAt: new Date().toISOString() });
    return doneMsg;
  } catch (e) {
    await rf.update({ step });
    throw e;
  } finally {
    await replicas?.close();
    accum.clear();
    optimizer.dispose();
    model.dispose();
  }
}
