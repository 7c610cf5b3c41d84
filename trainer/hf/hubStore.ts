/**
 * One file of a Hub snapshot into the cache: its blob (downloaded unless another revision already brought it,
 * under the blob's lock) and its `snapshots/<sha>/<file>` link. Models (hub.ts) and data sets (hubDataset.ts)
 * store their files the same way, so the cache looks the same to huggingface_hub for both.
 */
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { FineTuneError } from '../../common/errors';
import type { HubCacheRepo } from '../../files/hf/hubCache';
import type { HubClient, HubFileMeta } from './hubClient';
import { withBlobLock } from './hubLock';

export async function storeHubFile(
  repo: HubCacheRepo,
  client: HubClient,
  sha: string,
  meta: HubFileMeta,
  signal: AbortSignal | undefined,
): Promise<string> {
  if (meta.commit !== sha) {
    throw new FineTuneError('hub-bad-response', `the Hub answered for ${meta.file} with another commit`, {
      detail: `${meta.commit} instead of ${sha}, although the request named the commit.`,
      fix: 'Check HF_ENDPOINT (or a proxy in between), then run again.',
    });
  }
  if (await repo.has(sha, meta.file)) return repo.pointerPath(sha, meta.file);
  const blob = repo.blobPath(meta.etag);
  await fs.mkdir(path.dirname(blob), { recursive: true });
  await withBlobLock(
    repo,
    meta.etag,
    async () => {
      const present = (await fs.stat(blob).catch(() => undefined))?.size === meta.size;
      if (!present) await client.download(meta, blob);
    },
    signal,
  );
  return repo.link(sha, meta.file, meta.etag);
}
