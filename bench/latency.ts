/**
 * User-facing latency: from "start run" (spawning the trainer) to its first `step` message, for the
 * BERT-tiny-sized from-scratch config of the demo (examples/scratch.finetune.yaml: 2 layers, hidden 128,
 * batch 16, max_length 64). Target: ≤ 5 s. Printed, not asserted: it depends on the machine and its load.
 *
 *   node --import tsx bench/latency.ts [--runs 3] [--dist]
 *
 * --dist runs the bundle the extension ships (dist/trainer.js, `npm run build` first); without it the
 * TypeScript source runs through tsx, which adds its compile time to the start. The other two latencies have
 * their own benches: bench/languageServer.bench.ts (diagnostics of a 200-line config, ≤ 200 ms) and
 * bench/activation.mjs (extension activation, ≤ 50 ms).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { argValue, median } from './util';

const ROOT = path.resolve(__dirname, '..');

/** Milliseconds from spawn to each protocol message type's first appearance. */
type Marks = Record<string, number>;

/** The demo's scratch config, pointed at absolute data paths, writing into `dir`; the run is killed at its first step. */
function writeConfig(dir: string): string {
  const src = path.join(ROOT, 'examples', 'scratch.finetune.yaml');
  const ex = path.join(ROOT, 'examples');
  let text = readFileSync(src, 'utf8');
  text = text
    .replace(/^output_dir: .*$/m, `output_dir: ${JSON.stringify(path.join(dir, 'runs'))}`)
    .replace(/^(\s+tokenizer): (\S+)$/m, (_, k: string, v: string) => `${k}: ${JSON.stringify(path.join(ex, v))}`)
    .replace(
      /^(\s+(?:train|validation|test)_file): (\S+)$/gm,
      (_, k: string, v: string) => `${k}: ${JSON.stringify(path.join(ex, v))}`,
    )
    .replace(/^(\s+)logging_steps: .*$/m, '$1logging_steps: 1');
  const file = path.join(dir, 'latency.finetune.yaml');
  writeFileSync(file, text);
  return file;
}

function runOnce(config: string, dist: boolean): Promise<Marks> {
  const entry = dist
    ? [path.join(ROOT, 'dist', 'trainer.js')]
    : ['--import', 'tsx', path.join(ROOT, 'trainer', 'main.ts')];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [...entry, 'train', config, '--max-steps', '2'], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const marks: Marks = {};
    let buf = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const m = JSON.parse(line) as { type?: string };
          if (m.type && marks[m.type] === undefined) marks[m.type] = performance.now() - t0;
          if (m.type === 'error') err += line + '\n';
          if (m.type === 'step') child.kill('SIGTERM');
        } catch {
          // not a protocol line; main.ts keeps stdout clean, so this is only a partial write
        }
      }
    });
    child.on('close', () =>
      marks.step !== undefined
        ? resolve(marks)
        : reject(new Error(`trainer ended without a step message:\n${err.slice(-2000)}`)),
    );
  });
}

async function main(): Promise<void> {
  const runs = Number(argValue('--runs') ?? 3);
  const dist = process.argv.includes('--dist');
  const main = dist ? path.join(ROOT, 'dist', 'trainer.js') : path.join(ROOT, 'trainer', 'main.ts');
  if (!existsSync(main)) {
    console.log(
      `start-to-first-step: skipped, ${path.relative(ROOT, main)} does not exist${dist ? ' (npm run build)' : ''}`,
    );
    return;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'ft-latency-'));
  try {
    const config = writeConfig(dir);
    const all: Marks[] = [];
    for (let i = 0; i < runs; i++) all.push(await runOnce(config, dist));
    const keys = ['hello', 'plan', 'model', 'step'].filter((k) => all.every((m) => m[k] !== undefined));
    console.log(
      `start run → first message of each type, ${dist ? 'dist/trainer.js' : 'tsx source'}, median of ${runs} (ms):`,
    );
    for (const k of keys)
      console.log(
        `  ${k.padEnd(6)} ${median(all.map((m) => m[k]!))
          .toFixed(0)
          .padStart(6)}   [${all.map((m) => m[k]!.toFixed(0)).join(', ')}]`,
      );
    const first = median(all.map((m) => m.step!));
    console.log(
      `start-to-first-step: ${(first / 1000).toFixed(2)} s (target ≤ 5 s: ${first <= 5000 ? 'met' : 'missed'})`,
    );
    console.log(
      JSON.stringify({ latency: { start_to_first_step_ms: first, runs, entry: dist ? 'dist' : 'tsx', marks: all } }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
