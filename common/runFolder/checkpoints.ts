/**
 * Checkpoint folders of a run folder: `checkpoint-<step>` (complete: written elsewhere and renamed), their listing,
 * and the retention rule of `save_total_limit`. The trainer prunes by this rule and the checkpoints panel shows
 * which folder it deletes next by the same rule.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

const CHECKPOINT_NAME = /^checkpoint-(\d{1,15})$/;

export function checkpointName(step: number): string {
  return `checkpoint-${step}`;
}

/** The step of a `checkpoint-<step>` folder name; undefined for any other name (temp folders included). */
export function checkpointStep(name: string): number | undefined {
  const m = CHECKPOINT_NAME.exec(name);
  return m ? Number(m[1]) : undefined;
}

export interface CheckpointEntry {
  step: number;
  /** Absolute path of the folder. */
  dir: string;
}

/** Complete checkpoints of a run folder, oldest first; temp folders of interrupted saves are not listed. */
export async function listCheckpointDirs(runDir: string): Promise<CheckpointEntry[]> {
  const entries = await fs.readdir(runDir, { withFileTypes: true }).catch(() => []);
  const out: CheckpointEntry[] = [];
  for (const e of entries) {
    const step = checkpointStep(e.name);
    if (step !== undefined && e.isDirectory()) out.push({ step, dir: path.join(runDir, e.name) });
  }
  return out.sort((a, b) => a.step - b.step);
}

/**
 * save_total_limit (HF Trainer's rotation): after a save, the oldest checkpoints go until `limit` remain, but
 * never a kept one (the best, the one just saved). `all` is oldest first; returns the ones to delete. No limit,
 * or one below 1, keeps everything.
 */
export function checkpointsToDelete<T>(
  all: readonly T[],
  limit: number | null | undefined,
  isKept: (c: T) => boolean,
): T[] {
  if (!limit || limit < 1) return [];
  let excess = all.length - limit;
  const out: T[] = [];
  for (const c of all) {
    if (excess <= 0) break;
    if (isKept(c)) continue;
    out.push(c);
    excess--;
  }
  return out;
}

/** Whether two paths name the same folder (a recorded path may be relative to the run folder). */
export function sameFolder(runDir: string, a: string, b: string): boolean {
  return path.resolve(runDir, a) === path.resolve(runDir, b);
}

/**
 * A checkpoint path the trainer recorded (absolute, on the machine and in the folder that wrote it) as a path in
 * this copy of the run folder: a workspace that was moved or synced keeps its best and last checkpoints.
 */
export function checkpointInRun(runDir: string, recorded: string): string {
  const name = path.basename(recorded);
  const owner = path.basename(path.dirname(recorded));
  return checkpointStep(name) !== undefined && owner === path.basename(runDir) ? path.join(runDir, name) : recorded;
}
