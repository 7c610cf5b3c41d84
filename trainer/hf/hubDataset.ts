/**
 * A Hub data set's splits as local Parquet files, through the models' client, cache, token and offline rules
 * (hub.ts): `datasets--org--name` in the shared cache, laid out as huggingface_hub lays it out. The files are the
 * revision's Parquet files (default `refs/convert/parquet`, the Hub's own conversion), found with the Hub's tree
 * API as `datasets`' HfFileSystem finds them. Cached splits are used without any request; every name in a
 * listing is checked before anything is fetched, and `refs/<revision>` is written only once every split is in.
 */
import { FineTuneError } from '../../common/errors';
import { checkRelativeName, checkSegment } from '../../common/safeName';
import { MAX_DATA_FILE_BYTES } from '../../files/data/boundedRead';
import { FULL_SHA } from '../../common/hubRevision';
import { HubCacheRepo, type HubSettings } from '../../files/hf/hubCache';
import { cachedConfigFiles, DEFAULT_DATASET_REVISION, filesOfSplit, splitsOf } from '../../files/hf/datasetSplits';
import { settingsFor, type HubOptions } from './hub';
import { HubClient } from './hubClient';
import { storeHubFile } from './hubStore';

export interface DatasetRequest {
  name: string;
  config: string;
  revision?: string;
  /** Splits to fetch; an optional one the data set lacks is left out of the answer. */
  splits: { name: string; required: boolean }[];
}

export interface DatasetSplits {
  sha: string;
  /** Split name to its files (absolute paths into the snapshot), in shard order. */
  files: Map<string, string[]>;
}

const TRUE_VALUES = new Set(['1', 'ON', 'YES', 'TRUE']);

export async function fetchHubDataset(req: DatasetRequest, options: HubOptions = {}): Promise<DatasetSplits> {
  const where = { origin: `the data set '${req.name}'` };
  const revision = checkRelativeName(req.revision ?? DEFAULT_DATASET_REVISION, where);
  checkSegment(req.config, where);
  for (const s of req.splits) checkSegment(s.name, where);
  const settings = await settingsFor(options);
  const repo = new HubCacheRepo(settings.cacheDir, req.name, 'dataset');
  const cached = await fromCache(repo, req, revision);
  if (cached !== undefined && cached.complete) return cached.splits;
  const offline = settings.offline || datasetsOffline() || options.allowRemote === false;
  if (offline) {
    if (cached !== undefined && cached.requiredPresent) return cached.splits;
    throw notCached(req, revision, settings, repo);
  }
  return new DatasetDownload(req, revision, repo, clientFor(req.name, settings, options), options.signal).run();
}

function datasetsOffline(): boolean {
  return TRUE_VALUES.has((process.env.HF_DATASETS_OFFLINE ?? '').trim().toUpperCase());
}

interface CacheAnswer {
  splits: DatasetSplits;
  /** Every split is either cached or known to be missing. */
  complete: boolean;
  requiredPresent: boolean;
}

async function fromCache(repo: HubCacheRepo, req: DatasetRequest, revision: string): Promise<CacheAnswer | undefined> {
  const sha = await repo.resolveRevision(revision);
  if (sha === undefined) return undefined;
  const all = await cachedConfigFiles(repo, sha, req.config);
  const answer: CacheAnswer = { splits: { sha, files: new Map() }, complete: true, requiredPresent: true };
  for (const s of req.splits) {
    const files = filesOfSplit(all, req.config, s.name);
    if (files.length > 0)
      answer.splits.files.set(
        s.name,
        files.map((f) => repo.pointerPath(sha, f)),
      );
    else if (!(await repo.knownMissing(sha, splitMarker(req.config, s.name)))) {
      answer.complete = false;
      if (s.required) answer.requiredPresent = false;
    }
  }
  return answer;
}

/** `.no_exist/<sha>/<config>/<split>.split`: the data set has no such split at this commit. */
function splitMarker(config: string, split: string): string {
  return `${config}/${split}.split`;
}

function notCached(req: DatasetRequest, revision: string, settings: HubSettings, repo: HubCacheRepo): FineTuneError {
  const why =
    settings.offline || datasetsOffline()
      ? 'HF_HUB_OFFLINE (or HF_DATASETS_OFFLINE) is set'
      : 'downloading is turned off';
  const splits = req.splits.filter((s) => s.required).map((s) => s.name);
  return new FineTuneError(
    'dataset-not-cached',
    `the data set '${req.name}' (${req.config}, ${splits.join(', ')}; ${revision}) is not in the cache and ${why}`,
    {
      detail: `Looked in ${repo.dir}.`,
      fix: 'Unset HF_HUB_OFFLINE and HF_DATASETS_OFFLINE and run once online (the data set is then cached), or export it to a CSV or JSONL file and set data.train_file.',
    },
  );
}

