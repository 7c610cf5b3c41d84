/** Runs the CLI from source (trainer/cli.ts through tsx) as a user runs it, in a given folder. */
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO } from './trainerProcess';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function spawnCli(args: string[], cwd: string): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(
    process.execPath,
    ['--import', pathToFileURL(require.resolve('tsx')).href, path.join(REPO, 'trainer', 'cli.ts'), ...args],
    { cwd, stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

export function cli(args: string[], cwd: string): Promise<CliResult> {
  const child = spawnCli(args, cwd);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}
