/**
 * Messages between the extension host and the webview panels, declared once with guards so that both sides
 * validate what they receive (a webview is a browser page: the host trusts nothing it posts).
 *
 * The exchange (after GitLens' webview architecture):
 *   webview → host  `ready`                       once its script runs (also after a reload)
 *   host → webview  `snapshot` {seq, state}       the complete state of the panel
 *   host → webview  `append`   {seq, item}        one change; seq = previous seq + 1
 *   webview → host  `resync`   {lastSeq}          when it sees a gap; the host answers with a new snapshot
 *   webview → host  `command`  {name, args, id?}  a user action; with an id the host answers `reply` {id, ...}
 * A hidden panel is sent nothing: the host drops its appends and sends a fresh snapshot when it is shown again.
 */
import { downloadState } from './downloadProgress';
import { arr, bool, int, lit, num, obj, oneOf, opt, record, str, unknownValue, nullable } from './guard';
import type { Guard, Infer } from './guard';
import { evaluationResultFields, moduleNode, predictionResult, stepFields, trainerMessages } from './protocol';
import type { TrainerMessage } from './protocol';

export const PANEL_KINDS = ['metrics', 'freeze', 'checkpoints'] as const;
export type PanelKind = (typeof PANEL_KINDS)[number];

// ---- the envelope -------------------------------------------------------------------------------------------

export const hostToWebview = {
  snapshot: obj({ type: lit('snapshot'), seq: int, state: unknownValue }),
  append: obj({ type: lit('append'), seq: int, item: unknownValue }),
  reply: obj({ type: lit('reply'), id: int, ok: bool, value: opt(unknownValue), error: opt(str) }),
} as const;
export type HostToWebview = {
  [K in keyof typeof hostToWebview]: Infer<(typeof hostToWebview)[K]>;
}[keyof typeof hostToWebview];

export const webviewToHost = {
  ready: obj({ type: lit('ready') }),
  resync: obj({ type: lit('resync'), lastSeq: int }),
  command: obj({ type: lit('command'), name: str, args: unknownValue, id: opt(int) }),
} as const;
export type WebviewToHost = {
  [K in keyof typeof webviewToHost]: Infer<(typeof webviewToHost)[K]>;
}[keyof typeof webviewToHost];

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

function checkTagged<T>(table: Record<string, Guard<unknown>>, value: unknown, what: string): Checked<T> {
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(table, type)) {
    return { ok: false, error: `${what}: unknown message type ${JSON.stringify(type)}` };
  }
  const problem = table[type]!.check(value);
  return problem ? { ok: false, error: `${what} "${type}": ${problem}` } : { ok: true, value: value as T };
}

export const checkHostToWebview = (v: unknown) => checkTagged<HostToWebview>(hostToWebview, v, 'host message');
export const checkWebviewToHost = (v: unknown) => checkTagged<WebviewToHost>(webviewToHost, v, 'webview message');

// ---- commands ----------------------------------------------------------------------------------------------------

/**
 * One command a page may send: the guard of its arguments and of the host's reply. A notice is fire-and-forget
 * (its reply is nothing); a request is answered with a `reply` that the page checks with `reply` before use.
 */
export interface CommandSpec<A, R> {
  readonly args: Guard<A>;
  readonly reply: Guard<R>;
}

const nothing: Guard<undefined> = {
  describe: 'nothing',
  check: (v, p = '') => (v === undefined ? undefined : `${p ? `${p}: ` : ''}expected nothing`),
};

/** A reply that may be nothing (the user cancelled a dialog, say). */
export function orNothing<T>(g: Guard<T>): Guard<T | undefined> {
  return { describe: `${g.describe} | nothing`, check: (v, p) => (v === undefined ? undefined : g.check(v, p)) };
}

export function notice<A>(args: Guard<A>): CommandSpec<A, undefined> {
  return { args, reply: nothing };
}
export function request<A, R>(args: Guard<A>, reply: Guard<R>): CommandSpec<A, R> {
  return { args, reply };
}

/** A panel's commands by name. */
export type CommandTable = Record<string, CommandSpec<unknown, unknown>>;
export type CommandName<T extends CommandTable> = keyof T & string;
export type CommandArgs<T extends CommandTable, K extends CommandName<T>> = Infer<T[K]['args']>;
export type CommandReply<T extends CommandTable, K extends CommandName<T>> = Infer<T[K]['reply']>;
/** One checked command, its name and arguments typed together. */
export type CommandCall<T extends CommandTable> = {
  [K in CommandName<T>]: { name: K; args: CommandArgs<T, K> };
}[CommandName<T>];
/** What the host does for each command of a table, typed by its arguments and reply. */
export type CommandHandlers<T extends CommandTable> = {
  [K in CommandName<T>]: (args: CommandArgs<T, K>) => Promise<CommandReply<T, K>>;
};