function clientFor(name: string, settings: HubSettings, options: HubOptions): HubClient {
  return new HubClient(name, {
    endpoint: settings.endpoint,
    cacheDir: settings.cacheDir,
    repoType: 'dataset',
    ...(settings.token !== undefined ? { token: settings.token, tokenSource: settings.tokenSource ?? 'HF_TOKEN' } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}

interface TreeEntry {
  path: string;
  size: number;
}

/** One data set's download, pinned to the commit the revision names when it starts. */
class DatasetDownload {
  private sha = '';

  constructor(
    private readonly req: DatasetRequest,
    private readonly revision: string,
    private readonly repo: HubCacheRepo,
    private readonly client: HubClient,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async run(): Promise<DatasetSplits> {
    this.sha = await this.commit();
    const listing = await this.listConfig();
    const names = listing.map((e) => e.path);
    const wanted = new Map<string, TreeEntry[]>();
    for (const s of this.req.splits) {
      const files = new Set(filesOfSplit(names, this.req.config, s.name));
      if (files.size > 0)
        wanted.set(
          s.name,
          [...files].map((f) => listing.find((e) => e.path === f) as TreeEntry),
        );
      else if (s.required) throw this.missingSplit(s.name, splitsOf(names, this.req.config));
      else await this.repo.markMissing(this.sha, splitMarker(this.req.config, s.name));
    }
    for (const entries of wanted.values()) for (const e of entries) this.checkSize(e);
    const out: DatasetSplits = { sha: this.sha, files: new Map() };
    for (const [split, entries] of wanted) out.files.set(split, await this.fetchAll(entries));
    await this.repo.writeRef(this.revision, this.sha);
    return out;
  }

  /** The commit the revision points to now (`/api/datasets/{id}/revision/{rev}`). */
  private async commit(): Promise<string> {
    const path = `revision/${encodeURIComponent(this.revision)}`;
    const info = await this.client.api(path, this.revision, 'the revision');
    const sha =
      typeof info === 'object' && info !== null && Object.hasOwn(info, 'sha')
        ? (info as { sha: unknown }).sha
        : undefined;
    if (typeof sha !== 'string' || !FULL_SHA.test(sha)) throw this.badListing('names no commit');
    return sha;
  }

  /**
   * Every file under `<config>/` (`/api/datasets/{id}/tree/{sha}/{config}?recursive=true`, every page of it),
   * each name checked as a plain relative name inside that folder before anything is fetched. A config the data
   * set lacks is named with the ones it has.
   */
  private async listConfig(): Promise<TreeEntry[]> {
    const config = this.req.config;
    let listing: unknown[];
    try {
      listing = await this.client.apiList(
        `tree/${this.sha}/${encodeURIComponent(config)}?recursive=true`,
        this.sha,
        config,
      );
    } catch (e) {
      if (e instanceof FineTuneError && e.code === 'hub-file-not-found') throw await this.missingConfig();
      throw e;
    }
    const out: TreeEntry[] = [];
    for (const item of listing) {
      const entry = item as { type?: unknown; path?: unknown; size?: unknown } | null;
      if (entry === null || typeof entry !== 'object' || entry.type !== 'file') continue;
      const where = { origin: `the file list of the data set '${this.req.name}'` };
      const file = checkRelativeName(entry.path, where);
      if (!file.startsWith(`${config}/`)) throw this.badListing(`lists ${JSON.stringify(file.slice(0, 80))}`);
      if (typeof entry.size !== 'number' || !Number.isSafeInteger(entry.size)) throw this.badListing('has no sizes');
      out.push({ path: file, size: entry.size });
    }
    return out;
  }

  private async missingConfig(): Promise<FineTuneError> {
    const root = await this.client.apiList(`tree/${this.sha}`, this.sha, 'the file list').catch(() => []);
    const configs = (root as ({ type?: unknown; path?: unknown } | null)[])
      .filter((e): e is { path: string } => e?.type === 'directory' && typeof e.path === 'string')
      .map((e) => e.path.slice(0, 80))
      .slice(0, 60);
    return new FineTuneError(
      'dataset-config-not-found',
      `the data set '${this.req.name}' has no configuration '${this.req.config}' at ${this.revision}`,
      {
        detail: configs.length > 0 ? `Its configurations: ${configs.join(', ')}.` : undefined,
        fix: 'Set data.dataset_config_name to one of its configurations (see the data set page on the Hub).',
      },
    );
  }

  private missingSplit(split: string, available: string[]): FineTuneError {
    const has = available.length > 0 ? available.join(', ') : 'none';
    return new FineTuneError(
      'dataset-split-not-found',
      `the data set '${this.req.name}' (${this.req.config}) has no split '${split}'; its splits: ${has}`,
      { fix: 'Set data.train_split_name (or validation_split_name, test_split_name) to one of its splits.' },
    );
  }

  private checkSize(e: TreeEntry): void {
    if (e.size <= MAX_DATA_FILE_BYTES) return;
    throw new FineTuneError('data-too-large', `${e.path} of '${this.req.name}' is ${e.size} bytes`, {
      fix: `A Parquet file over ${MAX_DATA_FILE_BYTES} bytes is not read; pick a smaller configuration or split.`,
    });
  }

  private badListing(what: string): FineTuneError {
    return new FineTuneError('hub-bad-response', `the Hub's answer for the data set '${this.req.name}' ${what}`, {
      fix: 'Check HF_ENDPOINT (or a proxy in between), then run again.',
    });
  }

  /** Every file's metadata first (a missing one stops the split before any download), then the downloads. */
  private async fetchAll(entries: TreeEntry[]): Promise<string[]> {
    const metas = [];
    for (const e of entries) {
      const meta = await this.client.metadata(e.path, this.sha);
      if (meta === undefined) throw this.badListing(`lists ${e.path}, which it then does not have`);
      metas.push(meta);
    }
    const out: string[] = [];
    for (const meta of metas) out.push(await storeHubFile(this.repo, this.client, this.sha, meta, this.signal));
    return out;
  }
}
