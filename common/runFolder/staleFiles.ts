/**
 * What a killed writer leaves in a run folder, and its cleaning. Every write is a temp name then a rename, so a
 * kill leaves one of: `.checkpoint-<step>.tmp-<pid>` (a save), `.checkpoint-<step>.deleting-<pid>` (a prune),
 * `checkpoint-<step>.old-<pid>` (a checkpoint moved aside while a save of the same step replaced it) or
 * `.<file>.tmp-<pid>-<random>` (an atomic file write). Each names its writer's pid; only those of processes that
 * are gone are cleaned, never a live writer's.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { pidAlive } from './runJson';
import { checkpointName, checkpointStep } from './checkpoints';

const STALE_NAME = /^(\.?)(.+?)\.(tmp|deleting|old)-(\d{1,10})(?:-[a-z0-9]{1,16})?$/;

export interface StaleEntry {
  name: string;
  pid: number;
  kind: 'tmp' | 'deleting' | 'old';
  /** The name the writer meant: `checkpoint-<step>` or a file name. */
  target: string;
}

/** A temp or aside name of the run folder's writers; undefined for anything else. */
export function staleEntry(name: string): StaleEntry | undefined {
  const m = STALE_NAME.exec(name);
  if (!m) return undefined;
  const kind = m[3] as StaleEntry['kind'];
  // Asides keep their visible name (`checkpoint-5.old-9`) and are only ever checkpoints; temp and deleting names
  // are hidden. Anything else (a user's `notes.old-2020`) is not ours to clean.
  if ((kind === 'old') !== (m[1] === '')) return undefined;
  if (kind === 'old' && checkpointStep(m[2]!) === undefined) return undefined;
  return { name, pid: Number(m[4]), kind, target: m[2]! };
}

export function tempCheckpointName(step: number, pid: number): string {
  return `.${checkpointName(step)}.tmp-${pid}`;
}

export function deletingCheckpointName(step: number, pid: number): string {
  return `.${checkpointName(step)}.deleting-${pid}`;
}

/**
 * Removes what dead writers left in `dir`; a checkpoint moved aside whose replacement never arrived is moved
 * back. Returns the names it cleaned. Entries of live processes (this one included) are left alone.
 */
export async function cleanStaleFiles(dir: string, isAlive: (pid: number) => boolean = pidAlive): Promise<string[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const present = new Set(names);
  const cleaned: string[] = [];
  for (const name of names) {
    const e = staleEntry(name);
    if (!e || e.pid === process.pid || isAlive(e.pid)) continue;
    const restore = e.kind === 'old' && !present.has(e.target);
    if (restore) {
      await fs.rename(path.join(dir, name), path.join(dir, e.target));
      present.add(e.target);
    } else {
      await fs.rm(path.join(dir, name), { recursive: true, force: true });
    }
    cleaned.push(name);
  }
  return cleaned;
}
