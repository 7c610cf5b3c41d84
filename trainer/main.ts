/**
 * The training subprocess. The extension forks the built bundle (dist/trainer.js) and the CLI runs it too, with
 * the CLI's own command line (trainer/cli/commands.ts; parsed strictly by trainer/cli/args.ts):
 *   train <config> [--backend X] [--<config key> VALUE …] [--resume-from-checkpoint DIR]
 *   evaluate --model DIR --data FILE [--text-column C] [--text-pair-column C] [--label-column C] [--label-separator S]
 *            [--max-length N]
 *   predict --model DIR [--text "..." …] [--text-pair "..." …] [--file FILE] [--max-length N]
 * stdout carries the JSON-lines protocol (common/protocol.ts) and nothing else: console output of libraries
 * (tfjs backend notices, transformers.js) is sent to stderr before anything is imported that could print.
 * Host messages (stop, save_now, cancel) arrive on stdin, or on the IPC channel when forked with one.
 */
import { format } from 'node:util';

// Must run before the engine is loaded: tfjs and transformers.js write to console.log on import.
let stderrTee: ((line: string) => void) | undefined;
const toStderr = (...args: unknown[]) => {
  const line = format(...args) + '\n';
  process.stderr.write(line);
  try {
    stderrTee?.(line);
  } catch {
    // The copy into train.log failed (a full disk, say): the error that caused it is reported on its own, and
    // a console call anywhere must not throw because of it.
    stderrTee = undefined;
  }
};
console.log = toStderr;
console.info = toStderr;
console.warn = toStderr;
console.debug = toStderr;
console.error = toStderr;

import { existsSync, fstatSync } from 'node:fs';
import * as path from 'node:path';
import type { BackendPreference } from '../common/config/schema';
import { FineTuneError, toUserError } from '../common/errors';
import {
  LineSplitter,
  MAX_HOST_LINE,
  PROTOCOL_VERSION,
  THREADS_ENV,
  checkHostMessage,
  describeOversized,
  encodeMessage,
  parseHostMessage,
  trainerMessages,
} from '../common/protocol';
import type { ParseResult } from '../common/protocol';
import type { BackendInfo, HostMessage, HostMessageOf, TrainerMessage, TrainerMessageOf } from '../common/protocol';
import { GPU_ENV } from '../common/protocol';
import type { Guard } from '../common/guard';
import { BackendUnavailableError, backendForWorkers, selectBackend } from './backend';
import type { AdapterSummary } from './gpu/dawn';
import { trainerThreads } from './parallel/threads';
import type { RunControl } from './engine/train';
import { checkRequired, flagValue, parseCommandLine, usageError } from './cli/args';
import type { RunCommandLine } from './cli/args';
import { EXIT } from './cli/commands';
import { packageVersion } from './cli/version';
import { readTextLines } from './cli/textLines';
import { missingPathMessage } from '../common/localPath';

const engineVersion = packageVersion;

/** Sends one validated message on stdout. An invalid one is our bug: it is reported instead of sent. */
export function send(m: TrainerMessage): void {
  const guard = (trainerMessages as Record<string, Guard<unknown>>)[m.type];
  const problem = guard?.check(m);
  if (problem) {
    process.stderr.write(`internal: refusing to send an invalid ${m.type} message: ${problem}\n`);
    process.stdout.write(
      encodeMessage({
        type: 'error',
        error: { code: 'internal-protocol', message: `invalid ${m.type} message: ${problem}` },
        fatal: false,
      }),
    );
    return;
  }
  process.stdout.write(encodeMessage(m));
}

const control: RunControl = { stop: false, saveNow: false, cancel: false };

/** The texts of `predict` without `--text`; undefined when the host went away before sending them. */
type PredictInput = HostMessageOf<'predict_input'> | undefined;
let gotPredictInput: (m: PredictInput) => void = () => undefined;
const predictInput = new Promise<PredictInput>((resolve) => (gotPredictInput = resolve));

function onHost(m: HostMessage): void {
  if (m.type === 'stop') control.stop = true;
  else if (m.type === 'save_now') control.saveNow = true;
  else if (m.type === 'cancel') control.cancel = true;
  else if (m.type === 'predict_input') gotPredictInput(m);
}

