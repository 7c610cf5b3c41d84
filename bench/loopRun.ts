/**
 * Runs one training-loop case as the extension and the CLI do: the trainer subprocess (trainer/main.ts, or
 * the dist/trainer.js bundle) with `train <config>`, which for `engine: pytorch` starts the Python worker
 * itself (trainer/pytorch/bridge.ts). Reads the protocol from its stdout, samples the process tree's memory,
 * and notes when each kind of message first arrived (start-up: Node + tfjs, and Python + torch).
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { LineSplitter, THREADS_ENV, parseTrainerMessage } from '../common/protocol';
import type { TrainerMessage } from '../common/protocol';
import { PYTHON_ENV } from '../files/pythonProbe';
import { TreeSampler, treePids } from './processTree';
import type { TreeMemory } from './processTree';
import type { TimedStep } from './loopStats';

const ROOT = path.resolve(__dirname, '..');
/** Grace after SIGTERM (the trainer's `stop`) before the tree is killed. */
const KILL_GRACE_MS = 10_000;

export interface LoopProcessSpec {
  configFile: string;
  /** `FINETUNE_THREADS` of the trainer, and `OMP_NUM_THREADS` (torch's intra-op threads) of its worker. */
  threads: number;
  /** The Python the PyTorch engine runs on (`FINETUNE_PYTHON`). */
  python?: string;
  /** Run the built bundle (what the extension forks) instead of the TypeScript source through tsx. */
  dist: boolean;
  timeoutMs: number;
}

export interface LoopProcessResult {
  exitCode: number | null;
  timedOut: boolean;
  messages: TrainerMessage[];
  steps: TimedStep[];
  /** ms from spawn to the first message of each type; `worker` is the PyTorch worker's first line. */
  marks: Record<string, number>;
  /** The run's `error` messages, and stdout lines that were not protocol messages. */
  errors: string[];
  stderrTail: string;
  memory: TreeMemory | null;
}

export function trainerEntry(dist: boolean): string[] {
  return dist ? [path.join(ROOT, 'dist', 'trainer.js')] : ['--import', 'tsx', path.join(ROOT, 'trainer', 'main.ts')];
}

/** The trainer's environment: the same thread count for both engines, printed with the rows. */
export function loopEnv(spec: LoopProcessSpec): NodeJS.ProcessEnv {
  return {
    ...process.env,
    [THREADS_ENV]: String(spec.threads),
    OMP_NUM_THREADS: String(spec.threads),
    // Passive OpenMP waiting, as for the model-step cases (run.ts): spinning threads on shared cores are ~10x slower.
    OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE',
    ...(spec.python ? { [PYTHON_ENV]: spec.python } : {}),
  };
}

export function runLoopProcess(spec: LoopProcessSpec): Promise<LoopProcessResult> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [...trainerEntry(spec.dist), 'train', spec.configFile], {
    cwd: ROOT,
    env: loopEnv(spec),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const sampler = new TreeSampler(child.pid ?? -1).start();
  const r: LoopProcessResult = {
    exitCode: null,
    timedOut: false,
    messages: [],
    steps: [],
    marks: {},
    errors: [],
    stderrTail: '',
    memory: null,
  };
  const mark = (name: string) => (r.marks[name] ??= Math.round(performance.now() - t0));
  const lines = new LineSplitter((line) => onLine(line));
  function onLine(line: string): void {
    const p = parseTrainerMessage(line);
    if (!p.ok) return void r.errors.push(`not a protocol message: ${p.error}`);
    const m = p.message;
    r.messages.push(m);
    mark(m.type);
    if (m.type === 'log' && m.message.startsWith('PyTorch engine')) mark('worker');
    if (m.type === 'error') r.errors.push(`${m.error.code}: ${m.error.message}`);
    if (m.type === 'step' && m.loss !== null) {
      const { step, elapsedMs, samplesPerSecond, tokensPerSecond } = m;
      r.steps.push({ step, elapsedMs, samplesPerSecond, tokensPerSecond, cpuS: sampler.cpuSeconds() });
    }
  }
  child.stdout.on('data', (b: Buffer) => lines.push(b));
  child.stderr.on('data', (b: Buffer) => (r.stderrTail = (r.stderrTail + b.toString()).slice(-4000)));
  const timer = setTimeout(() => {
    r.timedOut = true;
    stopTree(child.pid);
  }, spec.timeoutMs);
  return new Promise((resolve) => {
    child.on('error', (e) => r.errors.push(`could not start the trainer: ${e.message}`));
    child.on('close', (code) => {
      clearTimeout(timer);
      lines.end();
      r.exitCode = code;
      r.memory = sampler.stop();
      resolve(r);
    });
  });
}

/** SIGTERM (the trainer stops its worker), then SIGKILL to every process of the tree still there. */
function stopTree(root: number | undefined): void {
  if (root === undefined) return;
  const pids = TreeSampler.available ? treePids(root) : [root];
  signal(root, 'SIGTERM');
  setTimeout(() => pids.forEach((pid) => signal(pid, 'SIGKILL')), KILL_GRACE_MS).unref();
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone: it ended on its own or with the SIGTERM.
  }
}
