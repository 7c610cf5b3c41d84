/**
 * Reads runs from their folders (`<output_dir>/<run-id>/run.json`, `metrics.jsonl`, `checkpoint-<step>/`) through
 * the run-folder format (common/runFolder/), so that a reopened window shows past runs with their final metrics.
 * Pure node (no `vscode`): the extension feeds it the folders to scan and calls `readRunFolder` again when a file
 * watcher sees a run's files change.
 *
 * A run.json that says "running" while its pid is dead was left behind by a killed window or a crashed
 * trainer: it is shown as "interrupted", with Resume from its last checkpoint.
 */
import { downloadAfter } from '../common/downloadProgress';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readConfigText } from './runConfig';
import { configBaseName } from '../common/config/configFile';
import { decidingMetric, normaliseMetricName } from '../common/metricNames';
import type { TrainerMessage, TrainerMessageOf } from '../common/protocol';
import { checkpointInRun, listCheckpointDirs } from '../common/runFolder/checkpoints';
import { readMetricsLog } from '../common/runFolder/metricsLog';
import { pidAlive, readRunJson, runFolderStatus } from '../common/runFolder/runJson';
import type { RunInfo as RunJson } from '../common/runFolder/runJson';
import { readTrainerStateFile } from '../common/runFolder/trainerState';
import { labelCheckpoints } from './runModel';
import type { CheckpointInfo, RunInfo } from './runModel';

export interface RunStoreHost {
  /** Whether a process with this pid exists; injectable for tests. */
  isAlive(pid: number): boolean;
}

export const nodeHost: RunStoreHost = { isAlive: pidAlive };

/** What run.json alone says about a run, as the extension shows it. */
export function runFromJson(info: RunJson, runDir: string): RunInfo {
  const id = path.basename(runDir);
  const fromConfig = info.configFile ? configBaseName(info.configFile) : undefined;
  const run: RunInfo = {
    id,
    name: info.name ?? fromConfig ?? id,
    runDir,
    status: info.status,
    step: info.step,
    pid: info.pid,
    checkpoints: [],
    live: false,
  };
  if (info.configFile) run.configPath = path.resolve(runDir, info.configFile);
  if (info.mode) run.mode = info.mode;
  if (info.task) run.task = info.task;
  if (info.backend) run.backend = info.backend.name;
  if (info.totalSteps !== undefined) run.totalSteps = info.totalSteps;
  const startedAt = info.startedAt !== undefined ? Date.parse(info.startedAt) : NaN;
  if (!Number.isNaN(startedAt)) run.startedAt = startedAt;
  const endedAt = info.endedAt !== undefined ? Date.parse(info.endedAt) : NaN;
  if (!Number.isNaN(endedAt)) run.endedAt = endedAt;
  if (info.error) run.reason = info.error.message;
  if (info.metricForBestModel) run.metricForBestModel = normaliseMetricName(info.metricForBestModel);
  setBestMetric(run, info);
  return run;
}

function setBestMetric(run: RunInfo, info: RunJson): void {
  if (info.bestMetric !== undefined)
    run.bestMetric = { name: run.metricForBestModel ?? 'metric', value: info.bestMetric };
}

/** Folds protocol messages into a run: the same reducer serves live runs (run manager) and runs read from disk. */
export function applyMessage(run: RunInfo, m: TrainerMessage): void {
  const download = downloadAfter(run.download, m);
  if (download) run.download = download;
  else delete run.download;
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
      if (m.metricForBestModel !== undefined) run.metricForBestModel = normaliseMetricName(m.metricForBestModel);
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
        // The metric the trainer judges "best" by: its plan names it (older runs: run.json; else the default).
        const name = run.metricForBestModel ?? decidingMetric({}).metric;
        if (Object.hasOwn(m.metrics, name)) run.bestMetric = { name, value: m.metrics[name]! };
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
      if (m.bestMetric !== undefined)
        run.bestMetric = { name: run.metricForBestModel ?? run.bestMetric?.name ?? 'metric', value: m.bestMetric };
      if (m.finalMetrics) run.lastEval = m.finalMetrics;
      run.etaMs = null;
      break;
    default:
      break;
  }
}

/** Reads one run folder; undefined when it holds no run.json (not a run, or one being created). */
export async function readRunFolder(runDir: string, host: RunStoreHost = nodeHost): Promise<RunInfo | undefined> {
  let info: RunJson | undefined;
  let run: RunInfo;
  try {
    info = await readRunJson(runDir);
    if (!info) return undefined;
    run = runFromJson(info, runDir);
  } catch (e) {
    // A half-written or hand-edited run.json should not hide the run: show it as failed with the reason.
    const id = path.basename(runDir);
    const reason = e instanceof Error ? e.message : String(e);
    run = { id, name: id, runDir, status: 'failed', reason, step: 0, checkpoints: [], live: false };
  }
  const messages = await readMetricsLog(runDir).catch(() => [] as TrainerMessage[]);
  const done = foldRecorded(run, messages);
  if (info) {
    setBestMetric(run, info);
    run.step = Math.max(run.step, info.step);
  }
  run.runDir = runDir; // the folder we read wins over a path recorded on another machine
  const best = info?.bestCheckpoint ?? done?.bestCheckpoint ?? run.checkpoints.find((c) => c.isBest)?.path;
  run.checkpoints = await listCheckpoints(runDir, best === undefined ? undefined : checkpointInRun(runDir, best));
  if (info && runFolderStatus(info, (pid) => host.isAlive(pid)) === 'interrupted') markInterrupted(run);
  return run;
}

/** metrics.jsonl folded into the run (run.json stays the authority on status and pid); its last `done`. */
function foldRecorded(run: RunInfo, messages: readonly TrainerMessage[]): TrainerMessageOf<'done'> | undefined {
  let done: TrainerMessageOf<'done'> | undefined;
  for (const m of messages) {
    if (m.type === 'done') done = m;
    else if (m.type !== 'hello') applyMessage(run, m);
  }
  if (done?.finalMetrics) run.lastEval = done.finalMetrics;
  if (done?.bestMetric !== undefined) {
    run.bestMetric = { name: run.metricForBestModel ?? run.bestMetric?.name ?? 'metric', value: done.bestMetric };
  }
  return done;
}

function markInterrupted(run: RunInfo): void {
  run.status = 'interrupted';
  const last = run.checkpoints[run.checkpoints.length - 1];
  const who = `The trainer${run.pid !== undefined ? ` (pid ${run.pid})` : ''}`;
  const next = last
    ? `Resume continues from step ${last.step}.`
    : 'No checkpoint was saved, so the run cannot be resumed.';
  run.reason = `${who} is gone without finishing: VS Code or the trainer was killed. ${next}`;
}

/** The `checkpoint-<step>` folders of a run (not temp folders being written), best and last labelled. */
export async function listCheckpoints(runDir: string, bestPath?: string): Promise<CheckpointInfo[]> {
  const found = await listCheckpointDirs(runDir);
  const out: CheckpointInfo[] = found.map((c) => ({ step: c.step, path: c.dir, isBest: false, isLast: false }));
  if (bestPath === undefined) {
    // Fall back on trainer_state.json, which records the best checkpoint as HF's Trainer does.
    for (const c of out) {
      const state = await readTrainerStateFile(c.path).catch(() => undefined);
      if (state?.best_model_checkpoint !== undefined) bestPath = checkpointInRun(runDir, state.best_model_checkpoint);
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

/** `output_dir` of a config, as the trainer resolves it (the extension's one config reader); the default when absent. */
export function outputDirOf(configText: string): string {
  return readConfigText(configText).config.output_dir;
}
