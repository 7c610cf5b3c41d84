/**
 * `engine: pytorch`: the TypeScript trainer plans the run and opens its folder as it always does, prepares the
 * job (job.ts), then starts the PyTorch worker (python/finetune_worker) — under `torchrun` when `distributed`
 * asks for several processes — and relays its messages. Each line the worker prints is checked with the
 * protocol's guards before it is recorded (metrics.jsonl, run.json) or passed on to the host; the host's
 * stop / save_now / cancel go to the worker's stdin; its `eval_outputs` become metrics here (evaluate.ts).
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { encodeEvalMetrics, EvalCollector } from './evalRelay';
import { FineTuneError } from '../../common/errors';
import { parseWorkerMessage } from '../../common/engineJob';
import type { EngineJob, WorkerMessage } from '../../common/engineJob';
import { LineSplitter } from '../../common/protocol';
import { writeFileAtomic } from '../../common/atomicWrite';
import { MODEL_CARD_FILE, modelCardFacts, modelCardText } from '../../common/runFolder/modelCard';
import { readTrainerStateFile } from '../../common/runFolder/trainerState';
import type { TrainerMessage, TrainerMessageOf } from '../../common/protocol';
import type { UserError } from '../../common/errors';
import type { RunFolder } from '../engine/runFolder';
import type { TrainOptions } from '../engine/trainOptions';
import { openRun, planData } from '../engine/trainPlan';
import type { RunOutput } from '../engine/trainSession';
import { prepareJob, worldPlan } from './job';
import { probePython } from '../../files/pythonProbe';
import type { PythonProbe } from '../../files/pythonProbe';
import { workerRoot } from './python';

type Done = TrainerMessageOf<'done'>;

export async function trainWithPytorch(o: TrainOptions, created: (rf: RunFolder) => void): Promise<Done> {
  const t0 = Date.now();
  const python = await probePython();
  const dist = o.loaded.config.distributed;
  const world = dist.nproc_per_node * dist.nnodes;
  const data = await planData(o);
  const problemType = data.labels?.problemType ?? 'single_label_classification';
  if (problemType !== 'single_label_classification') {
    data.hub.dispose();
    throw new FineTuneError('engine-task-unsupported', `engine: pytorch does not train ${problemType} yet`, {
      file: o.loaded.file,
      fix: 'Use engine: tfjs for regression and multi-label classification.',
    });
  }
  data.plan = worldPlan(data, world);
  const { out, resume } = await openRun(o, data, created);
  await out.rf.update({ backend: backendOf(python, world, o) });
  const { job, file } = await prepareJob(o, data, out, resume, t0);
  return runWorker(o, python, job, file, out);
}

function backendOf(p: PythonProbe, world: number, o: TrainOptions) {
  const device = p.cuda ? `CUDA (${p.deviceName ?? 'GPU'}, ${p.devices} visible)` : 'CPU';
  const models = p.transformers ? `transformers ${p.transformers}` : 'the built-in BERT (no transformers)';
  return {
    ...o.backend,
    reason: `engine: pytorch: torch ${p.torch} on ${device}, ${world} process${world > 1 ? 'es' : ''}, ${models}; Python ${p.python} (${p.executable})`,
  };
}

/**
 * The worker's command line: one process, or torchrun — this Python's torch.distributed.run, through
 * python/finetune_worker/launch.py, which mends torch 1.13's torchrun under Python 3.11.
 */
export function workerCommand(
  python: string,
  jobFile: string,
  d: TrainOptions['loaded']['config']['distributed'],
): string[] {
  const worker = ['-m', 'finetune_worker', jobFile];
  if (d.nproc_per_node * d.nnodes === 1) return [python, ...worker];
  return [
    python,
    '-m',
    'finetune_worker.launch',
    `--nproc_per_node=${d.nproc_per_node}`,
    `--nnodes=${d.nnodes}`,
    `--node_rank=${d.node_rank}`,
    `--master_addr=${d.master_addr}`,
    `--master_port=${d.master_port}`,
    ...worker,
  ];
}

