/**
 * The training subprocess. The extension forks the built bundle (dist/trainer.js) and the CLI runs it too:
 *   train <config> [--backend X] [--max-steps N] [--resume-from-checkpoint DIR]
 *   evaluate --model DIR --data FILE [--text-column C] [--label-column C]
 *   predict --model DIR --text "..." [--text-pair "..."]
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

import { existsSync, fstatSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { BackendPreference } from '../common/config/schema';
import { BACKEND_PREFERENCES } from '../common/config/schema';
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

function engineVersion(): string {
  for (const p of [path.join(__dirname, '..', 'package.json'), path.join(__dirname, '..', '..', 'package.json')]) {
    try {
      const v = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (v.name === 'finetune-studio' && v.version) return v.version;
    } catch {
      // try the next candidate
    }
  }
  return '0.0.0-dev';
}

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

export interface ParsedArgs {
  command: string;
  positional: string[];
  flags: Map<string, string>;
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const [command = '', ...rest] = argv;
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
      else if (i + 1 < rest.length && !rest[i + 1]!.startsWith('--')) flags.set(a.slice(2), rest[++i]!);
      else flags.set(a.slice(2), 'true');
    } else positional.push(a);
  }
  return { command, positional, flags };
}

function usage(message: string): FineTuneError {
  return new FineTuneError('usage', message, {
    fix: 'Usage: train <config> [--backend auto|gpu|node|wasm|cpu] [--max-steps N] [--resume-from-checkpoint DIR] | evaluate --model DIR --data FILE | predict --model DIR --text "..." [--text-pair "..."]',
  });
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

function backendFlag(flags: Map<string, string>, fallback: BackendPreference): BackendPreference {
  const b = flags.get('backend');
  if (b === undefined) return fallback;
  if (!(BACKEND_PREFERENCES as readonly string[]).includes(b))
    throw usage(`--backend must be one of ${BACKEND_PREFERENCES.join(', ')}, not ${b}`);
  return b as BackendPreference;
}

async function runTrain(args: ParsedArgs): Promise<number> {
  const configFile = args.positional[0];
  if (!configFile) throw usage('train needs a config file');
  const { peekBackend, loadConfig, readConfigText } = await import('./engine/loadConfig');
  const text = await readConfigText(path.resolve(configFile)).catch(() => '');
  const backend = await hello(backendFlag(args.flags, peekBackend(text)));
  let loaded;
  try {
    loaded = await loadConfig(configFile);
  } catch (e) {
    send({ type: 'error', error: wireError(e), fatal: true });
    return 2;
  }
  const maxStepsFlag = args.flags.get('max-steps');
  const maxSteps = maxStepsFlag === undefined ? undefined : Number(maxStepsFlag);
  if (maxSteps !== undefined && !(Number.isInteger(maxSteps) && maxSteps > 0))
    throw usage(`--max-steps must be a positive integer, not ${maxStepsFlag}`);
  const resumeFlag = args.flags.get('resume-from-checkpoint');
  const resumeFrom = resumeFlag === undefined ? undefined : path.resolve(resumeFlag);
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
      ...(maxSteps !== undefined ? { maxSteps } : {}),
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
    return exitCodeOf(e);
  }
}

/** Errors the config can fix before anything trains (a run too large for the backend) are bad input: exit 2. */
const BAD_INPUT_CODES: ReadonlySet<string> = new Set(['memory-exceeds-backend']);

function exitCodeOf(e: unknown): number {
  return e instanceof FineTuneError && BAD_INPUT_CODES.has(e.code) ? 2 : 1;
}

/** Records the final `done`; when the failure was the disk itself, that write fails too and was reported already. */
function recordBestEffort(recorder: (m: TrainerMessage) => void, m: TrainerMessage): void {
  try {
    recorder(m);
  } catch (e) {
    process.stderr.write(`could not record the run's end in metrics.jsonl: ${(e as Error).message}\n`);
  }
}

async function runEvaluate(args: ParsedArgs): Promise<number> {
  const model = args.flags.get('model');
  const data = args.flags.get('data');
  if (!model || !data) throw usage('evaluate needs --model DIR and --data FILE');
  await hello(backendFlag(args.flags, 'auto'));
  const { loadModelFolder, evaluateFile } = await import('./engine/inference');
  const m = await loadModelFolder(model);
  const f = args.flags;
  const r = await evaluateFile(m, data, {
    ...(f.get('text-column') ? { textColumn: f.get('text-column')! } : {}),
    ...(f.get('text-pair-column') ? { textPairColumn: f.get('text-pair-column')! } : {}),
    ...(f.get('label-column') ? { labelColumn: f.get('label-column')! } : {}),
    onFallback: (why) => send({ type: 'log', level: 'warn', message: why }),
  });
  send({ type: 'result', command: 'evaluate', value: r });
  m.model.dispose();
  return 0;
}

/** The texts from the flags, else from the host's `predict_input` (the extension never puts user text in argv). */
async function predictTexts(flags: Map<string, string>): Promise<{ text: string; textPair?: string }> {
  const text = flags.get('text');
  const textPair = flags.get('text-pair');
  if (text !== undefined) return { text, ...(textPair !== undefined ? { textPair } : {}) };
  // Waiting on stdin must keep the process alive (it is unref'd so that it never delays the exit otherwise).
  process.stdin.ref?.();
  const m = await predictInput;
  process.stdin.unref?.();
  if (!m) throw usage('predict needs --text "..." or a predict_input message on stdin');
  return m;
}

async function runPredict(args: ParsedArgs): Promise<number> {
  const model = args.flags.get('model');
  if (!model) throw usage('predict needs --model DIR and --text "..."');
  await hello(backendFlag(args.flags, 'auto'));
  const { text, textPair } = await predictTexts(args.flags);
  const { loadModelFolder, predictText } = await import('./engine/inference');
  const m = await loadModelFolder(model);
  send({ type: 'result', command: 'predict', value: await predictText(m, text, textPair) });
  m.model.dispose();
  return 0;
}

export async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  switch (args.command) {
    case 'train':
      return runTrain(args);
    case 'evaluate':
      return runEvaluate(args);
    case 'predict':
      return runPredict(args);
    default:
      throw usage(args.command ? `unknown command ${args.command}` : 'no command given');
  }
}

process.on('uncaughtException', (e) => fail(e));
process.on('unhandledRejection', (e) => fail(e));
listenToHost();
main(process.argv.slice(2)).then(exitAfterFlush, (e: unknown) => fail(e));
