/**
 * The trainer's side of the run folder `<output_dir>/<run-id>/` (the format is declared in common/runFolder/):
 * creating one, or reopening one to resume into, then the resolved config, `metrics.jsonl` (every step/eval/
 * checkpoint/done message, one per line: the extension's panels and run explorer read runs from disk through it),
 * `run.json` (rewritten atomically) and `train.log`.
 */
import { appendFileSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Document, isNode } from 'yaml';
import { writeFileAtomic } from '../../common/atomicWrite';
import type { FineTuneConfig } from '../../common/config/schema';
import { describeOverride } from '../../common/config/overrides';
import type { ConfigOverride } from '../../common/config/overrides';
import type { TrainerMessage } from '../../common/protocol';
import { checkpointStep, listCheckpointDirs } from '../../common/runFolder/checkpoints';
import { METRICS_JSONL, RESOLVED_CONFIG, RUN_JSON, TRAIN_LOG } from '../../common/runFolder/layout';
import { METRIC_TYPES, truncateMetricsLog } from '../../common/runFolder/metricsLog';
import { isRunLive, readRunJson, RUN_FORMAT_VERSION, runFolderStatus } from '../../common/runFolder/runJson';
import type { RunInfo } from '../../common/runFolder/runJson';
import type { RunFolderStatus } from '../../common/runFolder/status';
import { cleanStaleFiles } from '../../common/runFolder/staleFiles';
import type { MetricSink } from '../tensorboard/reportTo';

