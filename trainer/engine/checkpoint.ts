/**
 * Checkpoints: a Hugging Face model folder (config.json, model.safetensors in PyTorch layout, tokenizer files)
 * plus trainer_state.json and optimizer.safetensors. Everything is written into `.checkpoint-<step>.tmp-<pid>`
 * and the folder is renamed only when complete, so a kill during a save leaves the previous checkpoints intact
 * and never a folder that looks like a checkpoint but is half written.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { renameDirAtomic, writeFileAtomic } from '../../common/atomicWrite';
import { FineTuneError } from '../../common/errors';
import type { LabelMap } from '../data/labels';
import { readSafetensors, writeSafetensors } from '../../files/hf/safetensors';
import type { Tensor } from '../../files/hf/safetensors';
import type { Tokenizer } from '../hf/tokenizer';
import type { BertModel } from '../model/bert';
import type { AdamW, AdamWSnapshot } from '../optim/adamw';
import { toStateDict } from './setup';

export const CHECKPOINT_FORMAT_VERSION = 1;

export interface TrainerState {
  formatVersion: number;
  generatedBy: string;
  global_step: number;
  epoch: number;
  total_steps: number;
  steps_per_epoch: number;
  seed: number;
  /** Resume needs nothing else for the data order: batches and dropout masks are functions of (seed, step). */
  data_position: { epoch: number; step_in_epoch: number };
  metric_for_best_model: string;
  greater_is_better: boolean;
  best_metric?: number;
  best_model_checkpoint?: string;
  patience_used: number;
  log_history: Record<string, unknown>[];
  labels?: string[];
  task: string;
  mode: string;
}

/** config.json as `save_pretrained` writes it for BertForSequenceClassification / BertForMaskedLM. */
export function hfConfigJson(model: BertModel, labels: LabelMap | undefined, base: Record<string, unknown> = {}, generatedBy = 'finetune-studio'): Record<string, unknown> {
  const c = model.config;
  const { id2label: _a, label2id: _b, num_labels: _c, architectures: _d, ...rest } = base;
  const out: Record<string, unknown> = {
    ...rest,
    architectures: [model.head === 'masked-lm' ? 'BertForMaskedLM' : 'BertForSequenceClassification'],
    model_type: 'bert',
    vocab_size: c.vocab_size,
    hidden_size: c.hidden_size,
    num_hidden_layers: c.num_hidden_layers,
    num_attention_heads: c.num_attention_heads,
    intermediate_size: c.intermediate_size,
    hidden_act: 'gelu',
    hidden_dropout_prob: c.hidden_dropout_prob,
    attention_probs_dropout_prob: c.attention_probs_dropout_prob,
    max_position_embeddings: c.max_position_embeddings,
    type_vocab_size: c.type_vocab_size,
    initializer_range: c.initializer_range,
    layer_norm_eps: c.layer_norm_eps,
    pad_token_id: c.pad_token_id,
    position_embedding_type: 'absolute',
    classifier_dropout: c.classifier_dropout ?? null,
    torch_dtype: 'float32',
    generated_by: generatedBy,
  };
  if (model.head === 'sequence-classification') {
    const names = labels?.labels ?? Array.from({ length: model.numLabels }, (_, i) => `LABEL_${i}`);
    out.id2label = Object.fromEntries(names.map((l, i) => [String(i), l]));
    out.label2id = Object.fromEntries(names.map((l, i) => [l, i]));
    out.problem_type = 'single_label_classification';
  }
  return out;
}

export interface CheckpointParts {
  runDir: string;
  step: number;
  model: BertModel;
  labels?: LabelMap;
  tokenizer: Tokenizer;
  optimizer: AdamW;
  state: TrainerState;
  sourceConfig?: Record<string, unknown>;
}

export interface SaveHooks {
  /** Called with the temp folder once everything is written, before the rename (tests kill the process here). */
  beforeRename?: (tmpDir: string) => Promise<void> | void;
}

export function checkpointName(step: number): string {
  return `checkpoint-${step}`;
}

export async function writeModelFolder(dir: string, model: BertModel, labels: LabelMap | undefined, tokenizer: Tokenizer, sourceConfig?: Record<string, unknown>): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, 'config.json'), JSON.stringify(hfConfigJson(model, labels, sourceConfig), null, 2) + '\n');
  const sd = await model.toStateDict();
  const tensors = new Map<string, Tensor>();
  for (const [k, e] of sd) tensors.set(k, { shape: e.shape, data: e.data });
  await writeSafetensors(path.join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  await tokenizer.save(dir);
}

function optimizerTensors(snap: AdamWSnapshot): Map<string, Tensor> {
  const t = new Map<string, Tensor>();
  for (const [name, e] of snap.entries) {
    t.set(`${name}.exp_avg`, { shape: e.shape, data: e.expAvg });
    t.set(`${name}.exp_avg_sq`, { shape: e.shape, data: e.expAvgSq });
  }
  return t;
}

