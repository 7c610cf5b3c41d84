/**
 * `finetune-studio train|evaluate|predict`: a thin client of the trainer protocol. It runs the same subprocess
 * the extension runs (dist/trainer.js, or trainer/main.ts through tsx in development), validates every message
 * it reads, and renders them: a progress bar on a terminal, plain lines otherwise, raw JSON with --json.
 * Ctrl-C once stops after the current step with a checkpoint; twice cancels; three times kills.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatUserError } from '../common/errors';
import { LineSplitter, describeOversized, encodeMessage, parseTrainerMessage } from '../common/protocol';
import type { HostMessage, TrainerMessage } from '../common/protocol';
import { ProgressView } from './cliView';

const HELP = `Usage:
  finetune-studio train <config.finetune.yaml> [--backend auto|gpu|node|wasm|cpu] [--max-steps N]
                        [--resume-from-checkpoint RUN/checkpoint-N] [--json]
  finetune-studio evaluate --model DIR --data FILE [--text-column C] [--label-column C] [--label-separator S] [--json]
  finetune-studio predict --model DIR --text "..." [--text-pair "..."] [--json]`;

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

export async function runClient(argv: string[], o: ClientOptions): Promise<number> {
  const { file, execArgv } = trainerCommand();
  const args = argv.filter((a) => a !== '--json');
  const child = spawn(process.execPath, [...execArgv, file, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const view = new ProgressView(o.out, o.tty);
  const stderrTail: string[] = [];
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
        view.result(m.command, m.value);
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
  if (code !== 0 && !sawError) {
    o.err.write(
      `finetune-studio: the trainer exited with code ${code}${stderrTail.length ? `; its last output:\n${stderrTail.join('').slice(-2000)}` : ''}\n`,
    );
  }
  if (code === 0 && (args[0] === 'evaluate' || args[0] === 'predict') && !sawResult) return 1;
  return code;
}

export async function cliMain(argv: string[]): Promise<number> {
  if (!argv.length || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(HELP + '\n');
    return argv.length ? 0 : 2;
  }
  if (!['train', 'evaluate', 'predict'].includes(argv[0]!)) {
    process.stderr.write(`finetune-studio: unknown command ${argv[0]}\n${HELP}\n`);
    return 2;
  }
  return runClient(argv, {
    json: argv.includes('--json'),
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
      process.exit(1);
    },
  );
}