/** `yyyymmdd-hhmmss` in local time, as a sortable id suffix. */
export function timestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const day = `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}`;
  return `${day}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

export function runBaseName(configFile: string, runName?: string): string {
  const base =
    runName ??
    path
      .basename(configFile)
      .replace(/\.finetune\.ya?ml$/i, '')
      .replace(/\.ya?ml$/i, '');
  return base.replace(/[^\w.-]+/g, '-') || 'run';
}

/** The runs folder of a config: its `output_dir`, relative to the config's folder. */
export function runsRoot(configFile: string, config: FineTuneConfig): string {
  return path.resolve(path.dirname(configFile), config.output_dir);
}

export class RunFolder {
  readonly metricsFile: string;
  readonly logFile: string;
  /** `report_to` integrations (TensorBoard), fed what metrics.jsonl records. */
  private readonly sinks: MetricSink[] = [];
  private constructor(
    readonly dir: string,
    readonly runId: string,
    public info: RunInfo,
  ) {
    this.metricsFile = path.join(dir, METRICS_JSONL);
    this.logFile = path.join(dir, TRAIN_LOG);
  }

  /** Creates `<output_dir>/<run-id>` next to the config; a clash within the same second gets a suffix. */
  static async create(
    configFile: string,
    config: FineTuneConfig,
    overrides: readonly ConfigOverride[] = [],
    now = new Date(),
  ): Promise<RunFolder> {
    const root = runsRoot(configFile, config);
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
    const info: RunInfo = {
      formatVersion: RUN_FORMAT_VERSION,
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
    const rf = new RunFolder(path.join(root, runId), runId, info);
    await rf.writeResolvedConfig(configFile, config, overrides);
    await rf.update({});
    return rf;
  }

  /**
   * Reopens a run folder to resume it from its checkpoint at `step`, as HF's Trainer resumes into the same
   * output_dir: what dead writers left is cleaned, metrics.jsonl loses what was logged after `step`, and run.json
   * says running again under this process, keeping the run's id, name and start.
   */
  static async reopen(
    home: ResumeHome,
    configFile: string,
    config: FineTuneConfig,
    step: number,
    overrides: readonly ConfigOverride[] = [],
  ): Promise<RunFolder> {
    const { dir, info } = home;
    await cleanStaleFiles(dir);
    await truncateMetricsLog(dir, step);
    const checkpoints = (await listCheckpointDirs(dir)).map((c) => c.dir);
    const { endedAt: _ended, error: _error, ...kept } = info;
    const reopened: RunInfo = {
      ...kept,
      status: 'running',
      configFile,
      pid: process.pid,
      step,
      checkpoints,
      resumedAt: new Date().toISOString(),
    };
    const rf = new RunFolder(dir, info.runId, reopened);
    await rf.writeResolvedConfig(configFile, config, overrides);
    await rf.update({});
    return rf;
  }

  /** The config as the run uses it; each key set on the command line says so in a comment on its line. */
  private async writeResolvedConfig(
    configFile: string,
    config: FineTuneConfig,
    overrides: readonly ConfigOverride[],
  ): Promise<void> {
    const doc = new Document(config);
    const header = [` Resolved from ${configFile} with defaults applied.`];
    if (overrides.length) {
      header.push(' Set on the command line (not in the config file):');
      for (const o of overrides) {
        header.push(`   ${describeOverride(o)}`);
        const node = doc.getIn(o.path, true);
        if (isNode(node)) node.comment = ` from the command line: ${o.flag} ${o.raw}`;
      }
    }
    doc.commentBefore = header.join('\n');
    await writeFileAtomic(path.join(this.dir, RESOLVED_CONFIG), doc.toString());
  }

  /** Appends the message to metrics.jsonl when it is one of the recorded kinds, and hands it to the sinks. */
  record(m: TrainerMessage): void {
    if (!METRIC_TYPES.has(m.type)) return;
    appendFileSync(this.metricsFile, JSON.stringify(m) + '\n');
    for (const s of this.sinks) s.record(m);
  }

  /** Adds a `report_to` integration; it sees every message recorded from now on. */
  reportTo(sink: MetricSink): void {
    this.sinks.push(sink);
  }

  log(line: string): void {
    appendFileSync(this.logFile, `${new Date().toISOString()} ${line.endsWith('\n') ? line : line + '\n'}`);
  }

  async update(patch: Partial<RunInfo>): Promise<void> {
    this.info = { ...this.info, ...patch };
    await writeFileAtomic(path.join(this.dir, RUN_JSON), JSON.stringify(this.info, null, 2) + '\n');
  }
}

export type RunInfoRead = Omit<RunInfo, 'status'> & { status: RunFolderStatus };

/** run.json of a run folder; a run that says `running` but whose process is gone is `interrupted`. */
export async function readRunInfo(dir: string): Promise<RunInfoRead | undefined> {
  const info = await readRunJson(dir);
  return info && { ...info, status: runFolderStatus(info) };
}

/** A run folder to resume into, with its run.json. */
export interface ResumeHome {
  dir: string;
  info: RunInfo;
}

/**
 * Where a resume from `checkpointDir` continues: in the checkpoint's own run folder when it is a run of this
 * config's runs folder, no other process is training in it, and the checkpoint is its newest (resuming from an
 * older one starts a branch: continuing the same folder would mix it with the later checkpoints and curves).
 * Otherwise a new run folder, with the reason.
 */
export async function resumeHome(
  checkpointDir: string,
  configFile: string,
  config: FineTuneConfig,
): Promise<ResumeHome | { reason: string }> {
  const ckpt = path.resolve(checkpointDir);
  const dir = path.dirname(ckpt);
  const step = checkpointStep(path.basename(ckpt));
  if (step === undefined || path.dirname(dir) !== runsRoot(configFile, config)) {
    return { reason: `${ckpt} is not a checkpoint folder of a run of this config's output_dir` };
  }
  const info = await readRunJson(dir).catch(() => undefined);
  if (!info) return { reason: `${dir} has no readable run.json` };
  if (isRunLive(info)) return { reason: `another trainer (pid ${info.pid}) is writing ${dir}` };
  const newest = (await listCheckpointDirs(dir)).pop();
  if (newest && newest.step !== step) {
    return { reason: `checkpoint-${step} is not the newest checkpoint of ${dir} (checkpoint-${newest.step} is)` };
  }
  return { dir, info };
}
