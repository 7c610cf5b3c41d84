/**
 * The JSON-lines protocol between the extension host (or the CLI) and the training subprocess.
 * Each message is declared once here; the TypeScript types are inferred from the guards, and both sides
 * validate what they receive with `parseTrainerMessage` / `parseHostMessage`.
 *
 * Bump PROTOCOL_VERSION on any incompatible change; the trainer says it first in `hello`.
 */
import { arr, bool, int, lazy, lit, nullable, num, obj, oneOf, opt, record, str, unknownValue } from './guard';
import type { Guard, Infer } from './guard';

export const PROTOCOL_VERSION = 1;

/** Environment variable the trainer reads: threads for training and evaluation in all (1: no worker threads). */
export const THREADS_ENV = 'FINETUNE_THREADS';

export const BACKEND_NAMES = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export const backendProbe = obj({ backend: str, available: bool, why: str });
export const backendInfo = obj({
  name: oneOf(BACKEND_NAMES),
  /** Why this one runs (e.g. "auto: tfjs-node-gpu not installed, tfjs-node not installed; WASM with SIMD"). */
  reason: str,
  tried: arr(backendProbe),
  threads: opt(int),
});
export type BackendInfo = Infer<typeof backendInfo>;

export interface ModuleNode {
  /** Last path component, e.g. `attention`. */
  name: string;
  /** Full dotted prefix of its parameters, e.g. `bert.encoder.layer.0.attention`. */
  path: string;
  total: number;
  trainable: number;
  /** Present on leaves: the parameter tensors themselves. */
  shape?: number[];
  children: ModuleNode[];
}
export const moduleNode: Guard<ModuleNode> = obj({
  name: str,
  path: str,
  total: int,
  trainable: int,
  shape: opt(arr(int)),
  children: arr(lazy(() => moduleNode)),
}) as Guard<ModuleNode>;

export const userError = obj({
  code: str,
  message: str,
  detail: opt(str),
  file: opt(str),
  line: opt(int),
  column: opt(int),
});

export const RUN_STATUSES = ['completed', 'stopped', 'cancelled', 'early-stopped', 'failed'] as const;
export type RunEndStatus = (typeof RUN_STATUSES)[number];

const perClass = obj({ label: str, precision: num, recall: num, f1: num, support: int });
/** A classification evaluation's tables, in an `eval` message and in `evaluate`'s result alike. */
export const evaluationTables = { labels: opt(arr(str)), confusion: opt(arr(arr(int))), perClass: opt(arr(perClass)) };

/** Messages the trainer sends. */
export const trainerMessages = {
  hello: obj({
    type: lit('hello'),
    protocolVersion: int,
    engineVersion: str,
    pid: int,
    backend: backendInfo,
  }),
  /** Sent once the run folder exists and the data is read: what the run will do. */
  plan: obj({
    type: lit('plan'),
    runId: str,
    runDir: str,
    mode: oneOf(['fine-tune', 'from-scratch'] as const),
    task: oneOf(['text-classification', 'masked-lm'] as const),
    totalSteps: int,
    stepsPerEpoch: int,
    epochs: num,
    trainExamples: int,
    evalExamples: int,
    labels: opt(arr(str)),
    resumedFromStep: opt(int),
  }),
  model: obj({
    type: lit('model'),
    tree: moduleNode,
    total: int,
    trainable: int,
    /** Parameters that were freshly initialised rather than loaded (e.g. a new classifier head). */
    newlyInitialized: arr(str),
  }),
  step: obj({
    type: lit('step'),
    step: int,
    epoch: num,
    /** null when the loss is not finite (diverged); the trainer also sends an `error`. */
    loss: nullable(num),
    learningRate: num,
    gradNorm: nullable(num),
    samplesPerSecond: num,
    tokensPerSecond: num,
    elapsedMs: num,
    etaMs: nullable(num),
  }),
  eval: obj({
    type: lit('eval'),
    step: int,
    epoch: num,
    split: oneOf(['validation', 'test'] as const),
    metrics: record(num),
    ...evaluationTables,
    isBest: bool,
    /** Evaluations without improvement so far, when early stopping is on. */
    patienceUsed: opt(int),
  }),
  checkpoint: obj({
    type: lit('checkpoint'),
    step: int,
    path: str,
    isBest: bool,
    /** Checkpoints removed by save_total_limit. */
    deleted: arr(str),
  }),
  /** A Hub file downloading (a few per second at most, and once when done): bytes so far of total. */
  download: obj({ type: lit('download'), repo: str, file: str, bytes: int, total: int }),
  log: obj({ type: lit('log'), level: oneOf(['debug', 'info', 'warn', 'error'] as const), message: str }),
  error: obj({ type: lit('error'), error: userError, fatal: bool }),
  /** Answer to a one-shot `evaluate` or `predict` command. */
  result: obj({ type: lit('result'), command: oneOf(['evaluate', 'predict'] as const), value: unknownValue }),
  done: obj({
    type: lit('done'),
    status: oneOf(RUN_STATUSES),
    step: int,
    bestMetric: opt(num),
    bestCheckpoint: opt(str),
    lastCheckpoint: opt(str),
    finalMetrics: opt(record(num)),
    elapsedMs: num,
  }),
} as const;