/** Checks a `command` message against a panel's table; the error names the command and the bad field. */
export function checkCommand<T extends CommandTable>(
  table: T,
  m: { name: string; args: unknown },
): Checked<CommandCall<T>> {
  if (!Object.prototype.hasOwnProperty.call(table, m.name)) return { ok: false, error: `unknown command "${m.name}"` };
  const problem = table[m.name]!.args.check(m.args, 'args');
  if (problem) return { ok: false, error: `command "${m.name}": ${problem}` };
  // The guard of this very name has just accepted the arguments.
  return { ok: true, value: { name: m.name, args: m.args } as CommandCall<T> };
}

/** Checks the host's reply to a request by that command's reply guard. */
export function checkReply<T extends CommandTable, K extends CommandName<T>>(
  table: T,
  name: K,
  value: unknown,
): Checked<CommandReply<T, K>> {
  const problem = table[name]!.reply.check(value, 'reply');
  if (problem) return { ok: false, error: `reply to "${name}": ${problem}` };
  return { ok: true, value: value as CommandReply<T, K> };
}

/** Runs the handler of a checked command: the one place where name and arguments meet again. */
export function dispatchCommand<T extends CommandTable, K extends CommandName<T>>(
  handlers: CommandHandlers<T>,
  call: { name: K; args: CommandArgs<T, K> },
): Promise<CommandReply<T, K>> {
  return handlers[call.name](call.args);
}

/** Any trainer protocol message, checked by its own guard. */
export const trainerMessage: Guard<TrainerMessage> = {
  describe: 'TrainerMessage',
  check: (v, p = '') => {
    const r = checkTagged<TrainerMessage>(trainerMessages, v, p || 'message');
    return r.ok ? undefined : r.error;
  },
};

// ---- sequencing ------------------------------------------------------------------------------------------------

/** Numbers the host's messages to one webview; a snapshot restarts the count. */
export class SequenceSender {
  private seq = 0;
  snapshot(state: unknown): Infer<typeof hostToWebview.snapshot> {
    this.seq++;
    return { type: 'snapshot', seq: this.seq, state };
  }
  append(item: unknown): Infer<typeof hostToWebview.append> {
    this.seq++;
    return { type: 'append', seq: this.seq, item };
  }
}

export type SequenceVerdict = 'apply' | 'ignore' | 'resync';

/**
 * The webview's side: tells whether a message applies, is stale (already covered by a snapshot), or reveals a
 * gap. After a gap it asks once and ignores appends until the next snapshot arrives.
 */
export class SequenceReceiver {
  private expected: number | undefined;
  private waiting = false;
  get lastSeq(): number {
    return (this.expected ?? 1) - 1;
  }
  accept(m: { type: 'snapshot' | 'append'; seq: number }): SequenceVerdict {
    if (m.type === 'snapshot') {
      this.expected = m.seq + 1;
      this.waiting = false;
      return 'apply';
    }
    if (this.expected === undefined || this.waiting) return 'ignore';
    if (m.seq < this.expected) return 'ignore';
    if (m.seq === this.expected) {
      this.expected++;
      return 'apply';
    }
    this.waiting = true;
    return 'resync';
  }
}

// ---- the metrics panel -------------------------------------------------------------------------------------------

