/**
 * One-shot trainer commands for the checkpoint explorer (`evaluate`, `predict`), run through the CLI bundle in
 * a child process — never in the extension host's thread — and answered by its `result` message.
 */
import { fork } from 'node:child_process';
import { LineSplitter, parseTrainerMessage } from '../../common/protocol';

export async function runTrainerCommand(cliPath: string, args: string[], cwd: string, timeoutMs = 10 * 60_000): Promise<unknown> {
  const child = fork(cliPath, [...args, '--json'], { cwd, silent: true });
  let result: unknown;
  let error: string | undefined;
  const stderr: string[] = [];
  const splitter = new LineSplitter((line) => {
    const r = parseTrainerMessage(line);
    if (!r.ok) return;
    if (r.message.type === 'result') result = r.message.value;
    if (r.message.type === 'error') error = r.message.error.message + (r.message.error.detail ? `\n${r.message.error.detail}` : '');
  });
  child.stdout?.setEncoding('utf8').on('data', (c: string) => splitter.push(c));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    stderr.push(c);
    if (stderr.length > 20) stderr.shift();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  clearTimeout(timer);
  splitter.end();
  if (result !== undefined) return result;
  throw new Error(error ?? `finetune-studio ${args[0]} exited with code ${code} without a result${stderr.length ? `: ${stderr.join('').slice(-500)}` : ''}`);
}
