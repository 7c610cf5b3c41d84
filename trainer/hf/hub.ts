/**
 * A Hub model id (`bert-base-uncased`, `org/name`) as a local folder: a snapshot of the Hugging Face cache that
 * Python's huggingface_hub shares (files/hf/hubCache.ts has the layout). A snapshot that is already complete is
 * used without any request, whoever downloaded it. Otherwise the files are fetched in an order that refuses a bad
 * model early: config.json first (checked before any weights are requested), then the weights (every shard name
 * of an index checked before the first shard is requested), then the tokenizer files. All files come from the
 * one commit the revision pointed to when config.json was fetched; `refs/<revision>` is written last, so an
 * interrupted or refused download is never taken for a complete one.
 */
import { promises as fs } from 'node:fs';
import { FineTuneError } from '../../common/errors';
import { checkRelativeName } from '../../common/safeName';
import { readBertConfig } from '../../files/hf/bertConfig';
import { ACTIVATIONS } from '../../common/modelFamilies';
import { parseShardIndex, readShardIndex, SHARD_INDEX_FILE, MAX_SHARD_INDEX_BYTES } from '../../files/hf/shardIndex';
import { HubCacheRepo, hubSettings, type HubSettings } from '../../files/hf/hubCache';
import { HubClient, type DownloadProgress, type HubFileMeta } from './hubClient';
import { withBlobLock } from './hubLock';
import { TORCH_INDEX_FILE, TORCH_WEIGHTS_FILE } from '../../files/hf/torchBin/torchBin';
import { storeHubFile } from './hubStore';

export interface HubOptions {
  /** The Hub cache folder; default `$HF_HUB_CACHE`, else `$HF_HOME/hub`. */
  cacheDir?: string;
  /** A branch, tag, commit sha or `refs/pr/N`; default `main`. */
  revision?: string;
  /** False: never download (as with HF_HUB_OFFLINE=1, the default when it or TRANSFORMERS_OFFLINE is set). */
  allowRemote?: boolean;
  /** Default `$HF_ENDPOINT` or https://huggingface.co. */
  endpoint?: string;
  /** Default `$HF_TOKEN`, else the token file (`$HF_TOKEN_PATH` or `$HF_HOME/token`). */
  token?: string;
  /** False: config.json and tokenizer files only (a tokenizer, or training from scratch). Default true. */
  weights?: boolean;
  /** For tests and for proxies. */
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** Called as each chunk of a file arrives. */
  onProgress?: (progress: DownloadProgress) => void;
}

/**
 * Files a model folder may have besides its weights; only config.json is required. vocab.txt is WordPiece's
 * (BERT, DistilBERT, ELECTRA), vocab.json + merges.txt byte-level BPE's (RoBERTa) when there is no tokenizer.json.
 */
const TOKENIZER_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.txt',
  'vocab.json',
  'merges.txt',
];
const WEIGHT_FILE = 'model.safetensors';
/** PyTorch's weights, read by files/hf/torchBin and fetched only when the revision has no safetensors. */
const TORCH_WEIGHTS: readonly [string, string] = [TORCH_WEIGHTS_FILE, TORCH_INDEX_FILE];
/** What the engine can run (trainer/engine/setup.ts); checked here too, so that nothing larger is fetched first. */
const SUPPORTED_ACTIVATIONS = new Set<string>(ACTIVATIONS);

const HUB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;

/** True when the string has the shape of a Hub id (`bert-base-uncased`, `org/name`) rather than a path. */
export function isHubId(nameOrPath: string): boolean {
  return HUB_ID.test(nameOrPath) && !nameOrPath.includes('..') && !nameOrPath.endsWith('.');
}

