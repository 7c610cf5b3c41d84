/**
 * `npm run bench [-- --quick] [-- --case tiny-train-wasm,tiny-train-torch] [-- --no-torch] [-- --cpu-mini]
 *                [-- --leak] [-- --latency]`
 *
 * Training and inference throughput and peak memory of our engine on BERT-tiny and BERT-mini (batch 32,
 * sequence 128, AdamW), per tfjs backend, next to the same model in PyTorch when a python with torch is
 * found. Each case runs in its own child process (peak RSS is per process, and the WASM heap never
 * shrinks). The last line printed is one JSON object: {cases:[{model, mode, engine, backend, samples_per_s,
 * peak_rss_mb, ratio_to_torch, ...}]}.
 *
 * `npm run bench -- --engines tfjs,pytorch [--backends wasm] [--python P] [--dist] [--workdir DIR]
 *                   [--batch 32] [--seq 128] [--seed 42] [--threads N]`
 * runs the training-loop cases instead (loop.ts): each engine's real training loop, the trainer subprocess
 * and for engine: pytorch its Python worker, on one generated config; rows with `kind: 'loop'`.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { THREADS_ENV } from '../common/protocol';
import { trainerThreads } from '../trainer/parallel/threads';
import type { CaseResult } from './case';
import { fmt } from './rows';
import type { Row } from './rows';
import { caseName } from './models';
import type { BenchBackend, Mode, ModelName } from './models';
import { argValue } from './util';
import { runLoopCases } from './loop';
import { loopOptions } from './loopArgs';

const BENCH_DIR = __dirname;
const argv = process.argv.slice(2);
const has = (f: string) => argv.includes(f);
const quick = has('--quick');
const steps = Number(argValue('--steps') ?? (quick ? 3 : 10));
const warmup = Number(argValue('--warmup') ?? (quick ? 1 : 3));
const torchThreads = Number(argValue('--threads') ?? 2);
const only = (argValue('--case') ?? '').split(',').filter(Boolean);
const backends = (argValue('--backends') ?? 'wasm,cpu').split(',') as BenchBackend[];
// BERT-base only when asked (`--models tiny,mini,base`): at batch 32 × 128 it is beyond the WASM heap.
const models = (argValue('--models') ?? 'tiny,mini').split(',') as ModelName[];
/** The pure-JS backend needs ~20 s per BERT-tiny training step and minutes for BERT-mini. */
const CPU_CAP = { steps: Math.min(steps, 2), warmup: 1, budgetS: 150 };

function wanted(name: string): boolean {
  return only.length === 0 || only.includes(name);
}

/** Debian's python3-torch is installed for /usr/bin/python3, which a pyenv shim earlier on PATH would hide. */
function findTorchPython(): { python: string; version: string } | null {
  if (has('--no-torch')) return null;
  const candidates = [process.env.BENCH_PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => !!p);
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { python, version: r.stdout.trim() };
  }
  return null;
}

function runChild(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ out: string; err: string; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ out, err, code });
    });
  });
}

