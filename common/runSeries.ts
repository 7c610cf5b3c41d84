/**
 * A run's metrics as columns, built by applying trainer protocol messages in order. The host builds one from
 * metrics.jsonl (a finished run) or from live messages, sends it to the metrics webview as a snapshot, and the
 * webview keeps applying the appended messages to its own copy: both sides run the same code, so a finished run
 * read from disk and a live one look the same.
 */
import type { TrainerMessage, TrainerMessageOf } from './protocol';
import type { RunFileStatus } from './runFolder/status';

export type EvalRecord = TrainerMessageOf<'eval'>;
export type CheckpointRecord = TrainerMessageOf<'checkpoint'>;

/** Step-message columns; `loss` and `gradNorm` hold null where the trainer sent null (diverged). */
export interface StepColumns {
  step: number[];
  epoch: number[];
  loss: (number | null)[];
  learningRate: number[];
  gradNorm: (number | null)[];
  samplesPerSecond: number[];
  tokensPerSecond: number[];
  elapsedMs: number[];
}

export const STEP_FIELDS = ['loss', 'learningRate', 'gradNorm', 'samplesPerSecond', 'tokensPerSecond'] as const;
export type StepField = (typeof STEP_FIELDS)[number];

export interface RunSeriesData {
  runId: string;
  /** Display name (run_name, or the id). */
  name: string;
  hello?: TrainerMessageOf<'hello'>;
  plan?: TrainerMessageOf<'plan'>;
  model?: { total: number; trainable: number };
  steps: StepColumns;
  lastEtaMs: number | null;
  evals: EvalRecord[];
  checkpoints: CheckpointRecord[];
  errors: string[];
  done?: TrainerMessageOf<'done'>;
}

export function emptyRunSeries(runId: string, name = runId): RunSeriesData {
  return {
    runId,
    name,
    steps: { step: [], epoch: [], loss: [], learningRate: [], gradNorm: [], samplesPerSecond: [], tokensPerSecond: [], elapsedMs: [] },
    lastEtaMs: null,
    evals: [],
    checkpoints: [],
    errors: [],
  };
}

function truncateAfter(s: RunSeriesData, step: number): void {
  const cols = s.steps;
  let keep = cols.step.length;
  while (keep > 0 && cols.step[keep - 1]! > step) keep--;
  for (const k of Object.keys(cols) as (keyof StepColumns)[]) cols[k].length = keep;
  s.evals = s.evals.filter((e) => e.step <= step);
  s.checkpoints = s.checkpoints.filter((c) => c.step <= step);
  delete s.done;
}

/**
 * Applies one message; returns whether anything visible changed. A step at or before the last one is ignored
 * (the host may replay a message it already sent in a snapshot); a `plan` that resumes from step N drops what
 * came after N, since the resumed run re-trains those steps.
 */
export function applyMessage(s: RunSeriesData, m: TrainerMessage): boolean {
  switch (m.type) {
    case 'hello':
      s.hello = m;
      return true;
    case 'plan':
      if (m.resumedFromStep !== undefined) truncateAfter(s, m.resumedFromStep);
      s.plan = m;
      return true;
    case 'model':
      s.model = { total: m.total, trainable: m.trainable };
      return true;
    case 'step': {
      const c = s.steps;
      const last = c.step[c.step.length - 1];
      if (last !== undefined && m.step <= last) return false;
      c.step.push(m.step);
      c.epoch.push(m.epoch);
      c.loss.push(m.loss);
      c.learningRate.push(m.learningRate);
      c.gradNorm.push(m.gradNorm);
      c.samplesPerSecond.push(m.samplesPerSecond);
      c.tokensPerSecond.push(m.tokensPerSecond);
      c.elapsedMs.push(m.elapsedMs);
      s.lastEtaMs = m.etaMs;
      return true;
    }
    case 'eval': {
      const lastEval = s.evals[s.evals.length - 1];
      if (lastEval && lastEval.step === m.step && lastEval.split === m.split) return false;
      s.evals.push(m);
      return true;
    }
    case 'checkpoint':
      if (s.checkpoints.some((c) => c.step === m.step)) return false;
      s.checkpoints.push(m);
      return true;
    case 'error':
      s.errors.push(m.error.message);
      return true;
    case 'done':
      s.done = m;
      return true;
    default:
      return false;
  }
}

/** A run folder's status as the page sees it, or `starting` before its first step. */
export type RunStatus = 'starting' | RunFileStatus;

export function runStatus(s: RunSeriesData, live: boolean): RunStatus | 'unknown' {
  if (s.done) return s.done.status;
  // A run on disk without `done` ended without saying so (killed, or the window closed mid-run).
  if (!live) return 'unknown';
  return s.steps.step.length ? 'running' : 'starting';
}

/** The best evaluation so far: the one the trainer flagged `isBest` last. */
export function bestEval(s: RunSeriesData): EvalRecord | undefined {
  for (let i = s.evals.length - 1; i >= 0; i--) if (s.evals[i]!.isBest) return s.evals[i];
  return undefined;
}

/** Names of all evaluation metrics seen, in first-seen order (`loss` first when present). */
export function evalMetricNames(s: RunSeriesData): string[] {
  const names: string[] = [];
  for (const e of s.evals) for (const k of Object.keys(e.metrics)) if (!names.includes(k)) names.push(k);
  return names.sort((a, b) => (a === 'loss' ? -1 : b === 'loss' ? 1 : 0));
}

/** The final value of every metric: the `done` message's when present, else the last evaluation's. */
export function finalMetrics(s: RunSeriesData): Record<string, number> {
  if (s.done?.finalMetrics) return s.done.finalMetrics;
  const last = s.evals[s.evals.length - 1];
  return last ? { ...last.metrics } : {};
}
