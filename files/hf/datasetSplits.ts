/**
 * Which Parquet files of a Hub data set hold a split. The Hub's conversion (`refs/convert/parquet`) writes
 * `<config>/<split>/0000.parquet` (`<config>/partial-<split>/…` when it converted only the first rows), older
 * conversions `<config>/<dataset>-<split>.parquet`, and `datasets`' push_to_hub writes
 * `<config>/<split>-00000-of-00001.parquet` on main. No network here: the language server reads the cache with it.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { HubCacheRepo, hubSettings } from './hubCache';
import { checkSegment } from '../../common/safeName';

const SHARD_SUFFIX = /-\d{5}-of-\d{5}$/;
/** The Hub's default configuration name, as `datasets` uses it for data sets with one configuration. */
export const DEFAULT_DATASET_CONFIG = 'default';
export const DEFAULT_DATASET_REVISION = 'refs/convert/parquet';
/** A split folder never has more files than this (GLUE has one per split); more is not a data set we can train on. */
const MAX_CACHED_FILES = 10_000;

/** The split a repo file belongs to, or undefined when it is no Parquet file of `config`. */
export function splitOfFile(file: string, config: string): string | undefined {
  if (!file.startsWith(`${config}/`) || !file.endsWith('.parquet')) return undefined;
  const parts = file.slice(config.length + 1).split('/');
  if (parts.length === 2) return (parts[0] as string).replace(/^partial-/, '');
  if (parts.length !== 1) return undefined;
  const stem = (parts[0] as string).slice(0, -'.parquet'.length).replace(SHARD_SUFFIX, '');
  return stem.slice(stem.lastIndexOf('-') + 1);
}

/** The split names among `files`, sorted (for "the data set has the splits …" messages). */
export function splitsOf(files: readonly string[], config: string): string[] {
  const splits = new Set<string>();
  for (const f of files) {
    const s = splitOfFile(f, config);
    if (s !== undefined) splits.add(s);
  }
  return [...splits].sort();
}

/** The split's files in shard order. */
export function filesOfSplit(files: readonly string[], config: string, split: string): string[] {
  return files.filter((f) => splitOfFile(f, config) === split).sort(byShard);
}

function byShard(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** Repo-relative names of the Parquet files of `config` in the snapshot `sha` (two levels at most). */
export async function cachedConfigFiles(repo: HubCacheRepo, sha: string, config: string): Promise<string[]> {
  const root = path.join(repo.snapshotDir(sha), checkSegment(config, { origin: `the config of '${repo.id}'` }));
  const out: string[] = [];
  const walk = async (dir: string, rel: string, depth: number): Promise<void> => {
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (out.length >= MAX_CACHED_FILES) return;
      const name = `${rel}/${e.name}`;
      if (e.isDirectory() && depth === 0) await walk(path.join(dir, e.name), name, 1);
      else if (e.name.endsWith('.parquet') && (await repo.has(sha, name))) out.push(name);
    }
  };
  await walk(root, config, 0);
  return out;
}

export interface CachedDatasetQuery {
  name: string;
  config?: string;
  revision?: string;
  split: string;
  cacheDir?: string;
}

/** Absolute paths of a split's cached files, or undefined when the cache has none (the language server's view). */
export async function cachedSplitFiles(q: CachedDatasetQuery): Promise<string[] | undefined> {
  const cacheDir = q.cacheDir ?? (await hubSettings()).cacheDir;
  const config = q.config ?? DEFAULT_DATASET_CONFIG;
  const repo = new HubCacheRepo(cacheDir, q.name, 'dataset');
  const sha = await repo.resolveRevision(q.revision ?? DEFAULT_DATASET_REVISION);
  if (sha === undefined) return undefined;
  const files = filesOfSplit(await cachedConfigFiles(repo, sha, config), config, q.split);
  return files.length > 0 ? files.map((f) => repo.pointerPath(sha, f)) : undefined;
}
