/** Where the PyTorch worker's Python package is: the trainer starts it from there. */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { FineTuneError } from '../../common/errors';

/**
 * The folder holding `finetune_worker/`: `python/` at the package root, found from this file in the source tree
 * (trainer/pytorch/) and from the bundle (dist/).
 */
export function workerRoot(from = __dirname): string {
  for (let dir = from, i = 0; i < 4; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'python');
    if (existsSync(path.join(candidate, 'finetune_worker', '__main__.py'))) return candidate;
  }
  throw new FineTuneError(
    'engine-worker-missing',
    `the PyTorch worker (python/finetune_worker) is not next to ${from}`,
    {
      fix: 'Reinstall Fine-Tune Studio: its package ships the worker.',
    },
  );
}
