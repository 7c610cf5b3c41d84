/**
 * The build stage of a run: the model (announced with its module tree), the optimiser and its schedule, the
 * trainer state (restored from the checkpoint when resuming) and the worker replicas.
 */
import { bertParameters } from '../../common/bertParams';
import { greaterIsBetter, normaliseMetricName } from '../../common/config/rules';
import { buildModuleTree } from '../../common/moduleTree';
import { backendForWorkers } from '../backend';
import { backendCeilings } from '../gpu/memoryFit';
import { trainerThreads } from '../parallel/threads';
import type { BertModel } from '../model/bert';
import { GradientAccumulator } from '../optim/accumulate';
import { AdamW } from '../optim/adamw';
import { groupOptions, paramSetting } from '../optim/paramGroups';
import type { ParamSetting } from '../optim/paramGroups';
import { lrLambda, warmupSteps } from '../optim/schedule';
import { Replicas } from '../parallel/replicas';
import { loadModelWeights, readOptimizerSnapshot } from './checkpoint';
import type { TrainerState } from '../../common/runFolder/trainerState';
import { buildModel, checkTrainingMemory, headOf, trainablePredicate } from './setup';
import type { MemoryGate } from './setup';
import type { TrainOptions } from './trainOptions';
import { emptyWindow } from './trainSession';
import type { ResumePoint, RunData, RunOutput, Session } from './trainSession';

export async function buildSession(
  o: TrainOptions,
  t0: number,
  d: RunData,
  out: RunOutput,
  resume: ResumePoint | undefined,
): Promise<Session> {
  const c = d.config;
  const gate = memoryGate(o, out);
  const built = await buildModel(c, d.baseDir, d.tokenizer, d.labels, d.hub.model, gate).finally(d.hub.dispose);
  const model = built.model;
  const isTrainable = trainablePredicate(c);
  const tree = buildModuleTree(bertParameters(model.config, headOf(c.task), model.numLabels), isTrainable);
  const newlyInitialized = built.newlyInitialized;
  out.emit({ type: 'model', tree, total: tree.total, trainable: tree.trainable, newlyInitialized });
  if (c.mode === 'fine-tune' && newlyInitialized.length) {
    const names = newlyInitialized.join(', ');
    out.log('info', `Newly initialised (not in the pre-trained model): ${names}. Train them before using the model.`);
  }
  const optimizer = buildOptimizer(d, model, isTrainable);
  const t = c.training;
  const lambda = lrLambda(
    t.lr_scheduler_type,
    d.plan.totalSteps,
    warmupSteps(d.plan.totalSteps, t.warmup_ratio, t.warmup_steps),
  );
  const state = initialState(o, d);
  if (resume) await restore(resume, model, optimizer, state, out);
  const replicas = await startReplicas(o, model, out);
  const s = sessionOf(o, t0, d, out, { model, isTrainable, optimizer, lambda, state, replicas });
  if (built.sourceConfig) s.sourceConfig = built.sourceConfig;
  return s;
}

/**
 * The memory check before the model is allocated: on the backend this run uses, with the worker threads it will
 * start (trainer/parallel/threads.ts). A run that cannot fit is refused there; one near a ceiling is warned about.
 */
function memoryGate(o: TrainOptions, out: RunOutput): MemoryGate {
  const threads = backendForWorkers() ? trainerThreads() : 1;
  const ceilings = backendCeilings(o.backend, { threads });
  // The error names the run's config (where the batch size is set), not the model's config.json.
  return (shape) => {
    const v = checkTrainingMemory({ ...shape, threads }, ceilings, o.loaded.file);
    if (ceilings.note) out.log('info', ceilings.note);
    if (v.level === 'near') out.log('warn', `${v.message} ${v.fix}`);
  };
}