function listenToHost(): void {
  const handle = (r: ParseResult<HostMessage>) => {
    if (r.ok) onHost(r.message);
    else send({ type: 'log', level: 'warn', message: `ignored host message: ${r.error}` });
  };
  // A host that goes away without a word (a killed VS Code, a killed CLI) must not leave an orphan training on:
  // the run stops as if asked, so it still ends with a checkpoint.
  const hostGone = (how: string) => {
    gotPredictInput(undefined);
    if (control.stop || control.cancel) return;
    control.stop = true;
    process.stderr.write(`finetune-studio trainer: ${how}; stopping with a checkpoint\n`);
  };
  if (typeof process.send === 'function') {
    process.on('message', (v: unknown) => handle(typeof v === 'string' ? parseHostMessage(v) : checkHostMessage(v)));
    process.on('disconnect', () => hostGone('the host closed the IPC channel'));
  }
  const splitter = new LineSplitter((line) => handle(parseHostMessage(line)), {
    maxLine: MAX_HOST_LINE,
    onOversized: (o) => {
      send({ type: 'log', level: 'warn', message: `ignored host message: ${describeOversized(o, MAX_HOST_LINE)}` });
    },
  });
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => splitter.push(chunk));
  process.stdin.on('error', () => undefined);
  // Only a pipe made by a parent is a control channel; stdin from /dev/null or a file ends at once and means nothing.
  if (stdinIsPipe()) process.stdin.on('end', () => hostGone("the host closed the trainer's stdin"));
  // Reading stdin must not keep the process alive once the work is done.
  process.stdin.unref?.();
  process.on('SIGTERM', () => {
    control.stop = true;
  });
  // A terminal's Ctrl-C reaches the CLI and this process alike: the first stops with a checkpoint, the
  // second cancels (the CLI sends the same requests on stdin; they are idempotent).
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts++;
    if (interrupts === 1) control.stop = true;
    else control.cancel = true;
  });
}

function stdinIsPipe(): boolean {
  try {
    return fstatSync(0).isFIFO() || fstatSync(0).isSocket();
  } catch {
    return false;
  }
}

/** The run folder once it exists: a failed write that names no file happened in there. */
let runDir: string | undefined;

/** A thrown value as the protocol's error payload; `fix` travels as the last detail line (no field for it). */
function wireError(e: unknown): TrainerMessageOf<'error'>['error'] {
  const { fix, ...error } = toUserError(e, runDir);
  // Config errors list their fixes in the detail already.
  if (fix && error.code !== 'config-invalid') error.detail = [error.detail, `fix: ${fix}`].filter(Boolean).join('\n');
  return error;
}

/** Exits once stdout has drained (pipes are asynchronous on macOS: a bare exit could drop the last message). */
function exitAfterFlush(code: number): void {
  process.stdout.write('', () => process.exit(code));
  setTimeout(() => process.exit(code), 2000).unref();
}

let failing = false;
/** Reports an error nobody caught and ends the process; the training loop, if any, is cancelled meanwhile. */
function fail(e: unknown, exitCode = 1): void {
  if (failing) return;
  failing = true;
  control.cancel = true;
  send({ type: 'error', error: wireError(e), fatal: true });
  exitAfterFlush(exitCode);
}

/**
 * Bad input exits 2, a failure 1: an unknown flag, an invalid config or override, a data file that cannot be used,
 * a path that does not exist are the user's to fix before anything runs.
 */
function exitCodeOf(e: unknown): number {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return EXIT.failed;
  // A run too large for the backend is the config's to fix too (a smaller batch).
  const bad =
    code === 'usage' ||
    code === 'path-not-found' ||
    code === 'memory-exceeds-backend' ||
    /^(config|data|model|tokenizer)-/.test(code);
  return bad && code !== 'data-read-cancelled' ? EXIT.badInput : EXIT.failed;
}