function lastJson<T>(out: string, prefix = ''): T | null {
  const lines = out.split('\n').filter((l) => l.startsWith(prefix) && l.length > prefix.length);
  const l = lines[lines.length - 1];
  if (!l) return null;
  try {
    return JSON.parse(l.slice(prefix.length)) as T;
  } catch {
    return null;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface TorchResult {
  backend: string;
  threads: number;
  step_ms: number[];
  cpu_ms: number[];
  samples_per_s: number;
  tokens_per_s: number;
  peak_rss_mb: number;
}

async function runTorch(python: string, model: ModelName, mode: Mode): Promise<Row> {
  // Passive OpenMP waiting: with active spinning (the default), two torch threads on a machine whose cores are
  // also busy with other processes run ~10x slower than one thread; on an idle machine the difference is small.
  const env = {
    ...process.env,
    OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE',
    OMP_NUM_THREADS: String(torchThreads),
  };
  const args = [
    path.join(BENCH_DIR, 'torch_reference.py'),
    '--model',
    model,
    '--mode',
    mode,
    '--steps',
    String(steps),
    '--warmup',
    String(warmup),
    '--threads',
    String(torchThreads),
  ];
  const r = await runChild(python, args, env, 20 * 60_000);
  const j = lastJson<TorchResult>(r.out);
  if (!j)
    return {
      model,
      mode,
      engine: 'pytorch',
      backend: 'torch',
      samples_per_s: null,
      tokens_per_s: null,
      peak_rss_mb: null,
      ratio_to_torch: null,
      note: `failed: ${r.err.trim().split('\n').pop() ?? r.code}`,
    };
  return {
    model,
    mode,
    engine: 'pytorch',
    backend: j.backend,
    samples_per_s: j.samples_per_s,
    tokens_per_s: j.tokens_per_s,
    peak_rss_mb: j.peak_rss_mb,
    step_ms_median: median(j.step_ms),
    cpu_ms_median: median(j.cpu_ms),
    ratio_to_torch: 1,
    threads: j.threads,
    steps: j.step_ms.length,
  };
}

/** `threads` sets FINETUNE_THREADS for the case (replicas.ts); unset, the engine's default. */
async function runOurs(model: ModelName, mode: Mode, backend: BenchBackend, threads?: number): Promise<Row> {
  const name = caseName({ model, mode, backend });
  const cap = backend === 'cpu' ? CPU_CAP : { steps, warmup, budgetS: 600 };
  const args = [
    '--import',
    'tsx',
    path.join(BENCH_DIR, 'case.ts'),
    '--case',
    name,
    '--steps',
    String(cap.steps),
    '--warmup',
    String(cap.warmup),
    '--budget-s',
    String(cap.budgetS),
  ];
  const env = threads === undefined ? process.env : { ...process.env, [THREADS_ENV]: String(threads) };
  const r = await runChild(process.execPath, args, env, 20 * 60_000);
  const j = lastJson<CaseResult>(r.out, 'BENCH_RESULT ');
  if (!j)
    return {
      model,
      mode,
      engine: 'tfjs',
      backend,
      samples_per_s: null,
      tokens_per_s: null,
      peak_rss_mb: null,
      ratio_to_torch: null,
      note: `failed: ${r.err.trim().split('\n').slice(-3).join(' | ') || `exit ${r.code}`}`,
    };
  return {
    model,
    mode,
    engine: 'tfjs',
    backend: j.backend,
    samples_per_s: j.samples_per_s,
    tokens_per_s: j.tokens_per_s,
    peak_rss_mb: j.peak_rss_mb,
    wasm_heap_mb: j.wasm_heap_mb,
    step_ms_median: median(j.step_ms),
    cpu_ms_median: median(j.cpu_ms),
    samples_per_cpu_s: (j.batch * 1000) / median(j.cpu_ms),
    ratio_to_torch: null,
    threads: j.threads,
    steps: j.steps,
    capped: j.capped,
    tensors_flat: j.tensors_first === j.tensors_last,
    ...(backend === 'cpu' ? { note: `capped at ${cap.warmup} warm-up + ${cap.steps} steps (pure JS is slow)` } : {}),
  };
}

function printRow(r: Row): void {
  const cols = [
    `${r.model}-${r.mode}`.padEnd(11),
    `${r.engine}/${r.backend}${r.threads && r.threads > 1 ? ` ×${r.threads} threads` : r.engine === 'tfjs' ? ', 1 thread' : ''}`
      .slice(0, 44)
      .padEnd(44),
    fmt(r.samples_per_s).padStart(8),
    fmt(r.tokens_per_s, 0).padStart(8),
    fmt(r.step_ms_median, 0).padStart(7),
    fmt(r.samples_per_cpu_s).padStart(8),
    fmt(r.peak_rss_mb, 0).padStart(7),
    fmt(r.wasm_heap_mb, 0).padStart(6),
    (r.ratio_to_torch === null ? '-' : `${r.ratio_to_torch.toFixed(3)}x`).padStart(7),
    (r.rss_ratio_to_torch === null || r.rss_ratio_to_torch === undefined
      ? '-'
      : `${r.rss_ratio_to_torch.toFixed(2)}x`
    ).padStart(6),
  ];
  console.log(cols.join(' ') + (r.note ? `  (${r.note})` : ''));
}

async function main(): Promise<void> {
  const load = os.loadavg()[0] ?? 0;
  const cpus = os.cpus();
  console.log(
    `bench: node ${process.version}, ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} logical cores, load ${load.toFixed(1)}`,
  );
  if (load > cpus.length)
    console.log(
      `warning: load average ${load.toFixed(1)} exceeds the ${cpus.length} cores; absolute numbers will be low, ratios noisy`,
    );
  const cases = argValue('--engines') === undefined ? await modelSteps() : await engineLoops();
  console.log(JSON.stringify({ load_avg: load, ...cases }));
}

/** `--engines tfjs,pytorch`: the training-loop cases (loop.ts) instead of the model-step ones. */
async function engineLoops(): Promise<{ cases: unknown[] }> {
  const options = loopOptions(argv, { models, warmup, steps, only });
  if (typeof options === 'string') {
    console.error(`bench: ${options}`);
    process.exit(2);
  }
  return { cases: await runLoopCases(options) };
}

/** The model-step cases: one step of our model per backend, next to PyTorch's raw model (torch_reference.py). */
async function modelSteps(): Promise<Record<string, unknown>> {
  const torch = findTorchPython();
  console.log(`model steps: batch 32, seq 128, ${warmup} warm-up + ${steps} timed steps (median)`);
  console.log(
    torch
      ? `reference: PyTorch ${torch.version} via ${torch.python}, ${torchThreads} threads, OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY ?? 'PASSIVE'}`
      : 'reference: no python with torch found (on Debian: apt-get install python3-torch libopenblas0-openmp); ratios are omitted',
  );
  console.log(
    [
      'case'.padEnd(11),
      'engine/backend'.padEnd(44),
      'sampl/s'.padStart(8),
      'tok/s'.padStart(8),
      'step ms'.padStart(7),
      'smp/cpus'.padStart(8),
      'RSS MB'.padStart(7),
      'heapMB'.padStart(6),
      'vsTorch'.padStart(7),
      'RSSx'.padStart(6),
    ].join(' '),
  );

  const rows: Row[] = [];
  for (const model of models) {
    for (const mode of ['train', 'infer'] as const) {
      let ref: Row | null = null;
      if (torch && wanted(`${model}-${mode}-torch`)) {
        ref = await runTorch(torch.python, model, mode);
        rows.push(ref);
        printRow(ref);
      }
      for (const backend of backends) {
        const name = caseName({ model, mode, backend });
        if (!wanted(name)) continue;
        if (backend === 'cpu' && model === 'mini' && mode === 'train' && !has('--cpu-mini') && only.length === 0) {
          const r: Row = {
            model,
            mode,
            engine: 'tfjs',
            backend: 'cpu',
            samples_per_s: null,
            tokens_per_s: null,
            peak_rss_mb: null,
            ratio_to_torch: null,
            note: 'skipped: minutes per step on pure JS; --cpu-mini runs it',
          };
          rows.push(r);
          printRow(r);
          continue;
        }
        // The engine's default (each batch split across worker threads) and, as the in-script baseline, the same
        // case on one thread.
        const variants = trainerThreads() > 1 ? [undefined, 1] : [undefined];
        for (const threads of variants) {
          const r = await runOurs(model, mode, backend, threads);
          if (ref?.samples_per_s && r.samples_per_s) r.ratio_to_torch = r.samples_per_s / ref.samples_per_s;
          if (ref?.peak_rss_mb && r.peak_rss_mb) r.rss_ratio_to_torch = r.peak_rss_mb / ref.peak_rss_mb;
          rows.push(r);
          printRow(r);
        }
      }
    }
  }
  const extra: Record<string, unknown> = {};
  if (has('--leak')) extra.leak_check = await leakCheck();
  if (has('--latency')) {
    const r = await runChild(
      process.execPath,
      ['--import', 'tsx', path.join(BENCH_DIR, 'latency.ts')],
      process.env,
      10 * 60_000,
    );
    process.stdout.write(
      r.out
        .split('\n')
        .filter((l) => !l.startsWith('{'))
        .join('\n'),
    );
    extra.latency = (lastJson<{ latency: unknown }>(r.out) ?? { latency: null }).latency;
  }
  return { cases: rows, ...extra };
}

/** numTensors and the WASM heap over 1,000 BERT-tiny training steps at small shapes: both must stay flat. */
async function leakCheck(): Promise<unknown> {
  const args = [
    '--import',
    'tsx',
    path.join(BENCH_DIR, 'case.ts'),
    '--case',
    'tiny-train-wasm',
    '--steps',
    '1000',
    '--warmup',
    '1',
    '--batch',
    '4',
    '--seq',
    '32',
  ];
  const r = await runChild(process.execPath, args, process.env, 30 * 60_000);
  const j = lastJson<CaseResult>(r.out, 'BENCH_RESULT ');
  if (!j) return { failed: r.err.trim().split('\n').pop() };
  const flat = j.tensors_first === j.tensors_last && j.wasm_heap_first_mb === j.wasm_heap_mb;
  console.log(
    `leak check: ${j.steps} steps, numTensors ${j.tensors_first} → ${j.tensors_last}, WASM heap ${fmt(j.wasm_heap_first_mb, 0)} → ${fmt(j.wasm_heap_mb, 0)} MB: ${flat ? 'flat' : 'GROWS'}`,
  );
  return {
    steps: j.steps,
    tensors_first: j.tensors_first,
    tensors_last: j.tensors_last,
    heap_first_mb: j.wasm_heap_first_mb,
    heap_last_mb: j.wasm_heap_mb,
    flat,
  };
}

void main();
