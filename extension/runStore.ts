/**
 * Reads runs from their folders (`<output_dir>/<run-id>/run.json`, `metrics.jsonl`, `checkpoint-<step>/`), so that
 * a reopened window shows past runs with their final metrics. Pure node (no `vscode`): the extension feeds it
 * the folders to scan and calls `readRunFolder` again when a file watcher sees a run's files change.
 *
 * A run.json that says "running" while its pid is dead was left behind by a killed window or a crashed
 * trainer: it is shown as "interrupted", with Resume from its last checkpoint.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseTrainerMessage } from '../common/protocol';
import type { TrainerMessage } from '../common/protocol';
import { labelCheckpoints } from './runModel';
import type { CheckpointInfo, RunInfo, RunStatus } from './runModel';

const KNOWN_STATUSES: readonly RunStatus[] = ['queued', 'starting', 'running', 'stopping', 'completed', 'stopped', 'cancelled', 'early-stopped', 'failed', 'interrupted'];

export interface RunStoreHost {
  /** Whether a process with this pid exists; injectable for tests. */
  isAlive(pid: number): boolean;
}

export const nodeHost: RunStoreHost = {
  isAlive(pid) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      // EPERM: it exists but belongs to someone else, which still means "alive".
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  },
};

/** What run.json holds, read leniently: the trainer writes it, and older or newer trainers may differ. */
export interface RunJson {
  runId?: string;
  name?: string;
  status?: RunStatus;
  mode?: RunInfo['mode'];
  task?: RunInfo['task'];
  pid?: number;
  backend?: string;
  configPath?: string;
  step?: number;
  totalSteps?: number;
  bestMetric?: { name: string; value: number };
  bestCheckpoint?: string;
  lastCheckpoint?: string;
  checkpoints?: string[];
  startedAt?: number;
  endedAt?: number;
  reason?: string;
  metricForBestModel?: string;
}

