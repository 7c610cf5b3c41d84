/** How many threads inference may use; no tfjs here, so that tools (bench/run.ts) can ask without loading it. */
import * as os from 'node:os';

/** Environment variable: how many threads inference may use in all (1 turns the pool off). */
export const INFERENCE_THREADS_ENV = 'FINETUNE_INFERENCE_THREADS';

/**
 * Threads for inference: every core, up to 4. Beyond that each shard gets too few examples to keep a core busy,
 * and every worker holds a copy of the weights and its own WebAssembly heap.
 */
export function inferenceThreads(env: NodeJS.ProcessEnv = process.env, cores = os.availableParallelism()): number {
  const raw = env[INFERENCE_THREADS_ENV];
  if (raw !== undefined && raw.trim() !== '') {
    const n = Number(raw);
    if (Number.isInteger(n) && n >= 1) return n;
  }
  return Math.max(1, Math.min(cores, 4));
}
