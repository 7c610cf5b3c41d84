/**
 * The demo's command line. Everything is checked here, before any file is written or any model fetched.
 *
 *   npm run demo -- [--model DIR|HUB_ID] [--task sentiment|mrpc] [--backend auto|webgpu|...] [--quick] [--publish]
 *                   [--seeds 1,2,3] [--sizes 64,128,...|none] [--curve-seeds 1,2] [--parallel 2] [--out DIR]
 *                   [--variants scratch,finetune] [--max-steps N] [--learning-rate scratch=1e-4,finetune=2e-5]
 */
import * as path from 'node:path';
import { BACKEND_PREFERENCES } from '../../common/config/schema';
import { SHIPPED_MODEL } from './demoModel';
import { findTask, type DemoTask } from './tasks';

/** The three arms, in table order, each described for the report given the model's name. */
export const VARIANTS: Readonly<Record<string, (model: string) => string>> = {
  scratch: (m) => `random initialisation, the architecture and tokenizer of ${m}`,
  finetune: (m) => `all layers fine-tuned from ${m}`,
  'finetune-frozen': (m) => `${m} with its embeddings and all encoder layers but the top one frozen`,
};

/** The curve's training-set sizes by default; the full train split is always the last point. */
export const DEFAULT_SIZES = [64, 128, 256, 512, 1024];
/** Quick mode's curve: one subset, so that the smoke run draws a 2-point curve in seconds. */
export const QUICK_SIZES = [32];
/** The seed of the subsets: fixed, so every arm and every training seed sees the same examples at a size. */
export const SUBSET_SEED = 42;

export interface DemoOptions {
  root: string;
  out: string;
  quick: boolean;
  publish: boolean;
  seeds: number[];
  parallel: number;
  variants: string[];
  quickSteps: number;
  /** Overrides every config's max_steps (same budget for all variants). */
  maxSteps?: number;
  /** As given: a folder (relative to the working folder) or a Hub id. */
  model: string;
  task: DemoTask;
  backend?: string;
  /** Training-set sizes of the curve (below the full split); empty: no curve. */
  sizes: number[];
  /** Seeds of the curve's subset runs (the full-split point has every seed of the main comparison). */
  curveSeeds: number[];
  learningRates: Map<string, number>;
}

type Value = (name: string) => string | undefined;

function integers(text: string, name: string, min: number): number[] {
  const list = text.split(',').map(Number);
  if (list.length === 0 || list.some((s) => !Number.isInteger(s) || s < min))
    throw new Error(`${name} wants comma-separated integers of at least ${min}, got ${text}`);
  return list;
}

function positive(value: Value, name: string, fallback: number): number {
  const n = Number(value(name) ?? fallback);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} wants a positive integer, got ${value(name)}`);
  return n;
}

function parseVariants(value: Value): string[] {
  const variants = (value('--variants') ?? Object.keys(VARIANTS).join(',')).split(',');
  const unknown = variants.filter((v) => !Object.hasOwn(VARIANTS, v));
  if (unknown.length)
    throw new Error(`unknown variant(s) ${unknown.join(', ')}; known: ${Object.keys(VARIANTS).join(', ')}`);
  return variants;
}

/** `scratch=1e-4,finetune=2e-5`: a learning rate per arm, instead of the configs' (or the other-model defaults). */
function parseLearningRates(text: string | undefined): Map<string, number> {
  const rates = new Map<string, number>();
  for (const item of text ? text.split(',') : []) {
    const [variant = '', rate = ''] = item.split('=');
    const n = Number(rate);
    if (!Object.hasOwn(VARIANTS, variant) || !(n > 0 && n < 1))
      throw new Error(`--learning-rate wants variant=rate pairs such as scratch=1e-4,finetune=2e-5, got ${item}`);
    rates.set(variant, n);
  }
  return rates;
}

function parseCurve(value: Value, quick: boolean, seeds: number[]): { sizes: number[]; curveSeeds: number[] } {
  const sizesText = value('--sizes');
  const sizes =
    sizesText === 'none' ? [] : sizesText ? integers(sizesText, '--sizes', 1) : quick ? QUICK_SIZES : DEFAULT_SIZES;
  const curveSeedsText = value('--curve-seeds');
  // Two seeds by default, to keep the whole default demo under 10 minutes on two cores (README).
  const curveSeeds = curveSeedsText ? integers(curveSeedsText, '--curve-seeds', 0) : seeds.slice(0, quick ? 1 : 2);
  return { sizes: [...new Set(sizes)].sort((a, b) => a - b), curveSeeds };
}

export function parseArgs(argv: readonly string[], root: string): DemoOptions {
  const value: Value = (name) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  const seeds = integers(value('--seeds') ?? (quick ? '1' : '1,2,3'), '--seeds', 0);
  const maxSteps = value('--max-steps') === undefined ? undefined : positive(value, '--max-steps', 0);
  const backend = value('--backend');
  if (backend !== undefined && !(BACKEND_PREFERENCES as readonly string[]).includes(backend))
    throw new Error(`--backend wants one of ${BACKEND_PREFERENCES.join(', ')}, got ${backend}`);
  return {
    root,
    out: path.resolve(value('--out') ?? path.join(root, '.finetune', quick ? 'demo-quick' : 'demo')),
    quick,
    publish: argv.includes('--publish'),
    seeds,
    parallel: positive(value, '--parallel', 2),
    variants: parseVariants(value),
    quickSteps: positive(value, '--quick-steps', 12),
    ...(maxSteps !== undefined ? { maxSteps } : {}),
    model: value('--model') ?? path.join(root, SHIPPED_MODEL),
    task: findTask(value('--task') ?? 'sentiment'),
    ...(backend !== undefined ? { backend } : {}),
    ...parseCurve(value, quick, seeds),
    learningRates: parseLearningRates(value('--learning-rate')),
  };
}
