/**
 * The training-loop cases of `npm run bench -- --engines tfjs,pytorch`: each engine's real training loop on the
 * same generated config (loopWorkspace.ts), run as a user runs it (loopRun.ts), measured from its own `step`
 * messages (loopStats.ts). The PyTorch engine's row is the reference of each model: `ratio_to_pytorch_engine`.
 * Both engines get the same threads: FINETUNE_THREADS for the tfjs engine, OMP_NUM_THREADS for torch.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EngineName } from '../common/config/engineSchema';
import { readMetricsLog } from '../common/runFolder/metricsLog';
import { findEnginePython, torchLabel } from './loopPython';
import type { EnginePython } from './loopPython';
import { runLoopProcess } from './loopRun';
import type { LoopProcessResult } from './loopRun';
import { loopStats } from './loopStats';
import { writeLoopWorkspace } from './loopWorkspace';
import type { LoopShape } from './loopWorkspace';
import type { BenchBackend, ModelName } from './models';
import { fmt } from './rows';
import type { LoopRow } from './rows';

export interface LoopOptions {
  engines: readonly EngineName[];
  /** The tfjs engine's backends, one row each. */
  backends: readonly BenchBackend[];
  models: readonly ModelName[];
  batch: number;
  seq: number;
  warmup: number;
  steps: number;
  seed: number;
  threads: number;
  /** The PyTorch engine's Python, when chosen (--python, BENCH_PYTHON); else found as loopPython.ts says. */
  python?: string;
  /** Run dist/trainer.js rather than the TypeScript source. */
  dist: boolean;
  /** Keep the workspaces and run folders here; by default a temporary folder, removed at the end. */
  workdir?: string;
  /** Case names to run (`tiny-loop-pytorch`, `mini-loop-tfjs-wasm`); empty: all. */
  only: readonly string[];
  /** BERT-mini on the pure-JS backend takes minutes a step: only when asked. */
  cpuMini: boolean;
  timeoutMs: number;
  print: (line: string) => void;
}

/** The pure-JS backend needs ~20 s per BERT-tiny step: it runs a short loop (as run.ts's CPU_CAP). */
const CPU_LOOP = { warmup: 1, steps: 2 };

export function loopCaseName(model: ModelName, engine: EngineName, backend?: BenchBackend): string {
  return `${model}-loop-${engine}${engine === 'tfjs' && backend ? `-${backend}` : ''}`;
}

