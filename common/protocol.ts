/**
 * The JSON-lines protocol between the extension host (or the CLI) and the training subprocess.
 * Each message is declared once here; the TypeScript types are inferred from the guards, and both sides
 * validate what they receive with `parseTrainerMessage` / `parseHostMessage`.
 *
 * Bump PROTOCOL_VERSION on any incompatible change; the trainer says it first in `hello`.
 */
import {
  arr,
  bool,
  count,
  jsonValue,
  lazy,
  lit,
  nonNegative,
  nullable,
  num,
  obj,
  oneOf,
  opt,
  record,
  refine,
  shortStr,
  str,
} from './guard';
import type { Guard, Infer } from './guard';

export const PROTOCOL_VERSION = 1;

/** Environment variable the trainer reads: threads for training and evaluation in all (1: no worker threads). */
export const THREADS_ENV = 'FINETUNE_THREADS';

/**
 * Environment variable the trainer reads: the WebGPU adapter to use, `auto` or a substring of its name (the
 * `finetune.gpu` setting).
 */
export const GPU_ENV = 'FINETUNE_GPU';

export const BACKEND_NAMES = ['webgpu', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export const backendProbe = obj({ backend: str, available: bool, why: str });
/** The WebGPU adapter a run uses, with the limits that bound the model size (bytes). */
export const gpuAdapterInfo = obj({
  vendor: str,
  architecture: str,
  description: str,
  software: bool,
  maxBufferSize: num,
  maxStorageBufferBindingSize: num,
});
export const backendInfo = obj({
  name: oneOf(BACKEND_NAMES),
  /** Why this one runs (e.g. "auto: tfjs-node-gpu not installed, tfjs-node not installed; WASM with SIMD"). */
  reason: str,
  tried: arr(backendProbe),
  threads: opt(count),
  adapter: opt(gpuAdapterInfo),
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
/** A part of a model holds at most what it holds in all. */
const trainableWithinTotal = (n: { total: number; trainable: number }) =>
  n.trainable <= n.total ? undefined : `trainable (${n.trainable}) is more than total (${n.total})`;
/** A BERT module tree is about ten levels deep; `lazy` refuses anything past MAX_NESTING instead of recursing. */
export const moduleNode: Guard<ModuleNode> = refine(
  obj({
    name: str,
    path: str,
    total: count,
    trainable: count,
    shape: opt(arr(count)),
    children: arr(lazy(() => moduleNode)),
  }) as Guard<ModuleNode>,
  trainableWithinTotal,
);

export const userError = obj({
  code: str,
  message: str,
  detail: opt(str),
  file: opt(str),
  line: opt(count),
  column: opt(count),
});

export const RUN_STATUSES = ['completed', 'stopped', 'cancelled', 'early-stopped', 'failed'] as const;
export type RunEndStatus = (typeof RUN_STATUSES)[number];

/**
 * Per-class detail is bounded, so that an evaluation stays a small message whatever the number of labels (a
 * `label_column` pointing at free text once gave 2,900 classes and an `eval` line over the line limit).
 * Up to `confusionUpTo` classes an evaluation carries every label, the confusion matrix and every class's metrics;
 * beyond, no matrix, and the `perClassTop` classes with the most support. Label names are cut to `labelChars`.
 * The trainer enforces this when it builds the message (trainer/engine/evaluate.ts); the guard refuses more.
 */
export const CLASS_DETAIL = { confusionUpTo: 100, perClassTop: 100, labelChars: 200 } as const;

const label = shortStr(CLASS_DETAIL.labelChars);
const perClass = obj({ label, precision: num, recall: num, f1: num, support: count });
/** A classification evaluation's tables, in an `eval` message and in `evaluate`'s result alike. */
export const evaluationTables = {
  labels: opt(arr(label, CLASS_DETAIL.confusionUpTo)),
  confusion: opt(arr(arr(count, CLASS_DETAIL.confusionUpTo), CLASS_DETAIL.confusionUpTo)),
  perClass: opt(arr(perClass, Math.max(CLASS_DETAIL.confusionUpTo, CLASS_DETAIL.perClassTop))),
  /** How many classes there are in all, when `perClass` holds only the top ones. */
  classes: opt(count),
};

/** The cross-field rule of `evaluationTables`: the matrix is labels × labels, confusion[true][predicted]. */
export function confusionMatchesLabels(t: { labels?: string[]; confusion?: number[][] }): string | undefined {
  if (!t.confusion) return undefined;
  const k = t.labels?.length;
  if (k === undefined) return 'confusion: a confusion matrix needs its labels';
  if (t.confusion.length !== k) return `confusion: ${t.confusion.length} rows for ${k} labels`;
  const ragged = t.confusion.findIndex((row) => row.length !== k);
  return ragged < 0 ? undefined : `confusion[${ragged}]: ${t.confusion[ragged]!.length} columns for ${k} labels`;
}

/**
 * The rows a one-shot `evaluate` shows of a classification, so that a user sees what the model got wrong: the
 * misclassified first (in file order), then the others, at most `max`; each text (both of a pair) cut to `textChars`.
 */
export const EVAL_ROWS = { max: 20, textChars: 500 } as const;
const rowText = shortStr(EVAL_ROWS.textChars);
export const evaluationRow = obj({
  /** The row's 1-based line in the data file. */
  line: count,
  text: rowText,
  textPair: opt(rowText),
  label,
  predicted: label,
  /** The model's probability of `predicted`. */
  probability: num,
});
export type EvaluationRow = Infer<typeof evaluationRow>;

/** What `evaluate` answers (trainer/engine/evaluate.ts EvalResult): metrics over `examples`, tables for classes. */
export const evaluationResultFields = {
  metrics: record(num),
  ...evaluationTables,
  examples: count,
  rows: opt(arr(evaluationRow, EVAL_ROWS.max)),
};
/**
 * What `predict` answers: the label and every label's probability (the trainer may add tensors for debugging).
 * Regression: `label` is the value as text, `value` the number, no probabilities. Multi-label: `labels` are the
 * labels above the threshold, `label` them joined, and each probability is its own sigmoid.
 */
export const predictionResult = obj({
  label: str,
  probabilities: record(num),
  value: opt(num),
  labels: opt(arr(str)),
});
const resultValues = { evaluate: obj(evaluationResultFields), predict: predictionResult } as const;
export type ResultCommand = keyof typeof resultValues;
export type ResultValue<C extends ResultCommand> = Infer<(typeof resultValues)[C]>;

/** A `result` message's value, checked by the guard of the command it answers. */
export function checkResult<C extends ResultCommand>(command: C, value: unknown): ParseResult<ResultValue<C>> {
  const problem = resultValues[command].check(value, `${command} result`);
  return problem ? { ok: false, error: problem } : { ok: true, message: value as ResultValue<C> };
}

/**
 * What a `step` message measures, declared once: the metrics panel keeps one column per field
 * (common/runSeries.ts) and the webview protocol checks those columns with the same guards.
 */
export const stepFields = {
  step: count,
  epoch: nonNegative,
  /** null when the loss is not finite (diverged); the trainer also sends an `error`. */
  loss: nullable(num),
  learningRate: nonNegative,
  gradNorm: nullable(nonNegative),
  samplesPerSecond: nonNegative,
  tokensPerSecond: nonNegative,
  elapsedMs: nonNegative,
} as const;

/** Messages the trainer sends. */
export const trainerMessages = {
  hello: obj({
    type: lit('hello'),
    protocolVersion: count,
    engineVersion: str,
    pid: count,
    backend: backendInfo,
  }),
  /** Sent once the run folder exists and the data is read: what the run will do. */
  plan: obj({
    type: lit('plan'),
    runId: str,
    runDir: str,
    mode: oneOf(['fine-tune', 'from-scratch'] as const),
    task: oneOf(['text-classification', 'masked-lm'] as const),
    totalSteps: count,
    stepsPerEpoch: count,
    epochs: nonNegative,
    trainExamples: count,
    evalExamples: count,
    labels: opt(arr(str)),
    resumedFromStep: opt(count),
    /** The metric that decides the best checkpoint, without `eval_`; optional so that older runs' plans parse. */
    metricForBestModel: opt(str),
    greaterIsBetter: opt(bool),
  }),
  model: refine(
    obj({
      type: lit('model'),
      tree: moduleNode,
      total: count,
      trainable: count,
      /** Parameters that were freshly initialised rather than loaded (e.g. a new classifier head). */
      newlyInitialized: arr(str),
    }),
    trainableWithinTotal,
  ),
  step: obj({ type: lit('step'), ...stepFields, etaMs: nullable(nonNegative) }),
  eval: refine(
    obj({
      type: lit('eval'),
      step: count,
      epoch: nonNegative,
      split: oneOf(['validation', 'test'] as const),
      metrics: record(num),
      ...evaluationTables,
      isBest: bool,
      /** Evaluations without improvement so far, when early stopping is on. */
      patienceUsed: opt(count),
    }),
    confusionMatchesLabels,
  ),
  checkpoint: obj({
    type: lit('checkpoint'),
    step: count,
    path: str,
    isBest: bool,
    /** Checkpoints removed by save_total_limit. */
    deleted: arr(str),
  }),
  /** A Hub file downloading (a few per second at most, and once when done): bytes so far of total. */
  download: refine(obj({ type: lit('download'), repo: str, file: str, bytes: count, total: count }), (m) =>
    m.bytes <= m.total ? undefined : `bytes (${m.bytes}) is more than total (${m.total})`,
  ),
  log: obj({ type: lit('log'), level: oneOf(['debug', 'info', 'warn', 'error'] as const), message: str }),
  error: obj({ type: lit('error'), error: userError, fatal: bool }),
  /** Answer to a one-shot `evaluate` or `predict` command; its value is checked with `checkResult`. */
  result: obj({ type: lit('result'), command: oneOf(['evaluate', 'predict'] as const), value: jsonValue() }),
  done: obj({
    type: lit('done'),
    status: oneOf(RUN_STATUSES),
    step: count,
    bestMetric: opt(num),
    bestCheckpoint: opt(str),
    lastCheckpoint: opt(str),
    finalMetrics: opt(record(num)),
    elapsedMs: nonNegative,
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
  /**
   * The texts for `predict` started without `--text`: text a user typed never travels as argv, where a sentence
   * such as "--help me" would read as a flag.
   */
  predict_input: obj({ type: lit('predict_input'), text: str, textPair: opt(str) }),
} as const;
export type HostMessageType = keyof typeof hostMessages;
export type HostMessage = { [K in HostMessageType]: Infer<(typeof hostMessages)[K]> }[HostMessageType];
export type HostMessageOf<K extends HostMessageType> = Infer<(typeof hostMessages)[K]>;

export type ParseResult<T> = { ok: true; message: T } | { ok: false; error: string };

/** The longest line each side reads: a trainer's `eval` or `model` can be large, a host's messages never are. */
export const MAX_TRAINER_LINE = 16 * 1024 * 1024;
export const MAX_HOST_LINE = 64 * 1024;

/** How much of a refused line a reason quotes. */
const QUOTED = 200;

function validateWith<T>(table: Record<string, Guard<unknown>>, value: unknown, raw: () => string): ParseResult<T> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: `message without a "type": ${raw()}` };
  }
  const own = Object.prototype.hasOwnProperty.call(value, 'type');
  const type: unknown = own ? (value as { type: unknown }).type : undefined;
  if (typeof type !== 'string') return { ok: false, error: `message without a "type": ${raw()}` };
  const guard = Object.prototype.hasOwnProperty.call(table, type) ? table[type] : undefined;
  if (!guard) return { ok: false, error: `unknown message type ${JSON.stringify(type.slice(0, QUOTED))}` };
  const problem = guard.check(value);
  return problem ? { ok: false, error: `invalid "${type}" message: ${problem}` } : { ok: true, message: value as T };
}

function parseWith<T>(table: Record<string, Guard<unknown>>, line: string): ParseResult<T> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, error: `not JSON: ${line.slice(0, QUOTED)}` };
  }
  return validateWith<T>(table, value, () => line.slice(0, QUOTED));
}