export function parseRunJson(text: string): RunJson {
  const v: unknown = JSON.parse(text);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('run.json is not a JSON object');
  const o = v as Record<string, unknown>;
  const s = (k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  const n = (k: string): number | undefined => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : undefined);
  const time = (k: string): number | undefined => {
    const x = o[k];
    if (typeof x === 'number') return x;
    if (typeof x === 'string' && !Number.isNaN(Date.parse(x))) return Date.parse(x);
    return undefined;
  };
  const out: RunJson = {};
  const runId = s('runId') ?? s('id');
  if (runId) out.runId = runId;
  const name = s('name') ?? s('runName') ?? s('run_name');
  if (name) out.name = name;
  const status = s('status');
  if (status && (KNOWN_STATUSES as readonly string[]).includes(status)) out.status = status as RunStatus;
  const mode = s('mode');
  if (mode === 'fine-tune' || mode === 'from-scratch') out.mode = mode;
  const task = s('task');
  if (task === 'text-classification' || task === 'masked-lm') out.task = task;
  const pid = n('pid');
  if (pid !== undefined) out.pid = pid;
  const backend = o.backend;
  if (typeof backend === 'string') out.backend = backend;
  else if (typeof backend === 'object' && backend !== null && typeof (backend as { name?: unknown }).name === 'string') out.backend = (backend as { name: string }).name;
  const configPath = s('configFile') ?? s('configPath') ?? s('config');
  if (configPath) out.configPath = configPath;
  for (const k of ['step', 'totalSteps'] as const) {
    const x = n(k);
    if (x !== undefined) out[k] = x;
  }
  const best = o.bestMetric ?? o.best;
  if (typeof best === 'number' && Number.isFinite(best)) out.bestMetric = { name: (s('metricForBestModel') ?? s('bestMetricName') ?? 'metric').replace(/^eval_/, ''), value: best };
  else if (typeof best === 'object' && best !== null) {
    const b = best as Record<string, unknown>;
    if (typeof b.value === 'number') out.bestMetric = { name: typeof b.name === 'string' ? b.name : 'metric', value: b.value };
  }
  for (const k of ['bestCheckpoint', 'lastCheckpoint', 'reason'] as const) {
    const x = s(k);
    if (x) out[k] = x;
  }
  const mfb = s('metricForBestModel');
  if (mfb) out.metricForBestModel = mfb.replace(/^eval_/, '');
  const err = o.error;
  if (!out.reason && typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') out.reason = (err as { message: string }).message;
  if (Array.isArray(o.checkpoints)) {
    out.checkpoints = o.checkpoints
      .map((c) => (typeof c === 'string' ? c : typeof c === 'object' && c !== null && typeof (c as { path?: unknown }).path === 'string' ? (c as { path: string }).path : undefined))
      .filter((c): c is string => c !== undefined);
  }
  const startedAt = time('startedAt');
  if (startedAt !== undefined) out.startedAt = startedAt;
  const endedAt = time('endedAt') ?? time('finishedAt');
  if (endedAt !== undefined) out.endedAt = endedAt;
  return out;
}

/** Parses metrics.jsonl, keeping the valid protocol messages; a torn last line (a killed writer) is skipped. */
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

/** Folds protocol messages into a run: the same reducer serves live runs (run manager) and runs read from disk. */
export function applyMessage(run: RunInfo, m: TrainerMessage): void {
  switch (m.type) {
    case 'hello':
      run.pid = m.pid;
      run.backend = m.backend.name;
      break;
    case 'plan':
      run.mode = m.mode;
      run.task = m.task;
      run.totalSteps = m.totalSteps;
      run.runDir = m.runDir;
      if (m.resumedFromStep !== undefined) run.step = Math.max(run.step, m.resumedFromStep);
      break;
    case 'step':
      run.step = m.step;
      run.epoch = m.epoch;
      run.loss = m.loss;
      run.learningRate = m.learningRate;
      run.etaMs = m.etaMs;
      break;
    case 'eval':
      run.lastEval = m.metrics;
      if (m.isBest) {
        const [name, value] = pickBestMetric(m.metrics, run.metricForBestModel);
        if (value !== undefined) run.bestMetric = { name, value };
      }
      break;
    case 'checkpoint': {
      const abs = run.runDir && !path.isAbsolute(m.path) ? path.join(run.runDir, m.path) : m.path;
      const deleted = new Set(m.deleted.map((d) => path.basename(d)));
      const kept = run.checkpoints.filter((c) => !deleted.has(path.basename(c.path)) && c.step !== m.step);
      const best = m.isBest ? abs : run.checkpoints.find((c) => c.isBest && !deleted.has(path.basename(c.path)))?.path;
      run.checkpoints = labelCheckpoints([...kept, { step: m.step, path: abs, isBest: m.isBest, isLast: true }], best);
      break;
    }
    case 'done':
      run.status = m.status;
      run.step = m.step;
      if (m.bestMetric !== undefined) run.bestMetric = { name: run.metricForBestModel ?? run.bestMetric?.name ?? 'metric', value: m.bestMetric };
      if (m.finalMetrics) run.lastEval = m.finalMetrics;
      run.etaMs = null;
      break;
    default:
      break;
  }
}

function pickBestMetric(metrics: Record<string, number>, preferred?: string): [string, number | undefined] {
  if (preferred !== undefined) {
    const v = metrics[preferred] ?? metrics[`eval_${preferred}`];
    if (v !== undefined) return [preferred, v];
  }
  // The trainer marks an eval `isBest` by metric_for_best_model; without knowing which one, prefer the usual ones.
  for (const k of ['f1', 'accuracy', 'perplexity', 'loss', 'eval_f1', 'eval_accuracy', 'eval_loss']) {
    if (metrics[k] !== undefined) return [k.replace(/^eval_/, ''), metrics[k]];
  }
  const first = Object.entries(metrics)[0];
  return first ? [first[0], first[1]] : ['metric', undefined];
}

/** Reads one run folder; undefined when it holds no run.json (not a run, or one being created). */
export async function readRunFolder(runDir: string, host: RunStoreHost = nodeHost): Promise<RunInfo | undefined> {
  let meta: RunJson;
  try {
    meta = parseRunJson(await fs.readFile(path.join(runDir, 'run.json'), 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // A half-written or hand-edited run.json should not hide the run: show it as failed with the reason.
    meta = { status: 'failed', reason: `run.json cannot be read: ${(e as Error).message}` };
  }
  const id = path.basename(runDir);
  const fromConfig = meta.configPath ? path.basename(meta.configPath).replace(/\.finetune\.ya?ml$/i, '') : undefined;
  const run: RunInfo = { id, name: meta.name ?? fromConfig ?? id, runDir, status: meta.status ?? 'completed', step: meta.step ?? 0, checkpoints: [], live: false };
  if (meta.configPath) run.configPath = path.isAbsolute(meta.configPath) ? meta.configPath : path.resolve(runDir, meta.configPath);
  if (meta.mode) run.mode = meta.mode;
  if (meta.task) run.task = meta.task;
  if (meta.pid !== undefined) run.pid = meta.pid;
  if (meta.backend) run.backend = meta.backend;
  if (meta.totalSteps !== undefined) run.totalSteps = meta.totalSteps;
  if (meta.startedAt !== undefined) run.startedAt = meta.startedAt;
  if (meta.endedAt !== undefined) run.endedAt = meta.endedAt;
  if (meta.reason) run.reason = meta.reason;
  if (meta.metricForBestModel) run.metricForBestModel = meta.metricForBestModel;

  const metricsText = await fs.readFile(path.join(runDir, 'metrics.jsonl'), 'utf8').catch(() => '');
  const { messages } = parseMetricsLines(metricsText);
  for (const m of messages) {
    if (m.type === 'done' || m.type === 'hello') continue; // run.json is the authority on status and pid
    applyMessage(run, m);
  }
  const done = messages.filter((m) => m.type === 'done').pop();
  if (done && done.type === 'done') {
    if (done.finalMetrics) run.lastEval = done.finalMetrics;
    if (done.bestMetric !== undefined) run.bestMetric = { name: run.metricForBestModel ?? run.bestMetric?.name ?? meta.bestMetric?.name ?? 'metric', value: done.bestMetric };
    if (!meta.status) run.status = done.status;
  }
  if (meta.bestMetric) run.bestMetric = meta.bestMetric;
  if (meta.step !== undefined) run.step = Math.max(run.step, meta.step);
  run.runDir = runDir; // the folder we read wins over a path recorded on another machine

  run.checkpoints = await listCheckpoints(runDir, meta.bestCheckpoint ?? done?.bestCheckpoint ?? run.checkpoints.find((c) => c.isBest)?.path);

  if ((run.status === 'running' || run.status === 'starting' || run.status === 'stopping' || run.status === 'queued') && !(run.pid !== undefined && host.isAlive(run.pid))) {
    run.status = 'interrupted';
    const last = run.checkpoints[run.checkpoints.length - 1];
    run.reason = `The trainer${run.pid !== undefined ? ` (pid ${run.pid})` : ''} is gone without finishing: VS Code or the trainer was killed. ${last ? `Resume continues from step ${last.step}.` : 'No checkpoint was saved, so the run cannot be resumed.'}`;
  }
  return run;
}

/** The `checkpoint-<step>` folders of a run (not `.checkpoint-*.tmp-*` ones being written), best and last labelled. */
export async function listCheckpoints(runDir: string, bestPath?: string): Promise<CheckpointInfo[]> {
  const entries = await fs.readdir(runDir, { withFileTypes: true }).catch(() => []);
  const out: CheckpointInfo[] = [];
  for (const e of entries) {
    const m = /^checkpoint-(\d+)$/.exec(e.name);
    if (!m || !e.isDirectory()) continue;
    out.push({ step: Number(m[1]), path: path.join(runDir, e.name), isBest: false, isLast: false });
  }
  if (bestPath === undefined) {
    // Fall back on trainer_state.json, which records the best checkpoint as HF's Trainer does.
    for (const c of out) {
      const state = await fs.readFile(path.join(c.path, 'trainer_state.json'), 'utf8').then(JSON.parse, () => undefined) as { best_model_checkpoint?: unknown } | undefined;
      if (state && typeof state.best_model_checkpoint === 'string') bestPath = state.best_model_checkpoint;
    }
  }
  return labelCheckpoints(out, bestPath);
}

/** Every run folder (a direct child holding run.json) under the given runs folders, newest first. */
export async function scanRunsFolders(folders: readonly string[], host: RunStoreHost = nodeHost): Promise<RunInfo[]> {
  const seen = new Set<string>();
  const runs: RunInfo[] = [];
  for (const folder of folders) {
    const entries = await fs.readdir(folder, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      const dir = path.resolve(folder, e.name);
      if (seen.has(dir)) continue;
      seen.add(dir);
      const run = await readRunFolder(dir, host);
      if (run) runs.push(run);
    }
  }
  return runs.sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0) || b.id.localeCompare(a.id));
}

/** `output_dir` of a config without parsing YAML (activation stays light); the default when absent. */
export function outputDirOf(configText: string): string {
  const m = /^output_dir:[ \t]*(?:"([^"]*)"|'([^']*)'|([^#\r\n]*?))[ \t]*(?:#.*)?$/m.exec(configText);
  const v = m ? (m[1] ?? m[2] ?? m[3] ?? '').trim() : '';
  return v || '.finetune/runs';
}