function buildOptimizer(d: RunData, model: BertModel, isTrainable: (name: string) => boolean): AdamW {
  const t = d.config.training;
  const group = groupOptions(t, model.config.num_hidden_layers);
  const settings = new Map<string, ParamSetting>();
  for (const name of model.parameterNames()) {
    if (isTrainable(name)) settings.set(name, paramSetting(name, group));
  }
  return new AdamW(model.params, settings, { beta1: t.adam_beta1, beta2: t.adam_beta2, epsilon: t.adam_epsilon });
}

/** trainer_state.json as a fresh run starts it; `engine` names an engine other than the built-in one. */
export function initialState(o: TrainOptions, d: RunData, engine?: string): TrainerState {
  const c = d.config;
  return {
    formatVersion: 1,
    generatedBy: `finetune-studio ${o.engineVersion}${engine ? ` (engine: ${engine})` : ''}`,
    global_step: 0,
    epoch: 0,
    total_steps: d.plan.totalSteps,
    steps_per_epoch: d.plan.stepsPerEpoch,
    seed: c.training.seed,
    data_position: { epoch: 0, step_in_epoch: 0 },
    metric_for_best_model: normaliseMetricName(c.training.metric_for_best_model ?? 'loss'),
    greater_is_better: greaterIsBetter(c),
    patience_used: 0,
    log_history: [],
    ...(d.labels ? { labels: d.labels.labels } : {}),
    task: c.task,
    mode: c.mode,
  };
}

/** Weights, optimiser moments and the trainer state of the checkpoint; the data order needs only the step. */
async function restore(r: ResumePoint, model: BertModel, optimizer: AdamW, state: TrainerState, out: RunOutput) {
  await loadModelWeights(model, r.dir);
  optimizer.restore(await readOptimizerSnapshot(r.dir, model.specs));
  state.global_step = r.state.global_step;
  state.log_history = r.state.log_history ?? [];
  state.patience_used = r.state.patience_used ?? 0;
  if (r.state.best_metric !== undefined) state.best_metric = r.state.best_metric;
  if (r.state.best_model_checkpoint !== undefined) state.best_model_checkpoint = r.state.best_model_checkpoint;
  out.log('info', `Resumed from ${r.dir} at step ${r.state.global_step}.`);
}

type Core = Pick<Session, 'model' | 'isTrainable' | 'optimizer' | 'lambda' | 'state' | 'replicas'>;

function sessionOf(o: TrainOptions, t0: number, d: RunData, out: RunOutput, core: Core): Session {
  const t = d.config.training;
  const tokenizer = d.tokenizer;
  const masking = { vocab: tokenizer, probability: d.config.data.mlm_probability, seed: t.seed };
  const labelNames = d.labels ? { labelNames: d.labels.labels } : {};
  const threshold = d.labels?.threshold !== undefined ? { threshold: d.labels.threshold } : {};
  const step = core.state.global_step;
  const now = Date.now();
  return {
    o,
    t0,
    data: d,
    out,
    ...core,
    trainableNames: core.model.parameterNames().filter(core.isTrainable),
    accum: new GradientAccumulator(),
    metricName: core.state.metric_for_best_model,
    greaterIsBetter: core.state.greater_is_better,
    evalOpts: { batchSize: t.per_device_eval_batch_size, padId: tokenizer.padId, ...labelNames, ...threshold, masking },
    progress: {
      step,
      firstStep: step,
      sessionStart: now,
      lastSaved: -1,
      // A run resumed in its own folder keeps the checkpoints of its earlier sessions.
      checkpoints: [...out.rf.info.checkpoints],
      win: emptyWindow(),
      lastReport: now,
      stale: true,
      staleAll: true,
    },
  };
}

/** Worker threads for data parallelism (replicas.ts); closed when the run ends. */
async function startReplicas(o: TrainOptions, model: BertModel, out: RunOutput): Promise<Replicas | null> {
  const replicas = await Replicas.start(model, { onFallback: (why) => out.log('warn', why) });
  if (replicas) {
    const how = `each batch is split across worker threads, each with its own ${o.backend.name} backend`;
    out.log('info', `Training and evaluation run on ${replicas.threads} threads: ${how}.`);
  }
  return replicas;
}
