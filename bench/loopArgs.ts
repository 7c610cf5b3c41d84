/**
 * The command line of the training-loop cases (`npm run bench -- --engines tfjs,pytorch …`), read into
 * loop.ts's options. `--engines` is what selects them: without it `npm run bench` runs the model-step cases.
 */
import { existsSync } from 'node:fs';
import { ENGINES } from '../common/config/engineSchema';
import type { EngineName } from '../common/config/engineSchema';
import { trainerThreads } from '../trainer/parallel/threads';
import type { LoopOptions } from './loop';
import type { BenchBackend, ModelName } from './models';
import { trainerEntry } from './loopRun';
import { argValue } from './util';

const BACKENDS: readonly BenchBackend[] = ['wasm', 'cpu', 'webgpu'];
const MODELS: readonly ModelName[] = ['tiny', 'mini', 'base'];

/** What run.ts reads for every case: the models, the steps' defaults (`--quick` changes them) and `--case`. */
export interface SharedArgs {
  models: readonly string[];
  warmup: number;
  steps: number;
  only: readonly string[];
}

/** The options, or what is wrong with the command line (a usage error naming the flag). */
export function loopOptions(argv: readonly string[], shared: SharedArgs): LoopOptions | string {
  const problems: string[] = [];
  const engines = listArg(argv, '--engines', ENGINES, '', problems);
  if (argValue('--engines', argv) !== undefined && engines.length === 0)
    problems.push(`--engines takes ${ENGINES.join(',')}`);
  const backends = listArg(argv, '--backends', BACKENDS, 'wasm', problems);
  const models = checkList('--models', shared.models, MODELS, problems);
  const whole = (flag: string, fallback: number, min = 1) => wholeArg(argv, flag, fallback, min, problems);
  const python = argValue('--python', argv) ?? process.env.BENCH_PYTHON;
  const workdir = argValue('--workdir', argv);
  const o: LoopOptions = {
    engines,
    // The engine's own choice on a machine without a GPU; --backends wasm,cpu,webgpu for others.
    backends,
    models,
    batch: whole('--batch', 32),
    seq: whole('--seq', 128),
    warmup: whole('--warmup', shared.warmup),
    steps: whole('--steps', shared.steps),
    seed: whole('--seed', 42, 0),
    // As the trainer takes them (every core up to 4), so that both engines get what a user's run gets.
    threads: whole('--threads', trainerThreads()),
    ...(python ? { python } : {}),
    dist: argv.includes('--dist'),
    ...(workdir ? { workdir } : {}),
    only: shared.only,
    cpuMini: argv.includes('--cpu-mini'),
    timeoutMs: 30 * 60_000,
    print: (line) => console.log(line),
  };
  if (o.dist && !existsSync(trainerEntry(true)[0]!))
    problems.push('--dist runs dist/trainer.js: build it first (npm run build)');
  return problems.length ? problems.join('; ') : o;
}

function listArg<T extends string>(
  argv: readonly string[],
  flag: string,
  allowed: readonly T[],
  fallback: string,
  problems: string[],
): T[] {
  const items = (argValue(flag, argv) ?? fallback).split(',').filter(Boolean);
  return checkList(flag, items, allowed, problems);
}

function checkList<T extends string>(
  flag: string,
  items: readonly string[],
  allowed: readonly T[],
  problems: string[],
): T[] {
  const bad = items.filter((x) => !(allowed as readonly string[]).includes(x));
  if (bad.length) problems.push(`${flag} takes ${allowed.join(',')}; got ${bad.map((b) => `'${b}'`).join(', ')}`);
  return items.filter((x): x is T => (allowed as readonly string[]).includes(x));
}

/** A whole-number flag, at least `min`. */
function wholeArg(argv: readonly string[], flag: string, fallback: number, min: number, problems: string[]): number {
  const text = argValue(flag, argv);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (Number.isInteger(n) && n >= min) return n;
  problems.push(`${flag} takes a whole number of at least ${min}; got '${text}'`);
  return fallback;
}
