/**
 * `finetune-studio train|evaluate|predict`: a thin client of the trainer protocol. It parses the command line
 * strictly (trainer/cli/args.ts: help, version and usage errors never start a trainer), runs the same subprocess
 * the extension runs (dist/trainer.js, or trainer/main.ts through tsx in development) with the same arguments,
 * validates every message it reads, and renders them: a progress bar on a terminal, plain lines otherwise, a
 * table for predict, raw JSON lines with --json.
 * Ctrl-C once stops after the current step with a checkpoint; twice cancels; three times kills. Exit statuses
 * are in trainer/cli/commands.ts (EXIT).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatUserError } from '../common/errors';
import { LineSplitter, describeOversized, encodeMessage, parseTrainerMessage } from '../common/protocol';
import type { HostMessage, TrainerMessage } from '../common/protocol';
import { ProgressView } from './cliView';
import { checkRequired, parseCommandLine } from './cli/args';
import type { RunCommandLine } from './cli/args';
import { EXIT } from './cli/commands';
import { commandHelp, programHelp } from './cli/help';
import { predictionTable } from './cli/predictTable';
import type { PredictionRow } from './cli/predictTable';
import { packageVersion } from './cli/version';

/** Held in a variable so that esbuild leaves this development-only lookup alone. */
const TSX = 'tsx';

/** The trainer entry and how to run it: the bundle next to this file, else the TypeScript source via tsx. */
export function trainerCommand(): { file: string; execArgv: string[] } {
  const bundled = path.join(__dirname, 'trainer.js');
  if (existsSync(bundled) && __filename.endsWith('.js')) return { file: bundled, execArgv: [] };
  // `--import tsx` would be resolved from the user's working directory, so name the loader by its full URL.
  return { file: path.join(__dirname, 'main.ts'), execArgv: ['--import', pathToFileURL(require.resolve(TSX)).href] };
}

export interface ClientOptions {
  json: boolean;
  tty: boolean;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

export async function runClient(argv: readonly string[], command: RunCommandLine, o: ClientOptions): Promise<number> {
  const { file, execArgv } = trainerCommand();
  const child = spawn(process.execPath, [...execArgv, file, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
  const view = new ProgressView(o.out, o.tty);
  const stderrTail: string[] = [];
  const predictions: PredictionRow[] = [];
  let sawError = false;
  let sawResult = false;

  const sendHost = (m: HostMessage) => {
    if (child.stdin.writable) child.stdin.write(encodeMessage(m));
  };
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      o.err.write('\nStopping after this step and saving a checkpoint (Ctrl-C again to cancel without saving)…\n');
      sendHost({ type: 'stop' });
    } else if (interrupts === 2) {
      o.err.write('\nCancelling…\n');
      sendHost({ type: 'cancel' });
    } else child.kill('SIGKILL');
  };
  process.on('SIGINT', onSigint);

  const handle = (m: TrainerMessage) => {
    if (o.json) {
      o.out.write(JSON.stringify(m) + '\n');
      if (m.type === 'error') sawError = true;
      if (m.type === 'result') sawResult = true;
      return;
    }
    switch (m.type) {
      case 'error':
        sawError = true;
        view.clear();
        o.err.write(
          (m.error.code === 'config-invalid' && m.error.detail ? m.error.detail : formatUserError(m.error)) + '\n',
        );
        break;
      case 'result':
        sawResult = true;
        // Predictions make one table at the end, so that its columns line up.
        if (m.command === 'predict') predictions.push(m.value as PredictionRow);
        else view.evaluation(m.value);
        break;
      default:
        view.message(m);
    }
  };
  const ignored = (why: string) => o.err.write(`finetune-studio: ignored a line from the trainer (${why})\n`);
  const splitter = new LineSplitter(
    (line) => {
      const r = parseTrainerMessage(line);
      if (r.ok) handle(r.message);
      else ignored(r.error);
    },
    { onOversized: (line) => ignored(describeOversized(line)) },
  );
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (c: string) => splitter.push(c));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => {
    stderrTail.push(c);
    if (stderrTail.length > 50) stderrTail.shift();
    if (process.env.FINETUNE_VERBOSE) o.err.write(c);
  });
  const code = await new Promise<number>((resolve) => {
    child.on('close', (c, signal) => resolve(c ?? (signal ? 128 + 9 : 1)));
  });
  splitter.end();
  process.off('SIGINT', onSigint);
  view.clear();
  if (predictions.length) o.out.write(predictionTable(predictions));
  if (code !== 0 && !sawError) {
    o.err.write(
      `finetune-studio: the trainer exited with code ${code}${stderrTail.length ? `; its last output:\n${stderrTail.join('').slice(-2000)}` : ''}\n`,
    );
  }
  // Ctrl-C ends a run that then reports `stopped` or `cancelled` (exit 0), or kills it: either way, 130.
  if (interrupts > 0 && (code === 0 || code === 128 + 9)) return EXIT.interrupted;
  if (code === 0 && command.command !== 'train' && !sawResult) return EXIT.failed;
  return code;
}

function printUsageError(e: unknown, err: NodeJS.WritableStream): number {
  const fix = (e as { fix?: string }).fix;
  err.write(`finetune-studio: ${(e as Error).message}\n${fix ? `${fix}\n` : ''}`);
  return EXIT.badInput;
}

export async function cliMain(argv: readonly string[]): Promise<number> {
  let command;
  try {
    command = parseCommandLine(argv);
    if (command.kind === 'run') checkRequired(command);
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'usage') throw e;
    if (!argv.length) process.stderr.write(programHelp(packageVersion()) + '\n');
    return printUsageError(e, process.stderr);
  }
  if (command.kind === 'version') {
    process.stdout.write(`${packageVersion()}\n`);
    return EXIT.done;
  }
  if (command.kind === 'help') {
    process.stdout.write(command.command ? commandHelp(command.command) : programHelp(packageVersion()));
    return EXIT.done;
  }
  return runClient(argv, command, {
    json: command.json,
    tty: !!process.stdout.isTTY,
    out: process.stdout,
    err: process.stderr,
  });
}

if (require.main === module) {
  cliMain(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(formatUserError(e) + '\n');
      process.exit(EXIT.failed);
    },
  );
}
