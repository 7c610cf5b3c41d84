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
import { checkpointName, checkpointsToDelete, listCheckpointDirs } from '../../common/runFolder/checkpoints';
import type { CheckpointEntry } from '../../common/runFolder/checkpoints';
import { deletingCheckpointName, tempCheckpointName } from '../../common/runFolder/staleFiles';
import { readTrainerStateFile } from '../../common/runFolder/trainerState';
import type { TrainerState, TrainerStateFile } from '../../common/runFolder/trainerState';
import { toStateDict } from './setup';
import { architectureJson, passThroughKeys } from '../../files/hf/familyConfig';
import { transpose2d } from '../model/stateDict';
import type { ParamSpec } from '../../common/modelConfig';
import { MODEL_CARD_FILE } from '../../common/runFolder/modelCard';

export type { TrainerState } from '../../common/runFolder/trainerState';

/** config.json as `save_pretrained` writes it for the model's family and head (BertForSequenceClassification, ...). */
export function hfConfigJson(
  model: BertModel,
  labels: LabelMap | undefined,
  base: Record<string, unknown> = {},
  generatedBy = 'finetune-studio',
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ...passThroughKeys(base, model.config),
    ...architectureJson(model.config, model.head),
    torch_dtype: 'float32',
    generated_by: generatedBy,
  };
  if (model.head === 'sequence-classification') {
    const names = labels?.labels ?? Array.from({ length: model.numLabels }, (_, i) => `LABEL_${i}`);
    out.id2label = Object.fromEntries(names.map((l, i) => [String(i), l]));
    out.label2id = Object.fromEntries(names.map((l, i) => [l, i]));
    // HF derives num_labels from id2label when it loads; written too, for readers that look for it.
    out.num_labels = names.length;
    out.problem_type = model.config.problem_type ?? 'single_label_classification';
    if (out.problem_type === 'multi_label_classification') out.threshold = labels?.threshold ?? 0.5;
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
  /** The model card (README.md), written with the rest so that a checkpoint never lacks it. */
  card?: string;
}

export interface SaveHooks {
  /** Called with the temp folder once everything is written, before the rename (tests kill the process here). */
  beforeRename?: (tmpDir: string) => Promise<void> | void;
  /** Called with a pruned checkpoint's hidden name, after the rename and before the delete (the fault test). */
  beforeDelete?: (doomedDir: string) => Promise<void> | void;
}

export async function writeModelFolder(
  dir: string,
  model: BertModel,
  labels: LabelMap | undefined,
  tokenizer: Tokenizer,
  sourceConfig?: Record<string, unknown>,
): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await writeFileAtomic(
    path.join(dir, 'config.json'),
    JSON.stringify(hfConfigJson(model, labels, sourceConfig), null, 2) + '\n',
  );
  const sd = await model.toStateDict();
  const tensors = new Map<string, Tensor>();
  for (const [k, e] of sd) tensors.set(k, { shape: e.shape, data: e.data });
  await writeSafetensors(path.join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  await tokenizer.save(dir);
}

/**
 * optimizer.safetensors holds each moment in the layout of its parameter in model.safetensors (PyTorch's: Linear
 * weights [out, in]), said by `layout: pt` in its metadata, so that either engine resumes the other's checkpoint
 * (python/finetune_worker/checkpoint.py). Files without it (before this layout) hold the in-memory [in, out].
 */
const MOMENT_LAYOUT = 'pt';

function optimizerTensors(snap: AdamWSnapshot, specs: ReadonlyMap<string, ParamSpec>): Map<string, Tensor> {
  const t = new Map<string, Tensor>();
  for (const [name, e] of snap.entries) {
    const shape = specs.get(name);
    const onDisk = (data: Float32Array) => toDiskLayout(data, shape);
    t.set(`${name}.exp_avg`, onDisk(e.expAvg));
    t.set(`${name}.exp_avg_sq`, onDisk(e.expAvgSq));
  }
  return t;
}

function toDiskLayout(data: Float32Array, spec: ParamSpec | undefined): Tensor {
  if (spec?.kind !== 'linear-weight') return { shape: spec ? [...spec.shape] : [data.length], data };
  const [i, o] = spec.shape as [number, number];
  return { shape: [o, i], data: transpose2d(data, i, o) };
}

/** A moment read back into the in-memory layout. */
function fromDiskLayout(data: Float32Array, spec: ParamSpec | undefined, layout: string | undefined): Float32Array {
  if (layout !== MOMENT_LAYOUT || spec?.kind !== 'linear-weight') return data;
  const [i, o] = spec.shape as [number, number];
  return transpose2d(data, o, i);
}

/** Set by the kill test (test/trainer/faultKill.test.ts) only: the fault point below to stop at. */
export const FAULT_POINT_ENV = 'FINETUNE_FAULT_POINT';
export type FaultPoint = 'save-partial' | 'save-complete' | 'prune';