async function hello(pref: BackendPreference): Promise<BackendInfo> {
  const wasmDir = path.join(__dirname, 'wasm');
  let choice;
  try {
    const gpu = process.env[GPU_ENV];
    choice = await selectBackend(pref, {
      ...(existsSync(wasmDir) ? { wasmDir } : {}),
      bundleDir: __dirname,
      ...(gpu ? { gpu } : {}),
    });
  } catch (e) {
    if (!(e instanceof BackendUnavailableError)) throw e;
    throw new FineTuneError('backend-unavailable', e.message, {
      detail: e.tried.map((t) => `${t.backend}: ${t.why}`).join('\n'),
      fix: backendFix(pref),
    });
  }
  // On the WebAssembly and pure-JS backends the trainer adds worker threads of its own (trainer/parallel).
  const workers = backendForWorkers() ? trainerThreads() : 1;
  const reason =
    workers > 1
      ? `${choice.reason}; the trainer splits each batch across ${workers} threads, each with its own ${choice.name === 'wasm' ? 'WebAssembly' : 'JavaScript'} backend (${THREADS_ENV})`
      : choice.reason;
  const threads = workers > 1 ? workers : choice.threads;
  const backend: BackendInfo = {
    name: choice.name,
    reason,
    tried: choice.tried,
    ...(threads !== undefined ? { threads } : {}),
    ...(choice.adapter ? { adapter: adapterWire(choice.adapter) } : {}),
  };
  send({ type: 'hello', protocolVersion: PROTOCOL_VERSION, engineVersion: engineVersion(), pid: process.pid, backend });
  return backend;
}

function backendFix(pref: BackendPreference): string {
  const auto = 'or use `backend: auto`, which falls back to the fastest one available.';
  if (pref === 'webgpu') {
    return `Install a GPU driver with Vulkan (Linux), Direct3D 12 (Windows) or Metal (macOS) support, ${auto}`;
  }
  const pkgs: Partial<Record<BackendPreference, string>> = {
    gpu: '@tensorflow/tfjs-node-gpu',
    node: '@tensorflow/tfjs-node',
  };
  const pkg = pkgs[pref] ?? 'the backend package';
  return `Install it (npm install ${pkg}), ${auto}`;
}

function adapterWire(a: AdapterSummary): NonNullable<BackendInfo['adapter']> {
  const { vendor, architecture, description, software, maxBufferSize, maxStorageBufferBindingSize } = a;
  return { vendor, architecture, description, software, maxBufferSize, maxStorageBufferBindingSize };
}

async function runTrain(args: RunCommandLine): Promise<number> {
  const configFile = args.positionals[0]!;
  const { peekBackend, loadConfig, readConfigText } = await import('./engine/loadConfig');
  const text = await readConfigText(path.resolve(configFile)).catch(() => '');
  const backend = await hello(args.backend ?? peekBackend(text, args.overrides));
  let loaded;
  try {
    loaded = await loadConfig(configFile, { overrides: args.overrides });
  } catch (e) {
    send({ type: 'error', error: wireError(e), fatal: true });
    return EXIT.badInput;
  }
  const resumeFlag = flagValue(args, 'resume-from-checkpoint');
  const resumeFrom = resumeFlag === undefined ? undefined : path.resolve(resumeFlag);
  if (resumeFlag !== undefined && resumeFrom !== undefined && !existsSync(resumeFrom)) {
    const error = new FineTuneError('path-not-found', missingPathMessage('folder', resumeFlag, resumeFrom), {
      file: resumeFrom,
      fix: 'Give --resume-from-checkpoint a checkpoint-<step> folder of a run (relative to the working directory).',
    });
    send({ type: 'error', error: wireError(error), fatal: true });
    return EXIT.badInput;
  }
  const { train } = await import('./engine/train');
  const t0 = Date.now();
  let lastStep = 0;
  let recorder: ((m: TrainerMessage) => void) | undefined;
  try {
    const done = await train({
      loaded,
      backend,
      control,
      engineVersion: engineVersion(),
      ...(resumeFrom !== undefined ? { resumeFrom } : {}),
      emit: (m) => {
        if (m.type === 'step') lastStep = m.step;
        send(m);
      },
      onRunFolder: (rf) => {
        runDir = rf.dir;
        stderrTee = (line) => rf.log(`stderr: ${line}`);
        recorder = (m) => rf.record(m);
      },
    });
    return done.status === 'completed' ||
      done.status === 'stopped' ||
      done.status === 'early-stopped' ||
      done.status === 'cancelled'
      ? 0
      : 1;
  } catch (e) {
    send({ type: 'error', error: wireError(e), fatal: true });
    // A run that had started ends with `done` in its metrics too; a set-up failure is only an error.
    if (recorder) {
      const done: TrainerMessage = { type: 'done', status: 'failed', step: lastStep, elapsedMs: Date.now() - t0 };
      recordBestEffort(recorder, done);
      send(done);
    }
    // Before the run folder exists it is the set-up that failed: unusable data or a missing model is bad input.
    // A run too large for the backend is refused before its first step, run folder or not: still bad input.
    const tooLarge = (e as { code?: unknown } | null)?.code === 'memory-exceeds-backend';
    return recorder && !tooLarge ? EXIT.failed : exitCodeOf(e);
  }
}