export async function saveCheckpoint(p: CheckpointParts, hooks: SaveHooks = {}): Promise<string> {
  const finalDir = path.join(p.runDir, checkpointName(p.step));
  const tmp = path.join(p.runDir, `.${checkpointName(p.step)}.tmp-${process.pid}`);
  await fs.rm(tmp, { recursive: true, force: true });
  try {
    await writeModelFolder(tmp, p.model, p.labels, p.tokenizer, p.sourceConfig);
    const snap = await p.optimizer.snapshot();
    await writeSafetensors(path.join(tmp, 'optimizer.safetensors'), optimizerTensors(snap), { step: String(snap.step), format: 'finetune-studio-adamw' });
    await writeFileAtomic(path.join(tmp, 'trainer_state.json'), JSON.stringify(p.state, null, 2) + '\n');
    await hooks.beforeRename?.(tmp);
    await renameDirAtomic(tmp, finalDir);
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
  return finalDir;
}

export async function readTrainerState(dir: string): Promise<TrainerState> {
  const file = path.join(dir, 'trainer_state.json');
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (e) {
    throw new FineTuneError('checkpoint-invalid', `${dir} is not a checkpoint: cannot read trainer_state.json`, {
      file,
      detail: e instanceof Error ? e.message : String(e),
      fix: 'Point resume_from_checkpoint at a checkpoint-<step> folder of an earlier run.',
    });
  }
  const s = raw as Partial<TrainerState>;
  if (typeof s.global_step !== 'number' || typeof s.formatVersion !== 'number') {
    throw new FineTuneError('checkpoint-invalid', `${file} has no global_step/formatVersion`, { file, fix: 'Use a checkpoint written by Fine-Tune Studio.' });
  }
  if (s.formatVersion > CHECKPOINT_FORMAT_VERSION) {
    throw new FineTuneError('checkpoint-too-new', `${file} has format ${s.formatVersion}; this version reads up to ${CHECKPOINT_FORMAT_VERSION}`, { file, fix: 'Update Fine-Tune Studio.' });
  }
  return s as TrainerState;
}

export async function readOptimizerSnapshot(dir: string): Promise<AdamWSnapshot> {
  const f = await readSafetensors(path.join(dir, 'optimizer.safetensors'));
  const step = Number(f.metadata.step);
  if (!Number.isInteger(step)) throw new FineTuneError('checkpoint-invalid', `${dir}/optimizer.safetensors has no step`, { file: path.join(dir, 'optimizer.safetensors') });
  const entries: AdamWSnapshot['entries'] = new Map();
  for (const [k, t] of f.tensors) {
    const m = /^(.*)\.(exp_avg|exp_avg_sq)$/.exec(k);
    if (!m || !(t.data instanceof Float32Array)) continue;
    const e = entries.get(m[1]!) ?? { shape: [...t.shape], expAvg: new Float32Array(0), expAvgSq: new Float32Array(0) };
    if (m[2] === 'exp_avg') e.expAvg = t.data;
    else e.expAvgSq = t.data;
    entries.set(m[1]!, e);
  }
  return { step, entries };
}

/** Loads model.safetensors of a checkpoint into a model of the same shape. */
export async function loadModelWeights(model: BertModel, dir: string): Promise<void> {
  const f = await readSafetensors(path.join(dir, 'model.safetensors'));
  model.loadStateDict(toStateDict(f.tensors));
}

/** Complete checkpoints of a run folder, oldest first; temp folders of interrupted saves are not listed. */
export async function listCheckpoints(runDir: string): Promise<{ step: number; dir: string }[]> {
  const names = await fs.readdir(runDir).catch(() => [] as string[]);
  return names
    .map((n) => ({ n, m: /^checkpoint-(\d+)$/.exec(n) }))
    .filter((x) => x.m)
    .map((x) => ({ step: Number(x.m![1]), dir: path.join(runDir, x.n) }))
    .sort((a, b) => a.step - b.step);
}

/** Deletes the oldest checkpoints beyond `limit`, never one in `keep` (the best); returns the deleted paths. */
export async function pruneCheckpoints(runDir: string, limit: number | undefined | null, keep: readonly (string | undefined)[]): Promise<string[]> {
  if (!limit || limit < 1) return [];
  const all = await listCheckpoints(runDir);
  const protectedDirs = new Set(keep.filter((k): k is string => !!k).map((k) => path.resolve(k)));
  // The newest is the one just saved: deleting it would make the save pointless.
  const newest = all[all.length - 1];
  if (newest) protectedDirs.add(path.resolve(newest.dir));
  let excess = all.length - limit;
  const deleted: string[] = [];
  for (const c of all) {
    if (excess <= 0) break;
    if (protectedDirs.has(path.resolve(c.dir))) continue;
    await fs.rm(c.dir, { recursive: true, force: true });
    deleted.push(c.dir);
    excess--;
  }
  return deleted;
}
