/**
 * One-shot trainer commands for the checkpoint explorer (`evaluate`, `predict`): the trainer bundle forked
 * directly (never in the extension host's thread, and without the CLI in between), spoken to in the protocol of
 * common/protocol.ts, and answered by its `result` message, checked by the guard of the command it answers.
 * Text a user typed goes to the trainer as a `predict_input` message on stdin, never as argv, where a sentence
 * that starts with `--` would read as a flag. No `vscode`: tested under node.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { FineTuneError } from '../../common/errors';
import { checkResult, encodeMessage, LineSplitter, parseTrainerMessage, PROTOCOL_VERSION } from '../../common/protocol';
import type { HostMessage, ResultCommand, ResultValue, TrainerMessage } from '../../common/protocol';

export interface TrainerProcess {
  /** dist/trainer.js (or any script that speaks the trainer protocol). */
  trainerPath: string;
  /** The working directory: the run's folder. */
  cwd: string;
  /** Extra environment (the threads setting). */
  env?: Record<string, string>;
  /** Node flags for the trainer; none by default, so that the extension host's own (inspector, loaders) stay out. */
  execArgv?: string[];
  /** Default: 10 minutes for evaluate, 2 for predict. */
  timeoutMs?: number;
}

/** `columnArgs`: the run's own columns and max_length, as checkpointStore.ts `evaluateColumnArgs` writes them. */
export async function evaluateCheckpoint(
  p: TrainerProcess,
  model: string,
  data: string,
  columnArgs: readonly string[],
): Promise<ResultValue<'evaluate'>> {
  const args = ['evaluate', '--model', model, '--data', data, ...columnArgs];
  return runOneShot(p, 'evaluate', args, undefined, 10 * 60_000);
}

/** The texts to classify: `textPair` is the second text, for a run trained on sentence pairs. */
export interface PredictTexts {
  text: string;
  textPair?: string;
}

/** `dataArgs`: the run's `--max-length` (checkpointStore.ts `runDataArgs`), so texts are cut as in training. */
export async function predictCheckpoint(
  p: TrainerProcess,
  model: string,
  texts: PredictTexts,
  dataArgs: readonly string[] = [],
): Promise<ResultValue<'predict'>> {
  const { text, textPair } = texts;
  const input: HostMessage = { type: 'predict_input', text, ...(textPair !== undefined ? { textPair } : {}) };
  return runOneShot(p, 'predict', ['predict', '--model', model, ...dataArgs], input, 2 * 60_000);
}

/** What one trainer process said, gathered from its stdout. */
interface Outcome {
  result?: unknown;
  error?: string;
}

async function runOneShot<C extends ResultCommand>(
  p: TrainerProcess,
  command: C,
  args: string[],
  input: HostMessage | undefined,
  defaultTimeoutMs: number,
): Promise<ResultValue<C>> {
  const child = fork(p.trainerPath, args, {
    cwd: p.cwd,
    execArgv: p.execArgv ?? [],
    stdio: ['pipe', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ...(p.env ?? {}), FINETUNE_HOST: 'vscode' },
  });
  const outcome: Outcome = {};
  const stderr = tail(child, 20);
  const stdout = new LineSplitter((line) => onLine(child, outcome, line));
  child.stdout?.setEncoding('utf8').on('data', (c: string) => stdout.push(c));
  // EPIPE when the trainer is already gone is expected: its exit tells the real cause.
  child.stdin?.on('error', () => undefined);
  if (input) child.stdin?.write(encodeMessage(input));
  const timeoutMs = p.timeoutMs ?? defaultTimeoutMs;
  const timer = setTimeout(() => {
    outcome.error ??= `the trainer took longer than ${Math.round(timeoutMs / 1000)} s`;
    child.kill('SIGKILL');
  }, timeoutMs);
  const code = await new Promise<number | null>((resolve) => {
    child.on('error', (e) => (outcome.error ??= `the trainer could not be started: ${e.message}`));
    child.on('close', (c) => resolve(c));
  });
  clearTimeout(timer);
  stdout.end();
  return finish(command, outcome, code, stderr());
}

function onLine(child: ChildProcess, outcome: Outcome, line: string): void {
  const r = parseTrainerMessage(line);
  if (!r.ok) {
    outcome.error ??= `the trainer printed something that is not a protocol message (${r.error})`;
    return;
  }
  const problem = protocolProblem(r.message);
  if (problem) {
    outcome.error ??= problem;
    child.kill('SIGKILL');
  }
  if (r.message.type === 'result') outcome.result = r.message.value;
  if (r.message.type === 'error' && outcome.error === undefined) {
    const e = r.message.error;
    outcome.error = e.message + (e.detail ? `\n${e.detail}` : '');
  }
}

function protocolProblem(m: TrainerMessage): string | undefined {
  if (m.type !== 'hello' || m.protocolVersion === PROTOCOL_VERSION) return undefined;
  const fix = 'rebuild both (npm run build) or reinstall the extension';
  return `The trainer speaks protocol ${m.protocolVersion}, the extension ${PROTOCOL_VERSION}: ${fix}.`;
}

function finish<C extends ResultCommand>(command: C, o: Outcome, code: number | null, stderr: string): ResultValue<C> {
  if (o.result !== undefined) {
    const checked = checkResult(command, o.result);
    if (checked.ok) return checked.message;
    const why = `The trainer's ${command} answer is malformed: ${checked.error}`;
    throw new FineTuneError('trainer-result-invalid', why, {
      fix: 'Rebuild the extension (npm run build) so that the trainer and the extension match.',
    });
  }
  const why = o.error ?? `the trainer exited with code ${code} without an answer${stderr ? `: ${stderr}` : ''}`;
  throw new FineTuneError(`${command}-failed`, why);
}

/** Keeps the last `lines` chunks of the child's stderr, for the error when it ends without an answer. */
function tail(child: ChildProcess, lines: number): () => string {
  const kept: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    kept.push(c);
    if (kept.length > lines) kept.shift();
  });
  return () => kept.join('').slice(-500);
}
