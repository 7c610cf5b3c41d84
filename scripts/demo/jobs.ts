/**
 * Runs the demo's configs through the engine's CLI (`trainer/cli.ts train <config> --json`), a few at a time,
 * feeding each run's progress line from its JSON messages, and records what the manifest needs: the run folder,
 * parameter counts, wall-clock and CPU time.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { THREADS_ENV } from '../../common/protocol';
import type { RunProgress } from './progress';
import type { ManifestRun } from './report';

export interface Job {
  variant: string;
  seed: number;
  /** A point of the sample-efficiency curve: the size of its training subset. Absent: the full train split. */
  trainExamples?: number;
  config: string;
  progress: RunProgress;
  run?: ManifestRun;
  error?: string;
}

/** Runs one config through the CLI in JSON mode, feeding the progress line; resolves with its manifest entry. */
export function runJob(job: Job, root: string, out: string, parallelRuns: number, redraw: () => void): Promise<void> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(root, 'trainer', 'cli.ts'), 'train', job.config, '--json'],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
        // The demo already runs one training per core: worker threads (trainer/parallel) would only contend with them.
        env: {
          ...process.env,
          // The probe rides in NODE_OPTIONS so that the trainer process the CLI starts loads it too.
          NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${pathToFileURL(CPU_PROBE).href}`.trim(),
          [CPU_FILE_ENV]: cpuFile(job.config),
          [THREADS_ENV]:
            process.env[THREADS_ENV] ?? String(Math.max(1, Math.floor(os.availableParallelism() / parallelRuns))),
        },
      },
    );
    job.progress.state = 'starting';
    redraw();
    let buffer = '';
    let runDir = '';
    let trainable = 0;
    let total = 0;
    const stderr: string[] = [];
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        let m: Record<string, unknown>;
        try {
          m = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        const p = job.progress;
        if (m.type === 'plan') {
          runDir = String(m.runDir);
          p.total = Number(m.totalSteps);
          p.state = 'training';
        } else if (m.type === 'model') {
          trainable = Number(m.trainable);
          total = Number(m.total);
        } else if (m.type === 'step') {
          p.step = Number(m.step);
          if (typeof m.loss === 'number') p.loss = m.loss;
          if (typeof m.samplesPerSecond === 'number') p.samplesPerSecond = m.samplesPerSecond;
        } else if (m.type === 'eval' && m.split === 'validation') {
          const acc = (m.metrics as Record<string, number> | undefined)?.accuracy;
          if (typeof acc === 'number') p.valAccuracy = acc;
        } else if (m.type === 'error') {
          const e = m.error as { message?: string; fix?: string } | undefined;
          job.error = `${e?.message ?? 'error'}${e?.fix ? ` (${e.fix})` : ''}`;
        }
        redraw();
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => {
      stderr.push(c);
      if (stderr.length > 40) stderr.shift();
    });
    child.on('close', async (code) => {
      const p = job.progress;
      if (code === 0 && runDir) {
        p.state = 'done';
        p.step = p.total;
      } else {
        p.state = 'failed';
        job.error ??= `exit code ${code}: ${stderr.join('').trim().split('\n').slice(-3).join(' | ')}`;
        p.note = job.error.slice(0, 80);
      }
      if (runDir) {
        job.run = {
          variant: job.variant,
          seed: job.seed,
          runDir: path.relative(out, runDir),
          trainableParams: trainable,
          totalParams: total,
          wallSeconds: (Date.now() - started) / 1000,
          ...(job.trainExamples !== undefined ? { trainExamples: job.trainExamples } : {}),
        };
        const cpu = await readCpuSeconds(cpuFile(job.config));
        if (cpu !== undefined) job.run.cpuSeconds = cpu;
      }
      redraw();
      resolve();
    });
  });
}

export async function pool(jobs: Job[], parallel: number, run: (j: Job) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) await run(jobs[next++] as Job);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, worker));
}

const CPU_FILE_ENV = 'DEMO_CPU_FILE';
const CPU_PROBE = path.join(import.meta.dirname, 'cpuProbe.mjs');
const cpuFile = (config: string): string => `${config}.cpu.jsonl`;

/** The sum of what cpuProbe.mjs wrote for a run's processes; undefined when none wrote (the run was killed). */
export async function readCpuSeconds(file: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    try {
      const v = (JSON.parse(line) as { cpuSeconds?: unknown }).cpuSeconds;
      if (typeof v === 'number' && Number.isFinite(v) && v >= 0) sum = (sum ?? 0) + v;
    } catch {
      // An empty last line, or a line cut short by a killed process: nothing to add.
    }
  }
  return sum;
}
