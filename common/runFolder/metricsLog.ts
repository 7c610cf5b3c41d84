/**
 * `metrics.jsonl`: every step, eval, checkpoint and done message of a run, one protocol message a line, as sent.
 * Readers take the lines that parse (a killed writer may leave a torn last line). A resumed run continues the
 * same file from its checkpoint's step: what was logged after that step is dropped first, as TensorBoard's
 * `purge_step` drops the events of a restarted run, so that the curves never double back.
 */
import * as path from 'node:path';
import { writeFileAtomic } from '../atomicWrite';
import { parseTrainerMessage } from '../protocol';
import type { TrainerMessage } from '../protocol';
import { METRICS_JSONL, readTextBounded } from './layout';

/** The message kinds the file records. */
export const METRIC_TYPES: ReadonlySet<TrainerMessage['type']> = new Set(['step', 'eval', 'checkpoint', 'done']);

const MAX_METRICS_BYTES = 256 * 1024 * 1024;

/** Parses metrics.jsonl, keeping the valid protocol messages; `invalid` counts the lines that are not one. */
export function parseMetricsLines(text: string): { messages: TrainerMessage[]; invalid: number } {
  const messages: TrainerMessage[] = [];
  let invalid = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const r = parseTrainerMessage(line);
    if (r.ok) messages.push(r.message);
    else invalid++;
  }
  return { messages, invalid };
}

/** The messages of a run folder's metrics.jsonl; none when it has none yet. */
export async function readMetricsLog(runDir: string): Promise<TrainerMessage[]> {
  const file = path.join(runDir, METRICS_JSONL);
  const text = await readTextBounded(file, MAX_METRICS_BYTES).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return '';
    throw e;
  });
  return parseMetricsLines(text).messages;
}

/** Whether a recorded message belongs to the run up to `step`: the `done` of an earlier session never does. */
export function loggedUpTo(m: TrainerMessage, step: number): boolean {
  if (m.type === 'done') return false;
  return !('step' in m) || m.step <= step;
}

/**
 * Before a resume from `step`: rewrites metrics.jsonl (atomically) without what was logged after that step, the
 * earlier session's `done` and any torn line. Returns how many lines were dropped.
 */
export async function truncateMetricsLog(runDir: string, step: number): Promise<number> {
  const file = path.join(runDir, METRICS_JSONL);
  const text = await readTextBounded(file, MAX_METRICS_BYTES).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (text === undefined) return 0;
  const kept: string[] = [];
  let dropped = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const r = parseTrainerMessage(line);
    if (r.ok && loggedUpTo(r.message, step)) kept.push(line);
    else dropped++;
  }
  if (dropped) await writeFileAtomic(file, kept.map((l) => l + '\n').join(''));
  return dropped;
}