async function runWorker(
  o: TrainOptions,
  python: PythonProbe,
  job: EngineJob,
  file: string,
  out: RunOutput,
): Promise<Done> {
  const [cmd, ...args] = workerCommand(python.executable, file, o.loaded.config.distributed);
  const root = workerRoot();
  const env = {
    ...process.env,
    PYTHONPATH: [root, process.env.PYTHONPATH].filter(Boolean).join(pathSep()),
    PYTHONUNBUFFERED: '1',
  };
  const child = spawn(cmd!, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const relay = new Relay(o, job, out, child);
  const stopControl = forwardControl(o, child);
  try {
    const code = await relay.finished();
    await relay.drained();
    return relay.outcome(code);
  } finally {
    stopControl();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

function pathSep(): string {
  return process.platform === 'win32' ? ';' : ':';
}

/** Polls the host's flags (set by main.ts from stdin) and passes each on once; the worker checks after a step. */
function forwardControl(o: TrainOptions, child: ChildProcess): () => void {
  const sent = { stop: false, saveNow: false, cancel: false };
  const timer = setInterval(() => {
    const c = o.control;
    const send = (type: string) => child.stdin?.write(JSON.stringify({ type }) + '\n');
    if (c.stop && !sent.stop) ((sent.stop = true), send('stop'));
    if (c.cancel && !sent.cancel) ((sent.cancel = true), send('cancel'));
    if (c.saveNow) ((c.saveNow = false), send('save_now'));
  }, 100);
  return () => clearInterval(timer);
}

/** Reads the worker's stdout and stderr, checks and relays each message, and keeps what the end needs. */
class Relay {
  private done: Done | undefined;
  private error: UserError | undefined;
  private invalid: string | undefined;
  private readonly stderrTail: string[] = [];
  private readonly evals: EvalCollector;
  private pending: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    private readonly o: TrainOptions,
    private readonly job: EngineJob,
    private readonly out: RunOutput,
    private readonly child: ChildProcess,
  ) {
    this.evals = new EvalCollector(job);
    const lines = new LineSplitter((l) => this.onLine(l));
    child.stdout!.on('data', (b: Buffer) => lines.push(b));
    child.stdout!.on('end', () => lines.end());
    const errLines = new LineSplitter((l) => this.onStderr(l), { maxLine: 64 * 1024 });
    child.stderr!.on('data', (b: Buffer) => errLines.push(b));
  }

  finished(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.child.once('error', (e) => reject(new FineTuneError('python-missing', `could not start ${e.message}`)));
      this.child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
  }

  private onStderr(line: string): void {
    this.out.rf.log(`worker: ${line}`);
    this.stderrTail.push(line);
    if (this.stderrTail.length > 30) this.stderrTail.shift();
  }

  private onLine(line: string): void {
    const parsed = parseWorkerMessage(line);
    if (!parsed.ok) {
      // A worker that breaks the protocol is a bug: the run stops rather than record what it cannot check.
      this.invalid ??= parsed.error;
      this.child.kill('SIGTERM');
      return;
    }
    // In order: run.json and metrics.jsonl must see `done` after the checkpoint before it.
    this.pending = this.pending
      .then(() => this.handle(parsed.message))
      .catch((e: unknown) => {
        // The run folder could not be written (a full disk): the worker stops, and the error is the run's.
        this.failure ??= e;
        this.child.kill('SIGTERM');
      });
  }

  /** Resolves once every message read so far has been relayed and recorded. */
  drained(): Promise<void> {
    return this.pending;
  }

  private async handle(m: WorkerMessage): Promise<void> {
    if (m.type === 'eval_outputs') {
      const reply = this.evals.add(m);
      if (reply) this.child.stdin?.write(encodeEvalMetrics(reply));
      return;
    }
    await this.relay(m);
  }

  private async relay(m: TrainerMessage): Promise<void> {
    const rf = this.out.rf;
    switch (m.type) {
      case 'log':
        if (m.level === 'info' || m.level === 'warn') this.out.log(m.level, m.message);
        else this.out.emit(m);
        return;
      case 'error':
        this.error = m.error;
        return;
      case 'done':
        this.done = m;
        this.out.emit(m);
        await rf.update({ status: m.status, step: m.step, endedAt: new Date().toISOString() });
        return;
      case 'checkpoint': {
        await this.writeCard(m.path);
        this.out.emit(m);
        const checkpoints = [...rf.info.checkpoints.filter((c) => c !== m.path && !m.deleted.includes(c)), m.path];
        await rf.update({
          step: m.step,
          checkpoints,
          lastCheckpoint: m.path,
          ...(m.isBest ? { bestCheckpoint: m.path } : {}),
        });
        return;
      }
      case 'eval':
        this.out.emit(m);
        if (m.isBest && m.split === 'validation') {
          const metric = this.evals.metricName;
          const value = m.metrics[metric];
          if (value !== undefined) await rf.update({ bestMetric: value, metricForBestModel: metric });
        }
        return;
      default:
        this.out.emit(m);
    }
  }

  /**
   * The worker writes the model folder; the card (README.md) is written here, from the same facts as the
   * TypeScript engine's (common/runFolder/modelCard.ts), so that one renderer serves both engines.
   */
  private async writeCard(dir: string): Promise<void> {
    const inside = path.relative(this.out.rf.dir, dir);
    if (inside.startsWith('..') || path.isAbsolute(inside))
      throw new Error(`checkpoint outside the run folder: ${dir}`);
    try {
      const state = await readTrainerStateFile(dir);
      const card = modelCardText(
        modelCardFacts(this.o.loaded.config, this.job.configJson, state, path.basename(this.out.rf.dir)),
      );
      await writeFileAtomic(path.join(dir, MODEL_CARD_FILE), card);
    } catch (e) {
      // The worker runs ahead of this relay: with save_total_limit it may have pruned the folder already.
      if (
        await fs.stat(dir).then(
          () => true,
          () => false,
        )
      )
        throw e;
    }
  }

  outcome(code: number): Done {
    if (this.failure) throw this.failure;
    if (this.invalid) {
      throw new FineTuneError(
        'engine-protocol',
        `the PyTorch worker sent a message the protocol refuses: ${this.invalid}`,
        {
          fix: 'Use the worker shipped with this version of Fine-Tune Studio; report it if it persists.',
        },
      );
    }
    if (this.done) return this.done;
    if (this.error) throw new FineTuneError(this.error.code, this.error.message, wireExtras(this.error));
    const tail = this.stderrTail.slice(-12).join('\n');
    throw new FineTuneError('engine-worker-died', `the PyTorch worker exited with code ${code} before the run ended`, {
      detail: tail,
      fix: "Read the worker's last lines above (and train.log in the run folder); a killed worker may be out of memory.",
    });
  }
}

function wireExtras(e: UserError): { detail?: string; fix?: string; file?: string } {
  return {
    ...(e.detail !== undefined ? { detail: e.detail } : {}),
    ...(e.fix !== undefined ? { fix: e.fix } : {}),
    ...(e.file !== undefined ? { file: e.file } : {}),
  };
}