/** One array per step field, each checked by that field's guard (common/protocol.ts `stepFields`). */
function columnsOf<S extends Record<string, Guard<unknown>>>(fields: S): Guard<{ [K in keyof S]: Infer<S[K]>[] }> {
  const guards = Object.entries(fields).map(([k, g]) => [k, arr(g)] as const);
  return {
    describe: `columns of ${Object.keys(fields).join(', ')}`,
    check: (v, p = '') => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${p ? `${p}: ` : ''}expected object`;
      for (const [k, g] of guards) {
        const problem = g.check((v as Record<string, unknown>)[k], p ? `${p}.${k}` : k);
        if (problem) return problem;
      }
      return undefined;
    },
  };
}

const stepColumns = columnsOf(stepFields);

export const runSeriesGuard = obj({
  runId: str,
  name: str,
  hello: opt(trainerMessages.hello),
  plan: opt(trainerMessages.plan),
  model: opt(obj({ total: int, trainable: int })),
  steps: stepColumns,
  lastEtaMs: nullable(num),
  evals: arr(trainerMessages.eval),
  checkpoints: arr(trainerMessages.checkpoint),
  errors: arr(str),
  done: opt(trainerMessages.done),
});

export const metricsRunInfo = obj({
  runId: str,
  live: bool,
  /** Where the run's run.json says it was started, for display. */
  startedAt: opt(str),
  earlyStoppingPatience: opt(int),
  metricForBest: opt(str),
  /** Flattened config (`training.learning_rate` → value) for the comparison's differences table. */
  config: record(unknownValue),
  /** The Hub file the run is downloading when the snapshot is taken; later ones arrive as `download` messages. */
  download: opt(downloadState),
});
export type MetricsRunInfo = Infer<typeof metricsRunInfo>;

export const metricsState = obj({
  runs: arr(obj({ info: metricsRunInfo, series: runSeriesGuard })),
});
export type MetricsState = Infer<typeof metricsState>;

/**
 * Live messages for one of the panel's runs, batched by the host (a trainer may log hundreds of steps a second;
 * the page wants at most a few updates per frame), and/or a change in the run's info (it ended, say).
 */
export const metricsAppend = obj({ runId: str, messages: arr(trainerMessage), info: opt(metricsRunInfo) });
export type MetricsAppend = Infer<typeof metricsAppend>;

export const metricsCommands = {
  stop: notice(obj({ runId: str })),
  saveNow: notice(obj({ runId: str })),
  exportCsv: notice(obj({ csv: str, suggestedName: str })),
  exportImage: notice(obj({ format: oneOf(['png', 'svg'] as const), data: str, suggestedName: str })),
  openCheckpoints: notice(obj({ runId: str })),
} as const;

// ---- the freezing panel ------------------------------------------------------------------------------------------

export const memoryEstimateGuard = obj({
  weights: num,
  gradients: num,
  optimizer: num,
  activations: num,
  update: num,
  total: num,
  layersWithActivations: int,
});

export const freezeState = obj({
  configPath: opt(str),
  configName: opt(str),
  /** Where the tree came from, e.g. "model files in ./models/bert-tiny" or "live run 2026-…". */
  source: opt(str),
  tree: opt(moduleNode),
  /** Why there is no tree (no config open, model not found locally, …). */
  reason: opt(str),
  numLayers: int,
  batchSize: int,
  maxLength: int,
  memory: opt(memoryEstimateGuard),
  freeze: arr(str),
  unfreeze: arr(str),
});
export type FreezeState = Infer<typeof freezeState>;

export const FREEZE_SHORTCUTS = ['freeze-embeddings', 'top-n', 'head-only', 'unfreeze-all'] as const;
export type FreezeShortcut = (typeof FREEZE_SHORTCUTS)[number];

export const freezeCommands = {
  setFrozen: notice(obj({ path: str, frozen: bool })),
  shortcut: notice(obj({ kind: oneOf(FREEZE_SHORTCUTS), n: opt(int) })),
  openConfig: notice(obj({})),
} as const;

// ---- the checkpoint explorer -------------------------------------------------------------------------------------

export const checkpointInfo = obj({
  name: str,
  path: str,
  step: opt(int),
  epoch: opt(num),
  metrics: record(num),
  sizeBytes: num,
  isBest: bool,
  isLast: bool,
  /** save_total_limit removes it when the next checkpoint is written. */
  deletedNext: bool,
  /** Why it cannot be used (missing files, bad JSON); absent when it is sound. */
  broken: opt(str),
});
export type CheckpointInfo = Infer<typeof checkpointInfo>;

export const checkpointsState = obj({
  runId: str,
  runName: str,
  runDir: str,
  live: bool,
  saveTotalLimit: opt(int),
  metricForBest: opt(str),
  checkpoints: arr(checkpointInfo),
  /** Labels the checkpoint predicts, for the "try it" box. */
  labels: opt(arr(str)),
  /** The run's columns: "try it" asks for a second text when the run was trained on pairs. */
  columns: opt(obj({ text: str, textPair: opt(str), label: str })),
});
export type CheckpointsState = Infer<typeof checkpointsState>;

export const predictionGuard = predictionResult;
export type Prediction = Infer<typeof predictionGuard>;

/** What the trainer's `evaluate` answers, checked before a panel shows it. */
export const evaluationGuard = obj({
  ...evaluationResultFields,
  /** The data file, added by the host. */
  file: opt(str),
});
export type Evaluation = Infer<typeof evaluationGuard>;

export const checkpointCommands = {
  resume: notice(obj({ path: str })),
  fork: notice(obj({ path: str })),
  /** The host replies with an Evaluation, or nothing when the user picked no file. */
  evaluate: request(obj({ path: str }), orNothing(evaluationGuard)),
  /** The host replies with a Prediction; `textPair` only for a run trained on sentence pairs. */
  try: request(obj({ path: str, text: str, textPair: opt(str) }), predictionGuard),
  export: notice(obj({ path: str })),
  delete: notice(obj({ path: str })),
  reveal: notice(obj({ path: str })),
} as const;
