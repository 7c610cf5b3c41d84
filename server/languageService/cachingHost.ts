/**
 * A `ConfigFileHost` that remembers answers per file stamp (mtime and size), so that typing in the config does
 * not re-read the data file or the safetensors header on every keystroke, yet an edited data file is re-read.
 */
import type { ConfigFileHost, Lookup, ModelInfo } from '../../common/config/fileChecks';

/** A stamp that changes when the file changes (e.g. `${mtimeMs}:${size}`), or undefined when it does not exist. */
export type FileStamp = (absPath: string) => Promise<string | undefined>;

interface Entry {
  stamp: string;
  value: Promise<unknown>;
}

export class HostCache {
  private readonly entries = new Map<string, Entry>();
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
    // A failed read is not remembered: the next keystroke tries again.
    value.catch(() => this.entries.delete(key));
    return value;
  }
}

/** Wraps `inner`; answers are shared by every host built on the same cache (all open configs). */
export function cachingHost(inner: ConfigFileHost, cache: HostCache): ConfigFileHost {
  return {
    resolve: (p) => inner.resolve(p),
    fileExists: (p) => inner.fileExists(p),
    readColumns: (abs) => cache.get<Lookup<string[]>>(`columns\0${abs}`, [abs], () => inner.readColumns(abs)),
    distinctValues: (abs, column, limit) =>
      cache.get<Lookup<string[]>>(`distinct\0${abs}\0${column}\0${limit}`, [abs], () => inner.distinctValues(abs, column, limit)),
    localModel: (nameOrPath) => {
      const dir = inner.resolve(nameOrPath);
      return cache.get<Lookup<ModelInfo> | undefined>(`model\0${dir}`, [dir, `${dir}/config.json`, `${dir}/model.safetensors`], () => inner.localModel(nameOrPath));
    },
    localTokenizer: (nameOrPath) => {
      const dir = inner.resolve(nameOrPath);
      return cache.get<Lookup<true> | undefined>(`tokenizer\0${dir}`, [dir, `${dir}/tokenizer.json`, `${dir}/vocab.txt`], () => inner.localTokenizer(nameOrPath));
    },
  };
}
