/**
 * What the extension knows about one run, whether it is training in this window (run manager) or was read
 * from its folder on disk (run store). The tree, the status bar and the panels all render this one shape.
 */
import type { DownloadState } from '../common/downloadProgress';
import type { RunFolderStatus } from '../common/runFolder/status';

/** A run folder's status (common/runFolder/status.ts), or a state only this window's run manager knows. */
export type RunStatus = 'queued' | 'starting' | 'stopping' | RunFolderStatus;

export const ACTIVE_STATUSES: readonly RunStatus[] = ['queued', 'starting', 'running', 'stopping'];
/** Runs that reached their end: resuming them trains no further, so they will save no further checkpoint. */
export const FINISHED_STATUSES: readonly RunStatus[] = ['completed', 'early-stopped'];

export function isActive(s: RunStatus): boolean {
  return ACTIVE_STATUSES.includes(s);
}

export interface CheckpointInfo {
  step: number;
  /** Absolute path of the `checkpoint-<step>` folder. */
  path: string;
  isBest: boolean;
  isLast: boolean;
}

/**
 * The extension's view of a run: live state from the protocol and, for runs on disk, what the run-folder format
 * says (run.json's `RunInfo` in common/runFolder/runJson.ts, turned into this by runStore's `runFromJson`).
 */
export interface RunInfo {
  /** The run folder's name (`<run-id>`), or a provisional id until the trainer has created the folder. */
  id: string;
  name: string;
  /** Absolute path of the `*.finetune.yaml` the run was started from, when known. */
  configPath?: string;
  /** Absolute path of `<output_dir>/<run-id>`, once known. */
  runDir?: string;
  mode?: 'fine-tune' | 'from-scratch';
  task?: 'text-classification' | 'masked-lm';
  status: RunStatus;
  /** Why a run failed or was interrupted, for the user. */
  reason?: string;
  pid?: number;
  backend?: string;
  step: number;
  totalSteps?: number;
  epoch?: number;
  loss?: number | null;
  learningRate?: number;
  etaMs?: number | null;
  /** The Hub file the trainer is downloading, while it does (common/downloadProgress.ts). */
  download?: DownloadState;
  /** `training.metric_for_best_model` of the config (without `eval_`), when known. */
  metricForBestModel?: string;
  /** The best value of `metric_for_best_model` so far. */
  bestMetric?: { name: string; value: number };
  /** The metrics of the latest evaluation. */
  lastEval?: Record<string, number>;
  checkpoints: CheckpointInfo[];
  startedAt?: number;
  endedAt?: number;
  /** True while this window's run manager owns the trainer process. */
  live: boolean;
}

/** Marks the best and the last (highest step) checkpoint; `bestPath` wins over per-checkpoint flags. */
export function labelCheckpoints(list: CheckpointInfo[], bestPath?: string): CheckpointInfo[] {
  const sorted = [...list].sort((a, b) => a.step - b.step);
  const last = sorted[sorted.length - 1];
  return sorted.map((c) => ({
    ...c,
    isBest: bestPath !== undefined ? samePath(c.path, bestPath) : c.isBest,
    isLast: c === last,
  }));
}

function samePath(a: string, b: string): boolean {
  const norm = (p: string) => p.replace(/\\/g, '/').replace(/\/+$/, '');
  return norm(a) === norm(b) || norm(a).endsWith('/' + norm(b));
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export function formatMetric(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100) return v.toFixed(1);
  return v.toPrecision(4).replace(/\.?0+$/, '');
}