/** A folder holding the model's files, downloaded if needed. */
export async function fetchHubModel(id: string, options: HubOptions = {}): Promise<string> {
  if (!isHubId(id))
    throw new FineTuneError('model-not-found', `'${id}' is not a Hub model id`, { fix: 'Use org/name.' });
  const revision = checkRelativeName(options.revision ?? 'main', { origin: `the revision of '${id}'` });
  const settings = await settingsFor(options);
  const repo = new HubCacheRepo(settings.cacheDir, id);
  const wantWeights = options.weights ?? true;
  const cachedSha = await repo.resolveRevision(revision);
  if (cachedSha !== undefined && (await isComplete(repo, cachedSha, wantWeights))) return repo.snapshotDir(cachedSha);
  if (settings.offline || options.allowRemote === false) {
    if (cachedSha !== undefined && (await isUsableOffline(repo, cachedSha, wantWeights))) {
      return repo.snapshotDir(cachedSha);
    }
    throw notCached(id, revision, settings);
  }
  const client = new HubClient(id, {
    endpoint: settings.endpoint,
    cacheDir: settings.cacheDir,
    ...(settings.token !== undefined ? { token: settings.token, tokenSource: settings.tokenSource ?? 'HF_TOKEN' } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  return new SnapshotDownload(id, revision, repo, client, options.signal).run(wantWeights);
}

export async function settingsFor(options: HubOptions): Promise<HubSettings> {
  const env = await hubSettings();
  return {
    ...env,
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint.replace(/\/+$/, '') } : {}),
    ...(options.token !== undefined ? { token: options.token, tokenSource: 'the token option' } : {}),
    offline: options.allowRemote === true ? false : env.offline,
  };
}

function notCached(id: string, revision: string, settings: HubSettings): FineTuneError {
  const why = settings.offline ? 'HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set' : 'downloading is turned off';
  return new FineTuneError('model-not-cached', `'${id}' (${revision}) is not in the cache and ${why}`, {
    detail: `Looked in ${new HubCacheRepo(settings.cacheDir, id).dir}.`,
    fix: 'Unset HF_HUB_OFFLINE and run once online (the model is then cached), or set name_or_path to a model folder.',
  });
}

/** Everything a run needs is in the snapshot: no request at all. */
async function isComplete(repo: HubCacheRepo, sha: string, wantWeights: boolean): Promise<boolean> {
  if (!(await isUsableOffline(repo, sha, wantWeights))) return false;
  for (const file of ['tokenizer.json', 'vocab.txt']) if (await repo.has(sha, file)) return true;
  return (await repo.knownMissing(sha, 'tokenizer.json')) && (await repo.knownMissing(sha, 'vocab.txt'));
}

/** config.json and, when wanted, all the weights: enough to run, if not to tokenize. */
async function isUsableOffline(repo: HubCacheRepo, sha: string, wantWeights: boolean): Promise<boolean> {
  if (!(await repo.has(sha, 'config.json'))) return false;
  if (!wantWeights) return true;
  for (const [single, index] of [[WEIGHT_FILE, SHARD_INDEX_FILE], TORCH_WEIGHTS]) {
    if (await repo.has(sha, single)) return true;
    if (await repo.has(sha, index)) return allShards(repo, sha, index);
  }
  return false;
}

async function allShards(repo: HubCacheRepo, sha: string, indexFile: string): Promise<boolean> {
  const index = await readShardIndex(repo.pointerPath(sha, indexFile));
  for (const shard of index.shards) if (!(await repo.has(sha, shard))) return false;
  return true;
}

/** One model's download, pinned to the commit that config.json came from. */
class SnapshotDownload {
  private sha = '';

  constructor(
    private readonly id: string,
    private readonly revision: string,
    private readonly repo: HubCacheRepo,
    private readonly client: HubClient,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async run(wantWeights: boolean): Promise<string> {
    await this.fetchConfig();
    if (wantWeights) await this.fetchWeights();
    for (const file of TOKENIZER_FILES) await this.fetchOptional(file);
    await this.repo.writeRef(this.revision, this.sha);
    return this.repo.snapshotDir(this.sha);
  }

  /** config.json decides the commit, and is checked before anything large is requested. */
  private async fetchConfig(): Promise<void> {
    const meta = await this.client.metadata('config.json', this.revision);
    if (meta === undefined) {
      throw new FineTuneError('model-missing-config', `'${this.id}' (${this.revision}) has no config.json`, {
        fix: 'This repo is not a transformers model; pick a model repo with config.json and model.safetensors.',
      });
    }
    this.sha = meta.commit;
    const file = await this.store(meta);
    const config = await readBertConfig(file);
    if (!SUPPORTED_ACTIVATIONS.has(config.hidden_act)) {
      throw new FineTuneError('model-unsupported-activation', `'${this.id}' uses hidden_act '${config.hidden_act}'`, {
        file,
        fix: `Only ${[...SUPPORTED_ACTIVATIONS].join(', ')} is supported; pick a model that uses one of them.`,
      });
    }
  }

  /** Safetensors when the revision has them (a 404 says it has not), else PyTorch's `.bin`, single or sharded. */
  private async fetchWeights(): Promise<void> {
    for (const [single, index] of [[WEIGHT_FILE, SHARD_INDEX_FILE], TORCH_WEIGHTS]) {
      const meta = await this.client.metadata(single, this.sha);
      if (meta !== undefined) {
        await this.store(meta);
        return;
      }
      const indexMeta = await this.client.metadata(index, this.sha);
      if (indexMeta !== undefined) return this.fetchShards(indexMeta);
    }
    throw new FineTuneError('model-missing-weights', `'${this.id}' (${this.revision}) has no weights`, {
      detail: 'It has neither model.safetensors nor pytorch_model.bin (single or sharded).',
      fix: 'Pick a revision or a model with weights, or set init: scratch to train from scratch.',
    });
  }

  private async fetchShards(indexMeta: HubFileMeta): Promise<void> {
    if (indexMeta.size > MAX_SHARD_INDEX_BYTES) {
      throw new FineTuneError('model-bad-index', `${indexMeta.file} of '${this.id}' is ${indexMeta.size} bytes`, {
        fix: 'This is not a real shard index; do not use this model.',
      });
    }
    const indexText = await fs.readFile(await this.store(indexMeta), 'utf8');
    // Every shard name is checked (parseShardIndex) before the first shard is requested.
    const index = parseShardIndex(indexText, `${indexMeta.file} of '${this.id}'`);
    const metas: HubFileMeta[] = [];
    for (const shard of index.shards) metas.push(await this.required(shard, indexMeta.file));
    for (const meta of metas) await this.store(meta);
  }

  private async required(file: string, indexFile: string): Promise<HubFileMeta> {
    const meta = await this.client.metadata(file, this.sha);
    if (meta !== undefined) return meta;
    throw new FineTuneError(
      'model-missing-shard',
      `the shard ${file} listed in ${indexFile} of '${this.id}' is missing`,
      {
        fix: 'The repo is incomplete at this revision; pick another revision or model.',
      },
    );
  }

  private async fetchOptional(file: string): Promise<void> {
    if ((await this.repo.has(this.sha, file)) || (await this.repo.knownMissing(this.sha, file))) return;
    const meta = await this.client.metadata(file, this.sha);
    if (meta === undefined) await this.repo.markMissing(this.sha, file);
    else await this.store(meta);
  }

  /** The file's blob (downloaded unless another revision already brought it) and its snapshot link. */
  private store(meta: HubFileMeta): Promise<string> {
    return storeHubFile(this.repo, this.client, this.sha, meta, this.signal);
  }
}
