/**
 * The rows `npm run bench` prints as its last JSON line: the model-step cases (run.ts: one model step in a
 * process of its own, next to PyTorch's raw model) and the training-loop cases (loop.ts: each engine's whole
 * training loop, as a user runs it).
 */
import type { Mode, ModelName } from './models';

export interface Row {
  model: ModelName;
  mode: Mode;
  engine: 'tfjs' | 'pytorch';
  backend: string;
  samples_per_s: number | null;
  tokens_per_s: number | null;
  peak_rss_mb: number | null;
  wasm_heap_mb?: number | null;
  step_ms_median?: number;
  /** CPU time (all threads) of the median step: the work per step, which other processes' load changes less. */
  cpu_ms_median?: number;
  /**
   * tfjs only: batch / median CPU time of a step. For a single-threaded backend this is what the wall clock
   * shows on an idle machine, so it is the number to look at when other processes share the cores.
   */
  samples_per_cpu_s?: number;
  ratio_to_torch: number | null;
  rss_ratio_to_torch?: number | null;
  threads?: number;
  steps?: number;
  capped?: boolean;
  tensors_flat?: boolean;
  note?: string;
}

/** A process's own peak RSS in a loop case's process tree. */
export interface ProcessRss {
  name: string;
  /** Its command line, cut short. */
  command: string;
  peak_rss_mb: number;
}

/**
 * One engine's real training loop: the trainer subprocess (and, for engine: pytorch, the Python worker it
 * starts) training on a generated config, measured from the run's own `step` messages after the warm-up.
 */
export interface LoopRow extends Omit<Row, 'samples_per_cpu_s'> {
  kind: 'loop';
  /** `tiny-loop-pytorch`, `mini-loop-tfjs-wasm`: what --case selects. */
  case: string;
  mode: 'train';
  /** Samples per CPU second of the whole process tree; null where /proc cannot be read. */
  samples_per_cpu_s: number | null;
  /** What the step messages said of their own compute windows (loopStats.ts). */
  reported_samples_per_s?: number;
  batch: number;
  seq: number;
  warmup: number;
  /** ms from starting the trainer to its first `step` message (step 1 included): the start-up a user waits. */
  first_step_ms: number | null;
  /** ms from start to the first message of each type (`worker`: the PyTorch worker's first line). */
  marks_ms: Record<string, number>;
  /** Each process of the tree (the Node trainer; the Python worker), its own peak. */
  processes?: ProcessRss[];
  /** `step` records in the run's metrics.jsonl: the run folder saw the same steps as the bench. */
  metrics_steps?: number;
  /** samples_per_s / the PyTorch engine's on the same model in the same run (1 for the PyTorch engine). */
  ratio_to_pytorch_engine: number | null;
  /** The run folder, when the bench keeps its workspace (--workdir); the default temporary one is removed. */
  run_dir?: string;
}

export const fmt = (x: number | null | undefined, d = 1): string =>
  x === null || x === undefined ? '-' : x.toFixed(d);
