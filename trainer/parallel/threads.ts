/** How many threads the trainer may use; no tfjs here, so that tools (bench/run.ts) can ask without loading it. */
import * as os from 'node:os';
import { threadsFor } from '../../common/memoryCheck';
import { THREADS_ENV } from '../../common/protocol';

/** `FINETUNE_THREADS`, else every core up to 4 (common/memoryCheck.ts says why, and the server assumes the same). */
export function trainerThreads(env: NodeJS.ProcessEnv = process.env, cores = os.availableParallelism()): number {
  return threadsFor(env[THREADS_ENV], cores);
}
