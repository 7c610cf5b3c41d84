/**
 * `trainer_state.json` of a checkpoint, named and shaped as Hugging Face's Trainer writes it (global_step,
 * best_metric, best_model_checkpoint, log_history), plus what resume needs. One reader for the trainer (resume)
 * and the extension (the checkpoints panel, best-checkpoint labels).
 */
import * as path from 'node:path';
import { FineTuneError } from '../errors';
import { arr, bool, int, num, obj, opt, record, str, unknownValue } from '../guard';
import type { Infer } from '../guard';
import { readTextBounded, TRAINER_STATE_JSON } from './layout';

export const CHECKPOINT_FORMAT_VERSION = 1;

/** log_history grows with the run (one entry per report and evaluation), hence a generous bound. */
const MAX_TRAINER_STATE_BYTES = 256 * 1024 * 1024;

/**
 * What a reader may find: only `formatVersion` and `global_step` are required, as they always were; the other
 * fields are checked when present.
 */
export const trainerStateGuard = obj({
  formatVersion: int,
  global_step: int,
  generatedBy: opt(str),
  epoch: opt(num),
  total_steps: opt(int),
  steps_per_epoch: opt(int),
  seed: opt(int),
  /** Resume needs nothing else for the data order: batches and dropout masks are functions of (seed, step). */
  data_position: opt(obj({ epoch: int, step_in_epoch: int })),
  metric_for_best_model: opt(str),
  greater_is_better: opt(bool),
  best_metric: opt(num),
  best_model_checkpoint: opt(str),
  patience_used: opt(int),
  log_history: opt(arr(record(unknownValue))),
  labels: opt(arr(str)),
  task: opt(str),
  mode: opt(str),
});
export type TrainerStateFile = Infer<typeof trainerStateGuard>;

/** What the trainer writes: every field. */
export interface TrainerState extends TrainerStateFile {
  generatedBy: string;
  epoch: number;
  total_steps: number;
  steps_per_epoch: number;
  seed: number;
  data_position: { epoch: number; step_in_epoch: number };
  metric_for_best_model: string;
  greater_is_better: boolean;
  patience_used: number;
  log_history: Record<string, unknown>[];
  task: string;
  mode: string;
}

const RESUME_FIX = 'Point resume_from_checkpoint at a checkpoint-<step> folder of an earlier run.';

export function parseTrainerState(text: string, file: string): TrainerStateFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    throw new FineTuneError('checkpoint-invalid', `${file} is not JSON`, { file, detail, fix: RESUME_FIX });
  }
  const problem = trainerStateGuard.check(raw);
  if (problem) {
    const fix = 'Use a checkpoint written by Fine-Tune Studio.';
    throw new FineTuneError('checkpoint-invalid', `${file} is not a trainer state: ${problem}`, { file, fix });
  }
  const s = raw as TrainerStateFile;
  if (s.formatVersion > CHECKPOINT_FORMAT_VERSION) {
    const message = `${file} has format ${s.formatVersion}; this version reads up to ${CHECKPOINT_FORMAT_VERSION}`;
    throw new FineTuneError('checkpoint-too-new', message, { file, fix: 'Update Fine-Tune Studio.' });
  }
  return s;
}

/** trainer_state.json of a checkpoint folder; a clear error when the folder is not a checkpoint. */
export async function readTrainerStateFile(dir: string): Promise<TrainerStateFile> {
  const file = path.join(dir, TRAINER_STATE_JSON);
  let text: string;
  try {
    text = await readTextBounded(file, MAX_TRAINER_STATE_BYTES);
  } catch (e) {
    if (e instanceof FineTuneError) throw e;
    throw new FineTuneError('checkpoint-invalid', `${dir} is not a checkpoint: cannot read ${TRAINER_STATE_JSON}`, {
      file,
      detail: e instanceof Error ? e.message : String(e),
      fix: RESUME_FIX,
    });
  }
  return parseTrainerState(text, file);
}

/** The numeric entries of log_history at `step` (eval metrics keep their `eval_` prefix), as HF logs them. */
export function loggedAt(state: TrainerStateFile, step: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const h of state.log_history ?? []) {
    if (h['step'] !== step) continue;
    for (const [k, x] of Object.entries(h)) {
      if (typeof x === 'number' && Number.isFinite(x) && k !== 'step' && k !== 'epoch') out.set(k, x);
    }
  }
  return out;
}
