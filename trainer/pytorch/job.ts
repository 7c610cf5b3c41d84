/**
 * Prepares the PyTorch worker's job (common/engineJob.ts) from the TypeScript engine's own stages, so that both
 * engines start from the same things: the encoded data and batch order (trainPlan.ts), the model built and
 * checked by setup.ts (its weights written as the worker's starting point: the same random initialisation
 * from scratch, the same loaded weights and new head when fine-tuning), the per-parameter optimiser settings
 * (paramGroups.ts) and the schedule's factor of every step (schedule.ts).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { bertParameters } from '../../common/bertParams';
import { greaterIsBetter, normaliseMetricName } from '../../common/config/rules';
import { ENGINE_DIR, ENGINE_JOB_VERSION } from '../../common/engineJob';
import type { EngineJob } from '../../common/engineJob';
import { buildModuleTree } from '../../common/moduleTree';
import { writeFileAtomic } from '../../common/atomicWrite';
import type { TrainerState } from '../../common/runFolder/trainerState';
import { groupOptions, paramSetting } from '../optim/paramGroups';
import { lrLambda, warmupSteps } from '../optim/schedule';
import { hfConfigJson, writeModelFolder } from '../engine/checkpoint';
import { DataPlan } from '../engine/schedulePlan';
import { buildModel, headOf, trainablePredicate } from '../engine/setup';
import { initialState } from '../engine/trainBuild';
import type { TrainOptions } from '../engine/trainOptions';
import type { ResumePoint, RunData, RunOutput } from '../engine/trainSession';
import type { BertModel } from '../model/bert';

/** The plan for `world` processes: a global micro-batch is per_device_train_batch_size × world examples. */
export function worldPlan(d: RunData, world: number): DataPlan {
  const t = d.config.training;
  return new DataPlan({
    examples: d.trainSet.length,
    batchSize: t.per_device_train_batch_size * world,
    accumulation: t.gradient_accumulation_steps,
    epochs: t.num_train_epochs,
    maxSteps: t.max_steps,
    seed: t.seed,
    groupByLength: d.config.data.group_by_length,
    lengths: d.trainSet.map((e) => e.inputIds.length),
  });
}

/** Builds the model (announcing it with `model`), writes its weights and the tokenizer, and returns the job. */
export async function prepareJob(
  o: TrainOptions,
  d: RunData,
  out: RunOutput,
  resume: ResumePoint | undefined,
  t0: number,
): Promise<{ job: EngineJob; file: string }> {
  const c = d.config;
  const dir = path.join(out.rf.dir, ENGINE_DIR);
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
  const built = await buildModel(c, d.baseDir, d.tokenizer, d.labels, d.hub.model).finally(d.hub.dispose);
  const model = built.model;
  try {
    announce(d, out, model, built.newlyInitialized);
    const init = path.join(dir, 'init');
    await writeModelFolder(init, model, d.labels, d.tokenizer, built.sourceConfig);
    await d.tokenizer.save(path.join(dir, 'tokenizer'));
    const job = jobOf(o, d, out, resume, model, {
      weights: path.join(init, 'model.safetensors'),
      tokenizerDir: path.join(dir, 'tokenizer'),
      configJson: hfConfigJson(model, d.labels, built.sourceConfig),
      elapsedBeforeMs: Date.now() - t0,
    });
    const file = path.join(dir, 'job.json');
    await writeFileAtomic(file, JSON.stringify(job));
    return { job, file };
  } finally {
    model.dispose();
  }
}

function announce(d: RunData, out: RunOutput, model: BertModel, newlyInitialized: string[]): void {
  const c = d.config;
  const tree = buildModuleTree(bertParameters(model.config, headOf(c.task), model.numLabels), trainablePredicate(c));
  out.emit({ type: 'model', tree, total: tree.total, trainable: tree.trainable, newlyInitialized });
  if (c.mode === 'fine-tune' && newlyInitialized.length) {
    const names = newlyInitialized.join(', ');
    out.log('info', `Newly initialised (not in the pre-trained model): ${names}. Train them before using the model.`);
  }
}

