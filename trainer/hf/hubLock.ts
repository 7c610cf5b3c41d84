/**
 * One writer per blob: two runs that fetch the same model at once (two VS Code windows, the CLI next to the
 * extension) must not append to the same `blobs/<etag>.incomplete`. The lock is a file created exclusively
 * under the cache's `.locks/` folder (where huggingface_hub keeps its own, under another name) holding our pid;
 * a lock whose process is gone is taken over.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HubCacheRepo } from '../../files/hf/hubCache';
import { FineTuneError } from '../../common/errors';

const POLL_MS = 200;

function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function withBlobLock<T>(
  repo: HubCacheRepo,
  etag: string,
  fn: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  // repo.blobPath checks the ETag as a file name; the lock sits next to huggingface_hub's, under another name.
  const name = `${path.basename(repo.blobPath(etag))}.finetune-studio.lock`;
  const lock = path.join(repo.cacheDir, '.locks', path.basename(repo.dir), name);
  await fs.mkdir(path.dirname(lock), { recursive: true });
  await acquire(lock, signal);
  try {
    return await fn();
  } finally {
    await fs.rm(lock, { force: true });
  }
}

async function acquire(lock: string, signal: AbortSignal | undefined): Promise<void> {
  for (;;) {
    try {
      await fs.writeFile(lock, String(process.pid), { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = Number((await fs.readFile(lock, 'utf8').catch(() => '')).trim());
    if (!isAlive(holder)) {
      // Its process died mid-download: take it over (the .incomplete file it left is resumed, not lost).
      const aside = `${lock}.stale-${process.pid}`;
      if (
        await fs.rename(lock, aside).then(
          () => true,
          () => false,
        )
      )
        await fs.rm(aside, { force: true });
      continue;
    }
    if (signal?.aborted) throw cancelled(lock);
    await sleep(POLL_MS, undefined, signal ? { signal } : undefined).catch(() => undefined);
    if (signal?.aborted) throw cancelled(lock);
  }
}

function cancelled(lock: string): FineTuneError {
  return new FineTuneError('hub-download-cancelled', 'the download was cancelled while another process held it', {
    detail: `Waiting for ${lock}.`,
    fix: 'Run again once the other download is done.',
  });
}
