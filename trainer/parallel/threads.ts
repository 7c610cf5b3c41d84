/** How many threads the trainer may use; no tfjs here, so that tools (bench/run.ts) can ask without loading it. */
import * as os from 'node:os';
import { THREADS_ENV } from '../../common/protocol';

/**
 * Every core, up to 4. Beyond that each shard of a batch gets too few examples to keep a core busy, and every
 * worker holds a copy of the weights and its own WebAssembly heap.
 */
export function trainerThreads(env: NodeJS.ProcessEnv = process.env, cores = os.availableParallelism()): number {
  const raw = env[THREADS_ENV];
  if (raw !== undefined && raw.trim() !== '') {
    const n = Number(raw);
    if (Number.isInteger(n) && n >= 1) return n;
  }
  return Math.max(1, Math.min(cores, 4));
}
