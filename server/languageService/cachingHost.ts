/**
 * A `ConfigFileHost` that remembers answers per file stamp (mtime and size), so that typing in the config does
 * not re-read the data file or the safetensors header on every keystroke, yet an edited data file is re-read.
 */
import type { ConfigFileHost, Lookup, ModelInfo } from '../../common/config/fileChecks';
import type { HubRepoCache } from '../../common/config/hubModel';

/** A stamp that changes when the file changes (e.g. `${mtimeMs}:${size}`), or undefined when it does not exist. */
export type FileStamp = (absPath: string) => Promise<string | undefined>;

interface Entry {
  stamp: string;
  value: Promise<unknown>;
}

export class HostCache {
  private readonly entries = new Map<string, Entry>();
  /** The cache folder of each Hub model id asked about, learnt from its first answer, to stamp later ones. */
  readonly hubRepoDirs = new Map<string, string>();
  hits = 0;
  misses = 0;

  constructor(
    readonly stamp: FileStamp,
    private readonly maxEntries = 500,
  ) {}

  async get<T>(key: string, stampPaths: readonly string[], compute: () => Promise<T>): Promise<T> {
    const stamps = await Promise.all(stampPaths.map((p) => this.stamp(p).catch(() => undefined)));
    const stamp = stamps.map((s) => s ?? '-').join('|');
    const hit = this.entries.get(key);
    if (hit && hit.stamp === stamp) {
      this.hits++;
      return hit.value as Promise<T>;
    }
    this.misses++;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    const value = compute();
    this.entries.set(key, { stamp, value });
    // A failed read is not remembered, nor a cancelled one: the next keystroke tries again.
    value.then(
      (v) => {
        if (isCancelled(v) && this.entries.get(key)?.value === value) this.entries.delete(key);
      },
      () => this.entries.delete(key),
    );
    return value;
  }
}

/** A lookup that failed because its caller gave up: it says nothing about the file. */
function isCancelled(v: unknown): boolean {
  return typeof v === 'object' && v !== null && (v as { code?: unknown }).code === 'data-read-cancelled';
}

/**
 * A data-file read shared by every caller that asks while it runs. It runs under the first caller's signal, so a
 * later caller that has not given up reads again when that one was cancelled.
 */
async function shared<T>(
  cache: HostCache,
  key: string,
  file: string,
  signal: AbortSignal | undefined,
  read: () => Promise<T>,
): Promise<T> {
  const v = await cache.get(key, [file], read);
  return isCancelled(v) && !signal?.aborted ? cache.get(key, [file], read) : v;
}

/** Wraps `inner`; answers are shared by every host built on the same cache (all open configs). */
export function cachingHost(inner: ConfigFileHost, cache: HostCache): ConfigFileHost {
  return {
    resolve: (p) => inner.resolve(p),
    fileExists: (p) => inner.fileExists(p),
    readColumns: (abs, signal) => shared(cache, `columns\0${abs}`, abs, signal, () => inner.readColumns(abs, signal)),
    sampleColumns: (abs, signal) =>
      shared(cache, `sample\0${abs}`, abs, signal, () => inner.sampleColumns(abs, signal)),
    localModel: (nameOrPath) => {
      const dir = inner.resolve(nameOrPath);
      return cache.get<Lookup<ModelInfo> | undefined>(
        `model\0${dir}`,
        [dir, `${dir}/config.json`, `${dir}/model.safetensors`],
        () => inner.localModel(nameOrPath),
      );
    },
    localTokenizer: (nameOrPath) => {
      const dir = inner.resolve(nameOrPath);
      return cache.get<Lookup<true> | undefined>(
        `tokenizer\0${dir}`,
        [dir, `${dir}/tokenizer.json`, `${dir}/vocab.txt`],
        () => inner.localTokenizer(nameOrPath),
      );
    },
    // A footer read in the Hub cache, which changes only when a run downloads: not worth a watched cache entry.
    ...(inner.hubDatasetColumns ? { hubDatasetColumns: inner.hubDatasetColumns.bind(inner) } : {}),
    ...hubModelMethods(inner, cache),
  };
}

/**
 * The Hub cache's view of a model, and its snapshots read as folders. A download changes refs/ (a new or renamed
 * ref file) and snapshots/ (a new commit), and a snapshot's files are links whose stat follows them to the blobs.
 */
function hubModelMethods(inner: ConfigFileHost, cache: HostCache): Partial<ConfigFileHost> {
  const { hubModelCache, hubSnapshotModel } = inner;
  if (!hubModelCache || !hubSnapshotModel) return {};
  const repoDirs = cache.hubRepoDirs;
  return {
    hubModelCache: async (id) => {
      // The folder is known after the first answer; until then the entry is keyed by the id alone.
      const dir = repoDirs.get(id);
      // huggingface_hub rewrites refs/main in place, which leaves the folder's stamp as it was.
      const stamps =
        dir === undefined ? [] : [dir, `${dir}/refs`, `${dir}/refs/main`, `${dir}/refs/refs/pr`, `${dir}/snapshots`];
      const view = await cache.get<HubRepoCache>(`hub\0${id}`, stamps, () => hubModelCache.call(inner, id));
      if (dir === undefined) repoDirs.set(id, view.dir);
      return view;
    },
    hubSnapshotModel: (id, sha) => {
      const dir = repoDirs.get(id);
      const snapshot = dir === undefined ? undefined : `${dir}/snapshots/${sha}`;
      const files = ['config.json', 'model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin'];
      return cache.get(
        `hub-snapshot\0${id}\0${sha}`,
        snapshot === undefined ? [] : [snapshot, ...files.map((f) => `${snapshot}/${f}`)],
        () => hubSnapshotModel.call(inner, id, sha),
      );
    },
  };
}