interface Written {
  weights: string;
  tokenizerDir: string;
  configJson: Record<string, unknown>;
  elapsedBeforeMs: number;
}

function jobOf(
  o: TrainOptions,
  d: RunData,
  out: RunOutput,
  resume: ResumePoint | undefined,
  model: BertModel,
  w: Written,
): EngineJob {
  const c = d.config;
  const t = c.training;
  const lambda = lrLambda(
    t.lr_scheduler_type,
    d.plan.totalSteps,
    warmupSteps(d.plan.totalSteps, t.warmup_ratio, t.warmup_steps),
  );
  const tok = d.tokenizer;
  return {
    formatVersion: ENGINE_JOB_VERSION,
    engineVersion: o.engineVersion,
    runDir: out.rf.dir,
    task: c.task,
    model: {
      config: w.configJson,
      head: model.head === 'masked-lm' ? 'masked-lm' : 'sequence-classification',
      weights: w.weights,
    },
    configJson: w.configJson,
    tokenizerDir: w.tokenizerDir,
    padId: tok.padId,
    ...(c.task === 'masked-lm'
      ? {
          mlm: {
            probability: c.data.mlm_probability,
            maskId: tok.maskId,
            vocabSize: tok.vocabSize,
            specialIds: [...tok.specialIds],
          },
        }
      : {}),
    data: { train: examples(d.trainSet), validation: examples(d.valSet), test: examples(d.testSet) },
    plan: batchOrder(d.plan, t.gradient_accumulation_steps),
    params: paramTable(d, model),
    lrFactors: Array.from({ length: d.plan.totalSteps }, (_, k) => lambda(k)),
    training: { ...t },
    metricName: normaliseMetricName(t.metric_for_best_model ?? 'loss'),
    greaterIsBetter: greaterIsBetter(c),
    state: { ...startState(o, d, resume) },
    ...(resume ? { resume: { dir: resume.dir } } : {}),
    checkpoints: [...out.rf.info.checkpoints],
    elapsedBeforeMs: w.elapsedBeforeMs,
  };
}

function examples(set: RunData['trainSet']): EngineJob['data']['train'] {
  return set.map((e) => ({
    ids: [...e.inputIds],
    types: [...e.tokenTypeIds],
    ...(e.label !== undefined ? { label: e.label } : {}),
  }));
}

/** Every micro-batch of every epoch the run reaches, as DataPlan orders them. */
function batchOrder(plan: DataPlan, accumulation: number): EngineJob['plan'] {
  const epochs = Math.ceil(plan.totalSteps / plan.stepsPerEpoch);
  const batches: number[][][] = [];
  for (let e = 0; e < epochs; e++) {
    const epoch: number[][] = [];
    for (let s = e * plan.stepsPerEpoch; s < Math.min((e + 1) * plan.stepsPerEpoch, plan.totalSteps); s++)
      epoch.push(...plan.microBatches(s));
    batches.push(epoch);
  }
  return { totalSteps: plan.totalSteps, stepsPerEpoch: plan.stepsPerEpoch, accumulation, batches };
}

function paramTable(d: RunData, model: BertModel): EngineJob['params'] {
  const isTrainable = trainablePredicate(d.config);
  const group = groupOptions(d.config.training, model.config.num_hidden_layers);
  return model.parameterNames().map((name) => {
    const { lr, weightDecay } = paramSetting(name, group);
    return { name, trainable: isTrainable(name), lr, weightDecay };
  });
}

/** trainer_state.json as the run starts: fresh, or carried on from the checkpoint it resumes. */
function startState(o: TrainOptions, d: RunData, resume: ResumePoint | undefined): TrainerState {
  const state = initialState(o, d, 'pytorch');
  if (!resume) return state;
  const r = resume.state;
  return {
    ...state,
    global_step: r.global_step,
    log_history: r.log_history ?? [],
    patience_used: r.patience_used ?? 0,
    ...(r.best_metric !== undefined ? { best_metric: r.best_metric } : {}),
    ...(r.best_model_checkpoint !== undefined ? { best_model_checkpoint: r.best_model_checkpoint } : {}),
  };
}
