/**
 * `run.json`, the record of one run: written by the trainer (rewritten atomically at each change), read by the
 * extension, its panels and scripts. One type with its guard, one status list, and the rule that makes a run
 * whose trainer died while it said `running` read as `interrupted`.
 */
import * as path from 'node:path';
import { FineTuneError } from '../errors';
import { arr, int, num, obj, oneOf, opt, str } from '../guard';
import type { Guard, Infer } from '../guard';
import { backendInfo } from '../protocol';
import { RUN_FILE_STATUSES } from './status';
import type { RunFolderStatus } from './status';
import { readTextBounded, RUN_JSON } from './layout';

/** Version 1 is what every trainer so far has written; readers refuse a newer one with an "update" fix. */
export const RUN_FORMAT_VERSION = 1;

const MAX_RUN_JSON_BYTES = 4 * 1024 * 1024;

/** A step count or a pid: a safe integer, not negative. */
const count: Guard<number> = {
  describe: 'count',
  check: (v, p = '') =>
    typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? undefined : `${p ? `${p}: ` : ''}expected a count`,
};

/**
 * The trainer writes every field it knows; only those a reader cannot do without are required, so that a run.json
 * written by hand or by an older trainer still opens.
 */
export const runInfoGuard = obj({
  formatVersion: int,
  runId: str,
  /** `run_name`, or the config file's name without `.finetune.yaml`. */
  name: opt(str),
  status: oneOf(RUN_FILE_STATUSES),
  mode: opt(oneOf(['fine-tune', 'from-scratch'] as const)),
  task: opt(oneOf(['text-classification', 'masked-lm'] as const)),
  /** Absolute path of the config the run was started (or last resumed) from. */
  configFile: opt(str),
  startedAt: opt(str),
  endedAt: opt(str),
  /** The trainer process that writes this folder now (the latest one, after a resume). */
  pid: count,
  backend: opt(backendInfo),
  step: count,
  totalSteps: opt(count),
  metricForBestModel: opt(str),
  bestMetric: opt(num),
  bestCheckpoint: opt(str),
  lastCheckpoint: opt(str),
  /** The run's checkpoint folders (absolute) that exist, oldest first. */
  checkpoints: arr(str),
  /** The checkpoint the latest session resumed from. */
  resumedFrom: opt(str),
  /** When the latest resume into this folder started (ISO time). */
  resumedAt: opt(str),
  error: opt(obj({ code: str, message: str })),
});
export type RunInfo = Infer<typeof runInfoGuard>;

/** Parses run.json's text; a clear error naming the file and the field when it is not one. */
export function parseRunInfo(text: string, file: string): RunInfo {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw invalid(file, `it is not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const problem = runInfoGuard.check(value);
  if (problem) throw invalid(file, problem);
  const info = value as RunInfo;
  if (info.formatVersion > RUN_FORMAT_VERSION) {
    const message = `${file} has format ${info.formatVersion}; this version reads up to ${RUN_FORMAT_VERSION}`;
    throw new FineTuneError('run-format-too-new', message, { file, fix: 'Update Fine-Tune Studio.' });
  }
  return info;
}

function invalid(file: string, why: string): FineTuneError {
  return new FineTuneError('run-json-invalid', `${file} cannot be read: ${why}`, {
    file,
    fix: 'Delete the run folder, or restore its run.json: the trainer rewrites it whole at every change.',
  });
}

/** run.json of a run folder; undefined when the folder has none (not a run, or one being created). */
export async function readRunJson(dir: string): Promise<RunInfo | undefined> {
  const file = path.join(dir, RUN_JSON);
  let text: string;
  try {
    text = await readTextBounded(file, MAX_RUN_JSON_BYTES);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return parseRunInfo(text, file);
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The interrupted rule: a run that says `running` but whose trainer process is gone was killed mid-run. */
export function runFolderStatus(info: RunInfo, isAlive: (pid: number) => boolean = pidAlive): RunFolderStatus {
  return info.status === 'running' && !isAlive(info.pid) ? 'interrupted' : info.status;
}

/** Whether another live process is training in this run folder right now. */
export function isRunLive(info: RunInfo, isAlive: (pid: number) => boolean = pidAlive): boolean {
  return info.status === 'running' && info.pid !== process.pid && isAlive(info.pid);
}
