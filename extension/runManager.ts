/**
 * Owns the trainer subprocesses: forks `dist/trainer.js` (never training in the extension host's thread),
 * queues runs beyond `maxParallel`, validates every line the trainer prints, and decides how each run ends.
 * Pure node (no `vscode`), so the lifecycle is tested against fake trainers under plain node; the extension
 * turns its events into notifications, the tree, the status bar and the panels.
 *
 * Stop is graceful: the trainer is asked (stdin `stop`) to finish its step and save a checkpoint, and is killed
 * only after the grace period. A crash, an exit without `done`, or a line that is not a valid protocol message
 * marks the run failed with the reason and the last lines of stderr. A line over the protocol's length limit is
 * not such a line: it is skipped with a warning and the run goes on (a healthy run must not be failed for it).
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { FineTuneError } from '../common/errors';
import { describeOversized, encodeMessage, LineSplitter, parseTrainerMessage } from '../common/protocol';
import { PROTOCOL_VERSION } from '../common/protocol';
import type { HostMessage, OversizedLine, TrainerMessage } from '../common/protocol';
import { Emitter } from './events';
import type { Disposable, Event } from './events';
import { applyMessage } from './runStore';
import { isActive } from './runModel';
import type { RunInfo } from './runModel';
import { configBaseName } from '../common/config/configFile';

export interface RunManagerOptions {
  /** Absolute path of the trainer bundle (`dist/trainer.js`). */
  trainerPath: string;
  maxParallel: () => number;
  stopGraceMs: () => number;
  /** How long a cancelled trainer may take before it is killed. */
  cancelGraceMs?: number;
  /** Extra environment for the trainer (e.g. the backend preference). */
  env?: () => Record<string, string>;
  /** Trainer stderr, invalid stdout lines and the host's own notes, for the output channel (valid messages go to onDidReceiveMessage). */
  log?: (run: RunInfo, stream: 'stdout' | 'stderr' | 'host', line: string) => void;
  /**
   * Whether the workspace is trusted. In Restricted Mode no trainer is started (package.json
   * `capabilities.untrustedWorkspaces`): `start` refuses with the code `workspace-untrusted`. Default: trusted.
   */
  isTrusted?: () => boolean;
}

export interface StartOptions {
  /** Continue from this checkpoint folder. */
  resumeFrom?: string;
  name?: string;
  /** More trainer arguments, e.g. `--backend wasm`. */
  extraArgs?: string[];
  /** The config's `metric_for_best_model`, so that the best metric is named before run.json says it. */
  metricForBestModel?: string;
}

export interface RunMessageEvent {
  runId: string;
  message: TrainerMessage;
}

const STDERR_TAIL = 40;
const STDERR_LINE = 64 * 1024;

interface Live {
  run: RunInfo;
  args: string[];
  cwd: string;
  child?: ChildProcess;
  stderr: string[];
  gotDone: boolean;
  doneStatus?: RunInfo['status'];
  /** Set when the host decided how the run ends (invalid output, stop timeout), before the exit arrives. */
  failure?: string;
  requested?: 'stop' | 'cancel';
  killTimer?: NodeJS.Timeout;
  exited: Promise<void>;
  resolveExited: () => void;
}

let counter = 0;

export class RunManager implements Disposable {
  private readonly live = new Map<string, Live>();
  private readonly order: string[] = [];
  private readonly changed = new Emitter<RunInfo>();
  private readonly ended = new Emitter<RunInfo>();
  private readonly messages = new Emitter<RunMessageEvent>();

  /** Fires on every change of a run's state (status, step, metrics, checkpoints). */
  readonly onDidChangeRun: Event<RunInfo> = this.changed.event;
  /** Fires once when a run has ended, whatever the reason (its final status is on the run). */
  readonly onDidEndRun: Event<RunInfo> = this.ended.event;
  /** Every validated protocol message, for the panels. */
  readonly onDidReceiveMessage: Event<RunMessageEvent> = this.messages.event;

