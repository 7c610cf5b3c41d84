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

function pytorchCase(o: LoopOptions, dir: string, model: ModelName, python: EnginePython): Promise<LoopRow> {
  if (!python.ok) {
    return Promise.resolve(emptyRow(o, model, 'pytorch', 'torch', shapeOf(o, model), `not run: ${python.why}`));
  }
  const label = torchLabel(python.probe);
  const threadNote =
    python.threads !== null && python.threads !== o.threads
      ? `torch took ${python.threads} threads for OMP_NUM_THREADS=${o.threads}`
      : undefined;
  return runCase(o, dir, model, 'pytorch', undefined, label, python.probe.executable, threadNote);
}

function tfjsCase(o: LoopOptions, dir: string, model: ModelName, backend: BenchBackend): Promise<LoopRow> {
  const shape = shapeOf(o, model, backend);
  if (backend === 'cpu' && model !== 'tiny' && !o.cpuMini && !o.only.includes(loopCaseName(model, 'tfjs', backend)))
    return Promise.resolve(
      emptyRow(o, model, 'tfjs', 'cpu', shape, 'skipped: minutes per step on pure JS; --cpu-mini runs it', backend),
    );
  const note =
    backend === 'cpu' ? `capped at ${shape.warmup} warm-up + ${shape.steps} steps (pure JS is slow)` : undefined;
  return runCase(o, dir, model, 'tfjs', backend, backend, undefined, note);
}

function shapeOf(o: LoopOptions, model: ModelName, backend?: BenchBackend): LoopShape {
  const short = backend === 'cpu';
  return {
    model,
    batch: o.batch,
    seq: o.seq,
    // Step W's message closes the warm-up and opens the timed window, so there is at least one warm-up step.
    warmup: Math.max(1, short ? CPU_LOOP.warmup : o.warmup),
    steps: short ? Math.min(o.steps, CPU_LOOP.steps) : o.steps,
    seed: o.seed,
  };
}

async function runCase(
  o: LoopOptions,
  dir: string,
  model: ModelName,
  engine: EngineName,
  backend: BenchBackend | undefined,
  label: string,
  python: string | undefined,
  note: string | undefined,
): Promise<LoopRow> {
  const shape = shapeOf(o, model, backend);
  const ws = writeLoopWorkspace(path.join(dir, loopCaseName(model, engine, backend)), shape, engine, backend);
  const r = await runLoopProcess({
    configFile: ws.configFile,
    threads: o.threads,
    ...(python ? { python } : {}),
    dist: o.dist,
    timeoutMs: o.timeoutMs,
  });
  const row = emptyRow(o, model, engine, backendOf(r, engine, label), shape, note, backend);
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
  if (typeof stats === 'string') return { ...row, note: [note, stats].filter(Boolean).join('; ') };
  return { ...row, ...stats };
}

function planOf(r: LoopProcessResult) {
  return r.messages.find((m) => m.type === 'plan');
}

/** The tfjs backend the trainer said it runs on (its `hello`), else the one asked for. */
function backendOf(r: LoopProcessResult, engine: EngineName, label: string): string {
  const hello = r.messages.find((m) => m.type === 'hello');
  return engine === 'tfjs' && hello?.type === 'hello' ? hello.backend.name : label;
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

function emptyRow(
  o: LoopOptions,
  model: ModelName,
  engine: EngineName,
  backend: string,
  shape: LoopShape,
  note: string | undefined,
  backendAsked?: BenchBackend,
): LoopRow {
  return {
    case: loopCaseName(model, engine, backendAsked),
    model,
    mode: 'train',
    kind: 'loop',
    engine,
    backend,
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
    ...(note ? { note } : {}),
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
      'engine/backend'.padEnd(48),
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
    `${r.engine}/${r.backend} ${threads}`.slice(0, 48).padEnd(48),
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