export type TrainerMessageType = keyof typeof trainerMessages;
export type TrainerMessage = { [K in TrainerMessageType]: Infer<(typeof trainerMessages)[K]> }[TrainerMessageType];
export type TrainerMessageOf<K extends TrainerMessageType> = Infer<(typeof trainerMessages)[K]>;

/** Messages the host sends. */
export const hostMessages = {
  /** Finish the current step, save a checkpoint, exit with status `stopped`. */
  stop: obj({ type: lit('stop') }),
  /** Save a checkpoint after the current step and go on. */
  save_now: obj({ type: lit('save_now') }),
  /** Stop as soon as possible without saving. */
  cancel: obj({ type: lit('cancel') }),
} as const;
export type HostMessageType = keyof typeof hostMessages;
export type HostMessage = { [K in HostMessageType]: Infer<(typeof hostMessages)[K]> }[HostMessageType];

export type ParseResult<T> = { ok: true; message: T } | { ok: false; error: string };

function parseWith<T>(table: Record<string, Guard<unknown>>, line: string): ParseResult<T> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, error: `not JSON: ${line.slice(0, 200)}` };
  }
  if (typeof value !== 'object' || value === null || typeof (value as { type?: unknown }).type !== 'string') {
    return { ok: false, error: `message without a "type": ${line.slice(0, 200)}` };
  }
  const type = (value as { type: string }).type;
  const guard = Object.prototype.hasOwnProperty.call(table, type) ? table[type] : undefined;
  if (!guard) return { ok: false, error: `unknown message type "${type}"` };
  const problem = guard.check(value);
  return problem ? { ok: false, error: `invalid "${type}" message: ${problem}` } : { ok: true, message: value as T };
}

export function parseTrainerMessage(line: string): ParseResult<TrainerMessage> {
  return parseWith<TrainerMessage>(trainerMessages, line);
}
export function parseHostMessage(line: string): ParseResult<HostMessage> {
  return parseWith<HostMessage>(hostMessages, line);
}

/** One line of the wire format. `NaN`/`Infinity` never reach JSON: callers send null for those. */
export function encodeMessage(m: TrainerMessage | HostMessage): string {
  return JSON.stringify(m) + '\n';
}

/**
 * Splits a byte stream into lines, so that a message cut across two `data` events is parsed whole.
 * Lines longer than `maxLine` are reported as errors rather than buffered forever.
 */
export class LineSplitter {
  private buffer = '';
  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLine = 16 * 1024 * 1024,
  ) {}
  push(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      if (line.trim()) this.onLine(line);
    }
    if (this.buffer.length > this.maxLine) {
      this.onLine(this.buffer.slice(0, 200) + '… (line too long)');
      this.buffer = '';
    }
  }
  /** Flushes a last line that had no newline. */
  end(): void {
    if (this.buffer.trim()) this.onLine(this.buffer);
    this.buffer = '';
  }
}