export async function runLoopCases(o: LoopOptions): Promise<LoopRow[]> {
  const dir = o.workdir ? path.resolve(o.workdir) : mkdtempSync(path.join(os.tmpdir(), 'ft-bench-loop-'));
  const wanted = (name: string) => o.only.length === 0 || o.only.includes(name);
  const python = o.engines.includes('pytorch') ? await findEnginePython(o.python, o.threads) : undefined;
  printHeader(o, python);
  const rows: LoopRow[] = [];
  try {
    for (const model of o.models) {
      let ref: LoopRow | undefined;
      if (python && wanted(loopCaseName(model, 'pytorch'))) {
        ref = await pytorchCase(o, dir, model, python);
        if (ref.samples_per_s) ref.ratio_to_pytorch_engine = 1;
        rows.push(ref);
        printLoopRow(o, ref);
      }
      if (!o.engines.includes('tfjs')) continue;
      for (const backend of o.backends) {
        if (!wanted(loopCaseName(model, 'tfjs', backend))) continue;
        const r = await tfjsCase(o, dir, model, backend);
        if (ref?.samples_per_s && r.samples_per_s) r.ratio_to_pytorch_engine = r.samples_per_s / ref.samples_per_s;
        rows.push(r);
        printLoopRow(o, r);
      }
    }
  } finally {
    if (!o.workdir) rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/** One loop case: which engine, and what the row says of it before the run. */
interface LoopCase {
  model: ModelName;
  engine: EngineName;
  /** The tfjs engine's backend, set in the config. */
  backend?: BenchBackend;
  /** The backend column (the PyTorch engine's torch and device; tfjs's comes from the trainer's `hello`). */
  label: string;
  /** The PyTorch engine's Python. */
  python?: string;
  /** Threads torch takes with the case's OMP_NUM_THREADS, read before the run (loopPython.ts). */
  threads?: number;
  note?: string;
}

function pytorchCase(o: LoopOptions, dir: string, model: ModelName, python: EnginePython): Promise<LoopRow> {
  const c: LoopCase = { model, engine: 'pytorch', label: 'torch' };
  if (!python.ok) return Promise.resolve(emptyRow(o, { ...c, note: `not run: ${python.why}` }));
  return runCase(o, dir, {
    ...c,
    label: torchLabel(python.probe),
    python: python.probe.executable,
    ...(python.threads !== null ? { threads: python.threads } : {}),
  });
}

function tfjsCase(o: LoopOptions, dir: string, model: ModelName, backend: BenchBackend): Promise<LoopRow> {
  const c: LoopCase = { model, engine: 'tfjs', backend, label: backend };
  const shape = shapeOf(o, c);
  if (backend === 'cpu' && model !== 'tiny' && !o.cpuMini && !o.only.includes(loopCaseName(model, 'tfjs', backend)))
    return Promise.resolve(emptyRow(o, { ...c, note: 'skipped: minutes per step on pure JS; --cpu-mini runs it' }));
  if (backend !== 'cpu') return runCase(o, dir, c);
  return runCase(o, dir, { ...c, note: `capped at ${shape.warmup} warm-up + ${shape.steps} steps (pure JS is slow)` });
}

function shapeOf(o: LoopOptions, c: LoopCase): LoopShape {
  const short = c.backend === 'cpu';
  return {
    model: c.model,
    batch: o.batch,
    seq: o.seq,
    // Step W's message closes the warm-up and opens the timed window, so there is at least one warm-up step.
    warmup: Math.max(1, short ? CPU_LOOP.warmup : o.warmup),
    steps: short ? Math.min(o.steps, CPU_LOOP.steps) : o.steps,
    seed: o.seed,
  };
}

async function runCase(o: LoopOptions, dir: string, c: LoopCase): Promise<LoopRow> {
  const shape = shapeOf(o, c);
  const folder = path.join(dir, loopCaseName(c.model, c.engine, c.backend));
  const ws = writeLoopWorkspace(folder, shape, c.engine, c.backend);
  const r = await runLoopProcess({
    configFile: ws.configFile,
    threads: o.threads,
    ...(c.python ? { python: c.python } : {}),
    dist: o.dist,
    timeoutMs: o.timeoutMs,
  });
  const threads = c.engine === 'tfjs' ? tfjsThreads(r) : c.threads;
  const unfair =
    threads !== undefined && threads !== o.threads ? `ran on ${threads} of the ${o.threads} threads asked` : '';
  const row = emptyRow(o, { ...c, label: backendOf(r, c), note: [c.note, unfair].filter(Boolean).join('; ') });
  if (threads !== undefined) row.threads = threads;
  row.marks_ms = r.marks;
  row.first_step_ms = r.marks.step ?? null;
  row.peak_rss_mb = r.memory?.peak_rss_mb ?? null;
  if (r.memory)
    row.processes = r.memory.processes.map(({ name, command, peak_rss_mb }) => ({ name, command, peak_rss_mb }));
  const runDir = planOf(r)?.runDir;
  if (runDir) {
    row.metrics_steps = (await readMetricsLog(runDir)).filter((m) => m.type === 'step').length;
    if (o.workdir) row.run_dir = runDir;
  }
  const failure = failureOf(r, ws.trainRows);
  const stats = failure ?? loopStats(r.steps, shape.batch, shape.warmup, shape.steps);
  if (typeof stats === 'string') return { ...row, note: [row.note, stats].filter(Boolean).join('; ') };
  return { ...row, ...stats };
}

/**
 * The threads the tfjs engine trained on: its worker threads as trainBuild.ts announces them, else one (no
 * workers asked for, a GPU backend, or workers that failed to start, which the trainer warns of).
 */
function tfjsThreads(r: LoopProcessResult): number {
  for (const m of r.messages) {
    const n = m.type === 'log' ? /run on (\d+) threads/.exec(m.message)?.[1] : undefined;
    if (n) return Number(n);
  }
  return 1;
}

function planOf(r: LoopProcessResult) {
  return r.messages.find((m) => m.type === 'plan');
}

/** The tfjs backend the trainer said it runs on (its `hello`), else the case's label. */
function backendOf(r: LoopProcessResult, c: LoopCase): string {
  const hello = r.messages.find((m) => m.type === 'hello');
  return c.engine === 'tfjs' && hello?.type === 'hello' ? hello.backend.name : c.label;
}

/** Why the run gives no numbers: it failed, timed out, or did not train on the data the bench wrote. */
function failureOf(r: LoopProcessResult, trainRows: number): string | undefined {
  if (r.timedOut) return 'timed out';
  if (r.errors.length) return `failed: ${r.errors[0]}`;
  const done = r.messages.find((m) => m.type === 'done');
  if (done?.type !== 'done' || done.status !== 'completed' || r.exitCode !== 0) {
    const last = r.stderrTail.trim().split('\n').slice(-2).join(' | ');
    return `failed: exit ${r.exitCode}, ${done?.type === 'done' ? `status ${done.status}` : 'no done message'}${last ? `: ${last}` : ''}`;
  }
  const plan = planOf(r);
  if (plan?.type === 'plan' && plan.trainExamples !== trainRows)
    return `the run read ${plan.trainExamples} examples of the ${trainRows} written`;
  return undefined;
}

function emptyRow(o: LoopOptions, c: LoopCase): LoopRow {
  const shape = shapeOf(o, c);
  return {
    case: loopCaseName(c.model, c.engine, c.backend),
    model: c.model,
    mode: 'train',
    kind: 'loop',
    engine: c.engine,
    backend: c.label,
    samples_per_s: null,
    tokens_per_s: null,
    peak_rss_mb: null,
    samples_per_cpu_s: null,
    ratio_to_torch: null,
    ratio_to_pytorch_engine: null,
    threads: o.threads,
    batch: shape.batch,
    seq: shape.seq,
    warmup: shape.warmup,
    steps: 0,
    first_step_ms: null,
    marks_ms: {},
    ...(c.note ? { note: c.note } : {}),
  };
}

function printHeader(o: LoopOptions, python: EnginePython | undefined): void {
  o.print(
    `training loops: batch ${o.batch}, seq ${o.seq}, ${o.warmup} warm-up + ${o.steps} timed steps, ${o.threads} threads each (FINETUNE_THREADS = OMP_NUM_THREADS), trainer from ${o.dist ? 'dist/trainer.js' : 'source (tsx)'}`,
  );
  if (python?.ok)
    o.print(`PyTorch engine: ${torchLabel(python.probe)}, Python ${python.probe.python} (${python.probe.executable})`);
  if (python && !python.ok) o.print(`PyTorch engine: not run: ${python.why}`);
  o.print(
    [
      'case'.padEnd(21),
      'engine/backend'.padEnd(54),
      'sampl/s'.padStart(8),
      'tok/s'.padStart(8),
      'step ms'.padStart(7),
      'smp/cpus'.padStart(8),
      '1st step s'.padStart(10),
      'RSS MB'.padStart(7),
      'vsPTeng'.padStart(7),
    ].join(' '),
  );
}

function printLoopRow(o: LoopOptions, r: LoopRow): void {
  const threads = `×${r.threads} thread${r.threads === 1 ? '' : 's'}`;
  const cols = [
    r.case.padEnd(21),
    `${r.engine}/${r.backend} ${threads}`.slice(0, 54).padEnd(54),
    fmt(r.samples_per_s).padStart(8),
    fmt(r.tokens_per_s, 0).padStart(8),
    fmt(r.step_ms_median, 0).padStart(7),
    fmt(r.samples_per_cpu_s).padStart(8),
    fmt(r.first_step_ms === null ? null : r.first_step_ms / 1000).padStart(10),
    fmt(r.peak_rss_mb, 0).padStart(7),
    (r.ratio_to_pytorch_engine === null ? '-' : `${r.ratio_to_pytorch_engine.toFixed(3)}x`).padStart(7),
  ];
  o.print(cols.join(' ') + (r.note ? `  (${r.note})` : ''));
}
