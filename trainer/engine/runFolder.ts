/**
 * The run folder `.finetune/runs/<run-id>/`: the resolved config, `metrics.jsonl` (every step/eval/checkpoint/done
 * message, one per line: the extension's panels and run explorer read runs from disk through it), `run.json`
 * (status, updated atomically) and `train.log`.
 */
import { appendFileSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { writeFileAtomic } from '../../common/atomicWrite';
import type { FineTuneConfig } from '../../common/config/schema';
import type { BackendInfo, TrainerMessage } from '../../common/protocol';

export type RunStatus = 'running' | 'completed' | 'stopped' | 'cancelled' | 'early-stopped' | 'failed';

export interface RunInfo {
  formatVersion: 1;
  runId: string;
  /** `run_name`, or the config file's name without `.finetune.yaml`. */
  name: string;
  status: RunStatus;
  mode: FineTuneConfig['mode'];
  task: FineTuneConfig['task'];
  configFile: string;
  startedAt: string;
  endedAt?: string;
  pid: number;
  backend?: BackendInfo;
  step: number;
  totalSteps?: number;
  metricForBestModel?: string;
  bestMetric?: number;
  bestCheckpoint?: string;
  lastCheckpoint?: string;
  checkpoints: string[];
  resumedFrom?: string;
  error?: { code: string; message: string };
}

/** `yyyymmdd-hhmmss` in local time, as a sortable id suffix. */
export function timestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

export function runBaseName(configFile: string, runName?: string): string {
  const base = runName ?? path.basename(configFile).replace(/\.finetune\.ya?ml$/i, '').replace(/\.ya?ml$/i, '');
  return base.replace(/[^\w.-]+/g, '-') || 'run';
}

export const METRIC_TYPES = new Set(['step', 'eval', 'checkpoint', 'done']);

export class RunFolder {
  readonly metricsFile: string;
  readonly logFile: string;
  private constructor(
    readonly dir: string,
    readonly runId: string,
    public info: RunInfo,
  ) {
    this.metricsFile = path.join(dir, 'metrics.jsonl');
    this.logFile = path.join(dir, 'train.log');
  }

  /** Creates `<output_dir>/<run-id>` next to the config; a clash within the same second gets a suffix. */
  static async create(configFile: string, config: FineTuneConfig, now = new Date()): Promise<RunFolder> {
    const root = path.resolve(path.dirname(configFile), config.output_dir);
    await fs.mkdir(root, { recursive: true });
    const base = `${runBaseName(configFile, config.run_name)}-${timestamp(now)}`;
    let runId = base;
    for (let i = 2; ; i++) {
      try {
        await fs.mkdir(path.join(root, runId));
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        runId = `${base}-${i}`;
      }
    }
    const dir = path.join(root, runId);
    const info: RunInfo = {
      formatVersion: 1,
      runId,
      name: runBaseName(configFile, config.run_name),
      status: 'running',
      mode: config.mode,
      task: config.task,
      configFile,
      startedAt: now.toISOString(),
      pid: process.pid,
      step: 0,
      checkpoints: [],
    };
    const rf = new RunFolder(dir, runId, info);
    await writeFileAtomic(path.join(dir, 'config.resolved.yaml'), `# Resolved from ${configFile} with defaults applied.\n${stringify(config)}`);
    await rf.update({});
    return rf;
  }

  /** Appends the message to metrics.jsonl when it is one of the recorded kinds. */
  record(m: TrainerMessage): void {
    if (METRIC_TYPES.has(m.type)) appendFileSync(this.metricsFile, JSON.stringify(m) + '\n');
  }

  log(line: string): void {
    appendFileSync(this.logFile, `${new Date().toISOString()} ${line.endsWith('\n') ? line : line + '\n'}`);
  }

  async update(patch: Partial<RunInfo>): Promise<void> {
    this.info = { ...this.info, ...patch };
    await writeFileAtomic(path.join(this.dir, 'run.json'), JSON.stringify(this.info, null, 2) + '\n');
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** run.json of a run folder; a run that says `running` but whose process is gone is `interrupted`. */
export async function readRunInfo(dir: string): Promise<(Omit<RunInfo, 'status'> & { status: RunStatus | 'interrupted' }) | undefined> {
  let info: RunInfo;
  try {
    info = JSON.parse(await fs.readFile(path.join(dir, 'run.json'), 'utf8')) as RunInfo;
  } catch {
    return undefined;
  }
  if (info.status === 'running' && !pidAlive(info.pid)) return { ...info, status: 'interrupted' };
  return info;
}