/**
 * A window where a kill must leave no damage: mid-save, a complete save before its rename, mid-prune. The one
 * named by FINETUNE_FAULT_POINT announces itself on stderr and waits there, so that the kill test's SIGKILL lands
 * inside it; without the variable (always, outside that test) this does nothing.
 */
async function faultPoint(where: FaultPoint): Promise<void> {
  if (process.env[FAULT_POINT_ENV] !== where) return;
  process.stderr.write(`fault-point: ${where}\n`);
  await new Promise((r) => setTimeout(r, 10_000));
}

export async function saveCheckpoint(p: CheckpointParts, hooks: SaveHooks = {}): Promise<string> {
  const finalDir = path.join(p.runDir, checkpointName(p.step));
  const tmp = path.join(p.runDir, tempCheckpointName(p.step, process.pid));
  await fs.rm(tmp, { recursive: true, force: true });
  try {
    await writeModelFolder(tmp, p.model, p.labels, p.tokenizer, p.sourceConfig);
    await faultPoint('save-partial');
    const snap = await p.optimizer.snapshot();
    await writeSafetensors(path.join(tmp, 'optimizer.safetensors'), optimizerTensors(snap, p.model.specs), {
      step: String(snap.step),
      format: 'finetune-studio-adamw',
      layout: MOMENT_LAYOUT,
    });
    await writeFileAtomic(path.join(tmp, 'trainer_state.json'), JSON.stringify(p.state, null, 2) + '\n');
    if (p.card !== undefined) await writeFileAtomic(path.join(tmp, MODEL_CARD_FILE), p.card);
    await hooks.beforeRename?.(tmp);
    await faultPoint('save-complete');
    await renameDirAtomic(tmp, finalDir);
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
  return finalDir;
}

/** trainer_state.json of a checkpoint to resume from (fields beyond the step are optional in older ones). */
export async function readTrainerState(dir: string): Promise<TrainerStateFile> {
  return readTrainerStateFile(dir);
}

export async function readOptimizerSnapshot(
  dir: string,
  specs: ReadonlyMap<string, ParamSpec>,
): Promise<AdamWSnapshot> {
  const f = await readSafetensors(path.join(dir, 'optimizer.safetensors'));
  const step = Number(f.metadata.step);
  if (!Number.isInteger(step))
    throw new FineTuneError('checkpoint-invalid', `${dir}/optimizer.safetensors has no step`, {
      file: path.join(dir, 'optimizer.safetensors'),
    });
  const entries: AdamWSnapshot['entries'] = new Map();
  for (const [k, t] of f.tensors) {
    const m = /^(.*)\.(exp_avg|exp_avg_sq)$/.exec(k);
    if (!m || !(t.data instanceof Float32Array)) continue;
    const spec = specs.get(m[1]!);
    const data = fromDiskLayout(t.data, spec, f.metadata.layout);
    const shape = spec ? [...spec.shape] : [...t.shape];
    const e = entries.get(m[1]!) ?? { shape, expAvg: new Float32Array(0), expAvgSq: new Float32Array(0) };
    if (m[2] === 'exp_avg') e.expAvg = data;
    else e.expAvgSq = data;
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
export async function listCheckpoints(runDir: string): Promise<CheckpointEntry[]> {
  return listCheckpointDirs(runDir);
}

/**
 * Applies save_total_limit after a save (the rule is checkpointsToDelete), never deleting one in `keep` (the best,
 * the one just saved) or the newest; returns the deleted paths. Each goes by a rename to a hidden name first, so
 * a kill mid-delete leaves no half-deleted folder that looks like a checkpoint.
 */
export async function pruneCheckpoints(
  runDir: string,
  limit: number | undefined | null,
  keep: readonly (string | undefined)[],
  hooks: SaveHooks = {},
): Promise<string[]> {
  if (!limit || limit < 1) return [];
  const all = await listCheckpointDirs(runDir);
  const kept = new Set(keep.filter((k): k is string => !!k).map((k) => path.resolve(k)));
  // The newest is the one just saved: deleting it would make the save pointless.
  const newest = all[all.length - 1];
  if (newest) kept.add(path.resolve(newest.dir));
  const deleted: string[] = [];
  for (const c of checkpointsToDelete(all, limit, (x) => kept.has(path.resolve(x.dir)))) {
    const doomed = path.join(runDir, deletingCheckpointName(c.step, process.pid));
    // Where the folder cannot be renamed (a file held open on Windows), it is deleted in place, as before.
    const moved = await fs.rename(c.dir, doomed).then(
      () => true,
      () => false,
    );
    if (moved) {
      await hooks.beforeDelete?.(doomed);
      await faultPoint('prune');
    }
    await fs.rm(moved ? doomed : c.dir, { recursive: true, force: true });
    deleted.push(c.dir);
  }
  return deleted;
}
