/**
 * The config of one demo run, made from an ordinary example config (examples/{scratch,finetune,finetune-frozen}
 * .finetune.yaml): relative paths made absolute, then the `--model` (scratch: its shape and tokenizer; fine-tune:
 * its weights), then the `--task` (data, columns, the task's training settings), then this run's seed, output
 * folder, budget and, for a point of the curve, its training subset.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { frozenPatterns, scratchArchitecture, type DemoModel } from './demoModel';
import type { SplitName } from './splitData';
import type { DemoTask } from './tasks';

export type Yaml = Record<string, unknown>;
export const section = (o: Yaml, key: string): Yaml => (o[key] ??= {}) as Yaml;

/**
 * Learning rates for any model but the shipped one, whose configs carry rates tuned for it: BERT's fine-tuning
 * range (2e-5 to 5e-5, Devlin et al.; HF run_glue's 2e-5), a higher one when only the top layer and the head
 * learn, and a pre-training-sized one for random weights (post-LN BERT diverges at the shipped scratch 5e-4).
 */
export const OTHER_MODEL_LEARNING_RATES: Readonly<Record<string, number>> = {
  scratch: 1e-4,
  finetune: 2e-5,
  'finetune-frozen': 1e-4,
};

export interface RunConfigOptions {
  seed: number;
  outputDir: string;
  runName: string;
  quickSteps?: number;
  maxSteps?: number;
  dataFiles?: Partial<Record<SplitName, string>>;
  /** The arm (scratch, finetune, finetune-frozen); with `model`, decides which model keys are written. */
  variant?: string;
  model?: DemoModel;
  /** False: the model is not the shipped one, so the configs' tuned learning rates give way to others. */
  shippedModel?: boolean;
  task?: DemoTask;
  backend?: string;
  learningRates?: ReadonlyMap<string, number>;
  /** Training keys of this run (TrainingArguments names), over the example's and the task's. */
  training?: Yaml;
}

/** The run's config as a YAML object; see the module comment for the order of the stages. */
export function seedConfig(text: string, configDir: string, o: RunConfigOptions): Yaml {
  const c = (parse(text) ?? {}) as Yaml;
  absolutePaths(c, configDir);
  if (o.model && o.variant) applyModel(c, o.variant, o.model);
  if (o.task) applyTask(c, o.task, o.model);
  applyRun(c, o);
  return c;
}

function absolutePaths(c: Yaml, configDir: string): void {
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
}

/** Scratch: the model's shape and tokenizer, random weights. Fine-tune: its weights. Frozen: all but the top layer. */
export function applyModel(c: Yaml, variant: string, m: DemoModel): void {
  const model = section(c, 'model');
  if (variant === 'scratch') {
    delete model.name_or_path;
    model.tokenizer = m.nameOrPath;
    model.architecture = scratchArchitecture(m.config, (model.architecture ?? {}) as Yaml);
    return;
  }
  delete model.architecture;
  delete model.tokenizer;
  model.name_or_path = m.nameOrPath;
  if (variant === 'finetune-frozen') c.freeze = frozenPatterns(m.config);
}

/** The task's data (files or a Hub data set by name), columns, sequence length and training settings. */
export function applyTask(c: Yaml, task: DemoTask, m?: DemoModel): void {
  const data = section(c, 'data');
  for (const key of ['train_file', 'validation_file', 'test_file', 'text_pair_column']) delete data[key];
  if (task.data.kind === 'files') {
    // The repository root is two folders above this one; the task's folder is relative to it.
    const folder = path.resolve(import.meta.dirname, '..', '..', task.data.folder);
    for (const split of ['train', 'validation', 'test']) data[`${split}_file`] = path.join(folder, `${split}.csv`);
  } else {
    const { kind: _kind, ...byName } = task.data;
    Object.assign(data, byName);
  }
  Object.assign(data, task.columns);
  const positions = m?.config.max_position_embeddings ?? Infinity;
  data.max_length = Math.min(task.max_length, positions);
  const training = section(c, 'training');
  for (const [key, value] of Object.entries(task.training)) {
    if (value === null) delete training[key];
    else training[key] = value;
  }
}

/** The keys that name a Hub data set; a config reads files or a data set, never both. */
const HUB_DATA_KEYS = [
  'dataset_name',
  'dataset_config_name',
  'revision',
  'train_split_name',
  'validation_split_name',
  'test_split_name',
];

function applyRun(c: Yaml, o: RunConfigOptions): void {
  const data = section(c, 'data');
  // A curve run of a Hub task trains on a subset file: its data are the demo's files, not the data set by name.
  if (o.dataFiles?.train !== undefined) for (const key of HUB_DATA_KEYS) delete data[key];
  for (const [name, file] of Object.entries(o.dataFiles ?? {})) data[`${name}_file`] = file;
  c.output_dir = o.outputDir;
  c.run_name = o.runName;
  if (o.backend !== undefined) c.backend = o.backend;
  const training = section(c, 'training');
  training.seed = o.seed;
  const rate =
    (o.variant && o.learningRates?.get(o.variant)) ??
    (o.shippedModel === false && o.variant ? OTHER_MODEL_LEARNING_RATES[o.variant] : undefined);
  if (rate !== undefined) training.learning_rate = rate;
  if (o.maxSteps !== undefined) training.max_steps = o.maxSteps;
  Object.assign(training, o.training);
  if (o.quickSteps !== undefined) {
    training.max_steps = o.quickSteps;
    const every = Math.max(1, Math.floor(o.quickSteps / 4));
    training.eval_strategy = 'steps';
    training.save_strategy = 'steps';
    training.eval_steps = every;
    training.save_steps = every;
    training.logging_steps = Math.max(1, Math.floor(every / 2));
  }
}
