/** Spawns the trainer subprocess (trainer/main.ts through tsx) and reads its protocol, as the extension does. */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LineSplitter, parseTrainerMessage } from '../../common/protocol';
import type { TrainerMessage } from '../../common/protocol';

export const REPO = path.resolve(__dirname, '..', '..');

export interface TrainerRun {
  child: ChildProcessWithoutNullStreams;
  messages: TrainerMessage[];
  /** Lines of stdout that were not valid protocol messages. */
  garbage: string[];
  stderr: () => string;
  exit: Promise<number | null>;
  /** Resolves with the first message that satisfies `pred`. */
  waitFor: (pred: (m: TrainerMessage) => boolean) => Promise<TrainerMessage>;
}

export interface TrainerSpawnOptions {
  preload?: string;
  cwd?: string;
  /** The child's environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

export function startTrainer(args: string[], opts: TrainerSpawnOptions = {}): TrainerRun {
  const execArgv = [
    '--import',
    pathToFileURL(require.resolve('tsx')).href,
    ...(opts.preload ? ['--require', opts.preload] : []),
  ];
  const child = spawn(process.execPath, [...execArgv, path.join(REPO, 'trainer', 'main.ts'), ...args], {
    cwd: opts.cwd ?? REPO,
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(opts.env ? { env: opts.env } : {}),
  });
  const messages: TrainerMessage[] = [];
  const garbage: string[] = [];
  const waiters: { pred: (m: TrainerMessage) => boolean; resolve: (m: TrainerMessage) => void }[] = [];
  const splitter = new LineSplitter((line) => {
    const r = parseTrainerMessage(line);
    if (!r.ok) {
      garbage.push(line);
      return;
    }
    messages.push(r.message);
    for (const w of [...waiters]) {
      if (w.pred(r.message)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(r.message);
      }
    }
  });
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (c: string) => splitter.push(c));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => (err += c));
  const exit = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      splitter.end();
      resolve(code);
    }),
  );
  return {
    child,
    messages,
    garbage,
    stderr: () => err,
    exit,
    waitFor: (pred) => {
      const hit = messages.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        waiters.push({ pred, resolve });
        void exit.then(() =>
          reject(new Error(`trainer exited before the awaited message; stderr:\n${err.slice(-2000)}`)),
        );
      });
    },
  };
}