  constructor(private readonly options: RunManagerOptions) {}

  /** Protocol messages of one run. */
  onMessage(runId: string, listener: (m: TrainerMessage) => void): Disposable {
    return this.messages.event((e) => {
      if (e.runId === runId || this.live.get(runId)?.run === this.live.get(e.runId)?.run) listener(e.message);
    });
  }

  getRun(id: string): RunInfo | undefined {
    return (
      this.live.get(id)?.run ??
      [...this.live.values()].find(
        (l) => l.run.runDir !== undefined && (l.run.runDir === id || path.basename(l.run.runDir) === id),
      )?.run
    );
  }

  /** Runs started in this window, oldest first. */
  listRuns(): RunInfo[] {
    return this.order.map((id) => this.live.get(id)!.run);
  }

  activeRuns(): RunInfo[] {
    return this.listRuns().filter((r) => isActive(r.status));
  }

  stderrTail(id: string): string[] {
    const l = this.findLive(id);
    return l ? [...l.stderr] : [];
  }

  /** Starts (or queues) a run of `configPath`. Throws a FineTuneError (`workspace-untrusted`) in Restricted Mode. */
  start(configPath: string, opts: StartOptions = {}): RunInfo {
    if (this.options.isTrusted && !this.options.isTrusted()) throw untrusted(configPath);
    const id = `run-${Date.now().toString(36)}-${process.pid}-${++counter}`;
    const args = ['train', configPath];
    // The trainer's flag is named as Hugging Face's `resume_from_checkpoint`.
    if (opts.resumeFrom) args.push('--resume-from-checkpoint', opts.resumeFrom);
    if (opts.extraArgs) args.push(...opts.extraArgs);
    const run: RunInfo = {
      id,
      name: opts.name ?? configBaseName(configPath),
      configPath,
      status: 'queued',
      step: 0,
      checkpoints: [],
      live: true,
      startedAt: Date.now(),
      ...(opts.metricForBestModel ? { metricForBestModel: opts.metricForBestModel } : {}),
    };
    let resolveExited!: () => void;
    const exited = new Promise<void>((r) => (resolveExited = r));
    const l: Live = { run, args, cwd: path.dirname(configPath), stderr: [], gotDone: false, exited, resolveExited };
    this.live.set(id, l);
    this.order.push(id);
    this.changed.fire(run);
    this.pump();
    return run;
  }

  stop(id: string): boolean {
    const l = this.findLive(id);
    if (!l || !isActive(l.run.status)) return false;
    if (!l.child) return this.dequeue(l, 'cancelled');
    if (l.requested) return true;
    l.requested = 'stop';
    this.setStatus(l, 'stopping');
    this.send(l, { type: 'stop' });
    const grace = this.options.stopGraceMs();
    l.killTimer = setTimeout(() => {
      l.failure = `The trainer did not save its checkpoint and exit within ${Math.round(grace / 1000)} s of "Stop run", so it was killed. Raise "finetune.stopGracePeriodSeconds" for large models.`;
      this.kill(l);
    }, grace);
    return true;
  }

  cancel(id: string): boolean {
    const l = this.findLive(id);
    if (!l || !isActive(l.run.status)) return false;
    if (!l.child) return this.dequeue(l, 'cancelled');
    l.requested = 'cancel';
    this.setStatus(l, 'stopping');
    this.send(l, { type: 'cancel' });
    clearTimeout(l.killTimer);
    l.killTimer = setTimeout(() => this.kill(l), this.options.cancelGraceMs ?? 5000);
    return true;
  }

  saveCheckpointNow(id: string): boolean {
    const l = this.findLive(id);
    if (!l?.child || l.run.status !== 'running') return false;
    this.send(l, { type: 'save_now' });
    return true;
  }