export function parseTrainerMessage(line: string): ParseResult<TrainerMessage> {
  return parseWith<TrainerMessage>(trainerMessages, line);
}
export function parseHostMessage(line: string): ParseResult<HostMessage> {
  return parseWith<HostMessage>(hostMessages, line);
}
/** A host message that arrived already parsed (the IPC channel). */
export function checkHostMessage(value: unknown): ParseResult<HostMessage> {
  return validateWith<HostMessage>(hostMessages, value, () => String(typeof value).slice(0, QUOTED));
}

/** One line of the wire format. `NaN`/`Infinity` never reach JSON: callers send null for those. */
export function encodeMessage(m: TrainerMessage | HostMessage): string {
  return JSON.stringify(m) + '\n';
}

/** A line over the splitter's limit: skipped, and described by its length and first characters. */
export interface OversizedLine {
  /** Characters read of it (all of it once its end came). */
  length: number;
  /** Its first characters, to say what it was. */
  head: string;
}

export interface LineSplitterOptions {
  /** The longest line passed on, in characters; default MAX_TRAINER_LINE. */
  maxLine?: number;
  /** Called once per skipped line, when its end arrives (or at `end()`). Without it, such lines are dropped. */
  onOversized?: (line: OversizedLine) => void;
}

/** The text a peer's log shows for a skipped line. */
export function describeOversized(o: OversizedLine, maxLine = MAX_TRAINER_LINE): string {
  const size =
    maxLine >= 1024 * 1024 ? `${+(maxLine / (1024 * 1024)).toFixed(1)} MiB` : `${+(maxLine / 1024).toFixed(1)} KiB`;
  return `skipped a line of ${o.length} characters (over the protocol's limit of ${size}): ${o.head}…`;
}

