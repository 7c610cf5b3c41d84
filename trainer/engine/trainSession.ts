/**
 * What the stages of a run (plan, build, loop, finish) share: the planned data, the run folder's outputs, the
 * model and optimiser, and the loop's progress. Plain data, so that each stage is a function of it and a reader
 * finds every piece of a run's state in one place.
 */
import type { FineTuneConfig } from '../../common/config/schema';
import type { TrainerMessage } from '../../common/protocol';
import type { Encoded } from '../data/collate';
import type { LabelMap } from '../data/labels';
import type { Tokenizer } from '../hf/tokenizer';
import type { BertModel } from '../model/bert';
import type { GradientAccumulator } from '../optim/accumulate';
import type { AdamW } from '../optim/adamw';
import type { Replicas } from '../parallel/replicas';
import type { TrainerState, TrainerStateFile } from '../../common/runFolder/trainerState';
import type { EvalOptions, EvalResult } from './evaluate';
import type { RunFolder } from './runFolder';
import type { DataPlan } from './schedulePlan';
import type { BuiltModel } from './setup';
import type { TrainOptions } from './trainOptions';

/** The plan stage's result: the encoded data sets and how the run walks through them. */
export interface RunData {
  /** The config with defaults and CLI overrides (`--max-steps`) applied. */
  config: FineTuneConfig;
  baseDir: string;
  tokenizer: Tokenizer;
  labels?: LabelMap;
  trainSet: Encoded[];
  valSet: Encoded[];
  testSet: Encoded[];
  plan: DataPlan;
  /** Warnings of the config and the data files, logged once the run folder exists. */
  warnings: string[];
}

/** Where a run's messages go: the host (`emit`) and the run folder (metrics.jsonl, train.log). */
export interface RunOutput {
  rf: RunFolder;
  emit: (m: TrainerMessage) => void;
  log: (level: 'info' | 'warn', message: string) => void;
}

/** The checkpoint a run resumes from. */
export interface ResumePoint {
  dir: string;
  state: TrainerStateFile;
}

/** Throughput since the last `step` report. */
export interface StepWindow {
  loss: number;
  steps: number;
  samples: number;
  tokens: number;
  ms: number;
}

export const emptyWindow = (): StepWindow => ({ loss: 0, steps: 0, samples: 0, tokens: 0, ms: 0 });

/** What the loop changes as it goes. */
export interface Progress {
  step: number;
  /** The step this process started at (0, or the resumed checkpoint's). */
  readonly firstStep: number;
  readonly sessionStart: number;
  lastSaved: number;
  bestStep?: number;
  lastEval?: EvalResult;
  /** Checkpoint folders of this run that still exist, oldest first. */
  checkpoints: string[];
  win: StepWindow;
  lastReport: number;
  /** The workers hold a copy of the weights: stale after each optimizer step, synced before they next compute. */
  stale: boolean;
  /** Every weight is stale (after loading the best model), not only the trainable ones. */
  staleAll: boolean;
}

export interface Session {
  o: TrainOptions;
  /** When the run started (elapsedMs counts from here). */
  t0: number;
  data: RunData;
  out: RunOutput;
  model: BertModel;
  sourceConfig?: BuiltModel['sourceConfig'];
  isTrainable: (name: string) => boolean;
  trainableNames: string[];
  optimizer: AdamW;
  accum: GradientAccumulator;
  /** The learning-rate factor of a step. */
  lambda: (step: number) => number;
  /** `metric_for_best_model` without its `eval_` prefix. */
  metricName: string;
  greaterIsBetter: boolean;
  state: TrainerState;
  replicas: Replicas | null;
  evalOpts: Omit<EvalOptions, 'replicas'>;
  progress: Progress;
}

/** The worker replicas, synced with the model's current weights first; null when this thread works alone. */
export async function freshReplicas(s: Session): Promise<Replicas | null> {
  const p = s.progress;
  if (s.replicas && p.stale) await s.replicas.sync(s.model, p.staleAll ? s.model.parameterNames() : s.trainableNames);
  p.stale = p.staleAll = false;
  return s.replicas;
}