  /** Stops every run (each saves a checkpoint) and waits for them, at most `timeoutMs`; kills what is left. */
  async stopAll(timeoutMs: number): Promise<void> {
    const waiting: Promise<void>[] = [];
    for (const l of this.live.values()) {
      if (!isActive(l.run.status)) continue;
      this.stop(l.run.id);
      if (l.child) waiting.push(l.exited);
    }
    if (!waiting.length) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(waiting), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    for (const l of this.live.values())
      if (l.child && l.child.exitCode === null && l.child.signalCode === null) this.kill(l);
  }

  /** Resolves when the run's trainer has exited (immediately for queued or finished runs). */
  whenExited(id: string): Promise<void> {
    const l = this.findLive(id);
    return l?.child ? l.exited : Promise.resolve();
  }

  dispose(): void {
    for (const l of this.live.values()) if (l.child && l.child.exitCode === null) this.kill(l);
    this.changed.dispose();
    this.ended.dispose();
    this.messages.dispose();
  }

  private findLive(id: string): Live | undefined {
    const run = this.getRun(id);
    return run ? this.live.get(run.id) : undefined;
  }

  private pump(): void {
    const running = [...this.live.values()].filter((l) => l.child && isActive(l.run.status)).length;
    let free = Math.max(1, this.options.maxParallel()) - running;
    for (const id of this.order) {
      if (free <= 0) break;
      const l = this.live.get(id)!;
      if (l.run.status === 'queued' && !l.child) {
        free--;
        this.spawn(l);
      }
    }
  }

  private dequeue(l: Live, status: 'cancelled'): boolean {
    l.run.status = status;
    l.run.endedAt = Date.now();
    l.run.live = false;
    l.resolveExited();
    this.changed.fire(l.run);
    this.ended.fire(l.run);
    return true;
  }

  private spawn(l: Live): void {
    const run = l.run;
    this.setStatus(l, 'starting');
    this.log(run, 'host', `$ node ${path.basename(this.options.trainerPath)} ${l.args.join(' ')}   (cwd ${l.cwd})`);
    let child: ChildProcess;
    try {
      child = fork(this.options.trainerPath, l.args, {
        cwd: l.cwd,
        // The extension host's own flags (inspector ports, loaders) must not leak into the trainer.
        execArgv: [],
        stdio: ['pipe', 'pipe', 'pipe', 'ipc'],
        env: { ...process.env, ...(this.options.env?.() ?? {}), FINETUNE_RUN_ID: run.id, FINETUNE_HOST: 'vscode' },
      });
    } catch (e) {
      l.failure = `The trainer could not be started: ${(e as Error).message}`;
      this.finish(l, null, null);
      return;
    }
    l.child = child;
    run.pid = child.pid;
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    const out = new LineSplitter((line) => this.onStdoutLine(l, line), {
      onOversized: (o) => this.onOversizedLine(l, o),
    });
    const onStderr = (line: string) => {
      l.stderr.push(line);
      if (l.stderr.length > STDERR_TAIL) l.stderr.shift();
      this.log(run, 'stderr', line);
    };
    // stderr is free text kept in a tail of lines: a huge line is kept by its start, so the tail stays small.
    const err = new LineSplitter(onStderr, {
      maxLine: STDERR_LINE,
      onOversized: (o) => onStderr(`${o.head}… (a line of ${o.length} characters, cut)`),
    });
    child.stdout!.on('data', (c: string) => out.push(c));
    child.stderr!.on('data', (c: string) => err.push(c));
    // EPIPE on stdin when the trainer is already gone is expected; the exit handler reports the real cause.
    child.stdin!.on('error', () => undefined);
    child.on('error', (e) => {
      l.failure ??= `The trainer process failed: ${e.message}`;
    });
    // 'close' (not 'exit') so that the last lines of stdout and stderr are read before deciding.
    child.on('close', (code, signal) => {
      out.end();
      err.end();
      this.finish(l, code, signal);
    });
  }