/**
 * Splits a stream into lines, so that a message cut across two `data` events is parsed whole. Chunks are strings,
 * or bytes decoded here as UTF-8 (a character split across chunks is joined; invalid bytes become U+FFFD).
 * A line longer than `maxLine` is never buffered whole nor passed on as a line: it is skipped up to its end and
 * reported to `onOversized`, and the lines after it are read as usual. Each chunk is scanned once.
 */
export class LineSplitter {
  private parts: string[] = [];
  private pending = 0;
  private skipping: OversizedLine | undefined;
  private readonly decoder = new TextDecoder('utf-8');
  private readonly maxLine: number;
  private readonly onOversized: ((line: OversizedLine) => void) | undefined;

  constructor(
    private readonly onLine: (line: string) => void,
    options: LineSplitterOptions = {},
  ) {
    this.maxLine = options.maxLine ?? MAX_TRAINER_LINE;
    this.onOversized = options.onOversized;
  }

  push(chunk: string | Uint8Array): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
      this.append(text.slice(from, nl));
      this.emit();
      from = nl + 1;
    }
    this.append(from ? text.slice(from) : text);
  }

  /** Flushes a last line that had no newline (and bytes of an unfinished character, as U+FFFD). */
  end(): void {
    this.append(this.decoder.decode());
    this.emit();
  }

  private append(piece: string): void {
    if (!piece) return;
    if (this.skipping) {
      this.skipping.length += piece.length;
      return;
    }
    this.parts.push(piece);
    this.pending += piece.length;
    if (this.pending > this.maxLine) {
      this.skipping = { length: this.pending, head: this.head() };
      this.parts = [];
      this.pending = 0;
    }
  }

  private head(): string {
    let head = '';
    for (const p of this.parts) {
      head += p.slice(0, 200 - head.length);
      if (head.length >= 200) break;
    }
    return head;
  }

  private emit(): void {
    const skipped = this.skipping;
    if (skipped) {
      this.skipping = undefined;
      this.onOversized?.(skipped);
      return;
    }
    let line = this.parts.length === 1 ? this.parts[0]! : this.parts.join('');
    this.parts = [];
    this.pending = 0;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim()) this.onLine(line);
  }
}