/** Records the final `done`; when the failure was the disk itself, that write fails too and was reported already. */
function recordBestEffort(recorder: (m: TrainerMessage) => void, m: TrainerMessage): void {
  try {
    recorder(m);
  } catch (e) {
    process.stderr.write(`could not record the run's end in metrics.jsonl: ${(e as Error).message}\n`);
  }
}

async function runEvaluate(args: RunCommandLine): Promise<number> {
  await hello(args.backend ?? 'auto');
  const { loadModelFolder, evaluateFile } = await import('./engine/inference');
  const m = await loadModelFolder(flagValue(args, 'model')!, maxLengthOf(args));
  const column = (flag: string, key: string) => {
    const v = flagValue(args, flag);
    return v ? { [key]: v } : {};
  };
  const r = await evaluateFile(m, flagValue(args, 'data')!, {
    ...column('text-column', 'textColumn'),
    ...column('text-pair-column', 'textPairColumn'),
    ...column('label-column', 'labelColumn'),
    ...column('label-separator', 'labelSeparator'),
    onFallback: (why) => send({ type: 'log', level: 'warn', message: why }),
  });
  send({ type: 'result', command: 'evaluate', value: r });
  m.model.dispose();
  return 0;
}

interface PredictText {
  text: string;
  textPair?: string;
}

/** `--max-length N`: the run's `data.max_length`, so that texts (pairs, longest first) are cut where training cut them. */
function maxLengthOf(args: RunCommandLine): { maxLength?: number } {
  const v = flagValue(args, 'max-length');
  if (v === undefined) return {};
  const n = Number(v);
  // Three ids at least: a pair needs [CLS] [SEP] [SEP].
  if (!Number.isInteger(n) || n < 3) throw usageError(`--max-length must be an integer of at least 3, not ${v}`);
  return { maxLength: n };
}

/**
 * The texts from the flags (`--text` with its `--text-pair`, in order), from `--file` (one per line), else from
 * the host's `predict_input` (the extension never puts user text in argv).
 */
async function predictInputs(args: RunCommandLine): Promise<PredictText[]> {
  const file = flagValue(args, 'file');
  if (file !== undefined) return (await readTextLines(file)).map((text) => ({ text }));
  const texts = args.flags.get('text') as string[] | undefined;
  const pairs = (args.flags.get('text-pair') as string[] | undefined) ?? [];
  if (texts) return texts.map((text, i) => (pairs[i] !== undefined ? { text, textPair: pairs[i] } : { text }));
  // Waiting on stdin must keep the process alive (it is unref'd so that it never delays the exit otherwise).
  process.stdin.ref?.();
  const m = await predictInput;
  process.stdin.unref?.();
  if (!m) throw usageError('predict needs --text "..." or a predict_input message on stdin');
  return [m.textPair !== undefined ? { text: m.text, textPair: m.textPair } : { text: m.text }];
}

async function runPredict(args: RunCommandLine): Promise<number> {
  await hello(args.backend ?? 'auto');
  const inputs = await predictInputs(args);
  const { loadModelFolder, predictText } = await import('./engine/inference');
  const m = await loadModelFolder(flagValue(args, 'model')!, maxLengthOf(args));
  // One result per text, in order, each naming its text: a consumer can stream them.
  for (const input of inputs) {
    if (control.cancel || control.stop) break;
    const value = await predictText(m, input.text, input.textPair);
    send({ type: 'result', command: 'predict', value: { ...input, ...value } });
  }
  m.model.dispose();
  return 0;
}

export async function main(argv: readonly string[]): Promise<number> {
  const args = parseCommandLine(argv);
  // The trainer is driven by a host: help and version are the CLI's to print.
  if (args.kind !== 'run') throw usageError('the trainer takes a command: train, evaluate or predict');
  checkRequired(args, { textsFromHost: true });
  switch (args.command) {
    case 'train':
      return runTrain(args);
    case 'evaluate':
      return runEvaluate(args);
    case 'predict':
      return runPredict(args);
  }
}

process.on('uncaughtException', (e) => fail(e));
process.on('unhandledRejection', (e) => fail(e));
listenToHost();
main(process.argv.slice(2)).then(exitAfterFlush, (e: unknown) => fail(e, exitCodeOf(e)));