  private onStdoutLine(l: Live, line: string): void {
    if (l.failure) return;
    const r = parseTrainerMessage(line);
    if (!r.ok) {
      this.log(l.run, 'stdout', line);
      l.failure = `The trainer printed something that is not a protocol message (${r.error}). This is a bug in the trainer or in a library writing to stdout.`;
      this.kill(l);
      return;
    }
    const m = r.message;
    if (m.type === 'hello' && m.protocolVersion !== PROTOCOL_VERSION) {
      l.failure = `The trainer speaks protocol ${m.protocolVersion}, the extension ${PROTOCOL_VERSION}: rebuild both (npm run build) or reinstall the extension.`;
      this.kill(l);
      return;
    }
    if (m.type === 'done') {
      l.gotDone = true;
      l.doneStatus = m.status;
    }
    const before = l.run.status;
    applyMessage(l.run, m);
    if (m.type === 'plan') {
      if (l.run.status === 'starting') l.run.status = 'running';
      const dir = m.runDir;
      l.run.runDir = path.isAbsolute(dir) ? dir : path.resolve(l.cwd, dir);
    }
    if (m.type === 'done') l.run.status = before; // the end status is decided when the process has exited
    if (m.type === 'error' && m.fatal) l.failure = m.error.message + (m.error.detail ? `\n${m.error.detail}` : '');
    this.messages.fire({ runId: l.run.id, message: m });
    this.changed.fire(l.run);
  }

  /** A message too long to read (say an `eval` of thousands of classes from an older trainer) is not a crash. */
  private onOversizedLine(l: Live, o: OversizedLine): void {
    this.log(l.run, 'host', `warning: the trainer ${describeOversized(o)}. The run goes on without that message.`);
  }

  private finish(l: Live, code: number | null, signal: NodeJS.Signals | null): void {
    clearTimeout(l.killTimer);
    const run = l.run;
    if (!isActive(run.status)) return;
    const done = l.gotDone;
    if (done && !l.failure) {
      run.status = l.doneStatus ?? 'completed';
    } else if (l.requested === 'cancel' && !l.failure) {
      run.status = 'cancelled';
    } else {
      run.status = 'failed';
      const how = signal
        ? `was killed (${signal})`
        : code === 0
          ? 'exited without saying it was done'
          : `exited with code ${code}`;
      run.reason = l.failure ?? `The trainer ${how}.`;
      const tail = l.stderr.slice(-8);
      if (tail.length && !l.failure) run.reason += `\n${tail.join('\n')}`;
    }
    run.endedAt = Date.now();
    run.live = false;
    run.etaMs = null;
    this.log(
      run,
      'host',
      `run ${run.status}${run.reason ? `: ${run.reason.split('\n')[0]}` : ''} (exit ${signal ?? code})`,
    );
    l.resolveExited();
    this.changed.fire(run);
    this.ended.fire(run);
    this.pump();
  }

  private send(l: Live, m: HostMessage): void {
    if (l.child?.stdin?.writable) l.child.stdin.write(encodeMessage(m));
  }

  private kill(l: Live): void {
    const c = l.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill('SIGTERM');
    // A trainer stuck in native code may ignore SIGTERM.
    setTimeout(() => {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }, 3000).unref();
  }

  private setStatus(l: Live, s: RunInfo['status']): void {
    l.run.status = s;
    this.changed.fire(l.run);
  }

  private log(run: RunInfo, stream: 'stdout' | 'stderr' | 'host', line: string): void {
    this.options.log?.(run, stream, line);
  }
}

function untrusted(configPath: string): FineTuneError {
  return new FineTuneError('workspace-untrusted', 'Runs do not start in Restricted Mode.', {
    file: configPath,
    detail:
      'A run reads and writes the files its config names and may download models, so it needs a trusted workspace.',
    fix: 'Trust the workspace ("Workspaces: Manage Workspace Trust"), then start the run again.',
  });
}
