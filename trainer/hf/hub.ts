/**
 * Fetching a model from the Hugging Face Hub into a local folder. Looks in Python's cache first
 * ($HF_HOME/hub, so a model downloaded with transformers is reused), then in our own cache, and only then
 * downloads, with plain fetch of `<endpoint>/<id>/resolve/<revision>/<file>`.
 */
import { createWriteStream, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { env } from '@huggingface/transformers';
import { FineTuneError } from '../../common/errors';
import { pathExists } from '../../common/fsProbe';
import { checkRelativeName, resolveInside } from '../../common/safeName';
import { parseShardIndex, SHARD_INDEX_FILE } from '../../files/hf/shardIndex';

export interface HubOptions {
  /** Where downloads go; default `$HF_HOME/finetune-studio` (HF_HOME defaults to ~/.cache/huggingface). */
  cacheDir?: string;
  revision?: string;
  /** Default: transformers.js's `env.allowRemoteModels` (true unless turned off). */
  allowRemote?: boolean;
  /** Default `$HF_ENDPOINT` or https://huggingface.co. */
  endpoint?: string;
  /** Default `$HF_TOKEN`. */
  token?: string;
  /** For tests and for proxies. */
  fetch?: typeof fetch;
  onProgress?: (file: string, loaded: number, total: number | undefined) => void;
}

/** Files a BERT model folder may have; only config.json is required here, the caller checks the weights. */
const OPTIONAL_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'];

const HUB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;

/** True when the string has the shape of a Hub id (`bert-base-uncased`, `org/name`) rather than a path. */
export function isHubId(nameOrPath: string): boolean {
  return HUB_ID.test(nameOrPath) && !nameOrPath.includes('..') && !nameOrPath.endsWith('.');
}

export function hfHome(): string {
  return process.env.HF_HOME ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'huggingface');
}

export function defaultCacheDir(): string {
  return path.join(hfHome(), 'finetune-studio');
}

/** A folder holding the model's files, downloaded if needed. */
export async function fetchHubModel(id: string, options: HubOptions = {}): Promise<string> {
  const revision = checkRelativeName(options.revision ?? 'main', { origin: `the revision of '${id}'` });
  const fromPython = await pythonCacheSnapshot(id, revision);
  if (fromPython !== undefined) return fromPython;
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const dir = path.join(cacheDir, `models--${id.replace('/', '--')}`, revision);
  if (await isComplete(dir)) return dir;

  const allowRemote = options.allowRemote ?? env.allowRemoteModels;
  if (!allowRemote) {
    throw new FineTuneError('model-not-cached', `'${id}' is not in the cache and downloading is turned off`, {
      detail: `Looked in ${dir} and ${path.join(hfHome(), 'hub')}.`,
      fix: `Allow downloads, or download the model and set name_or_path to its folder.`,
    });
  }
  const client = new HubClient(id, revision, options, dir);
  await client.download('config.json', true);
  // Weights: one file, or an index of shards; explain when there are only PyTorch pickles.
  if (!(await client.download('model.safetensors', false))) {
    if (await client.download('model.safetensors.index.json', false)) {
      // Every shard name is checked before the first shard is requested (parseShardIndex refuses unsafe ones).
      const indexText = await fs.readFile(path.join(dir, SHARD_INDEX_FILE), 'utf8');
      const index = parseShardIndex(indexText, `${SHARD_INDEX_FILE} of '${id}'`);
      for (const shard of index.shards) await client.download(shard, true);
    } else if (await client.exists('pytorch_model.bin')) {
      throw new FineTuneError('model-pytorch-only', `'${id}' has weights only as pytorch_model.bin, which cannot be read here`, {
        fix:
          `Look for a revision or a copy of the model with model.safetensors, or convert it in Python: ` +
          `AutoModel.from_pretrained('${id}').save_pretrained('<folder>', safe_serialization=True), then set name_or_path to '<folder>'.`,
      });
    }
  }
  for (const f of OPTIONAL_FILES) await client.download(f, false);
  await fs.writeFile(path.join(dir, '.complete'), new Date().toISOString());
  return dir;
}

class HubClient {
  private readonly fetchFn: typeof fetch;
  private readonly endpoint: string;
  private readonly token: string | undefined;

  constructor(
    private readonly id: string,
    private readonly revision: string,
    private readonly options: HubOptions,
    private readonly dir: string,
  ) {
    this.fetchFn = options.fetch ?? fetch;
    this.endpoint = (options.endpoint ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
    this.token = options.token ?? process.env.HF_TOKEN;
  }

  private url(file: string): string {
    const encoded = file.split('/').map(encodeURIComponent).join('/');
    return `${this.endpoint}/${this.id}/resolve/${encodeURIComponent(this.revision)}/${encoded}`;
  }

  private async request(file: string, method: 'GET' | 'HEAD'): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    try {
      return await this.fetchFn(this.url(file), { method, headers, redirect: 'follow' });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new FineTuneError('hub-offline', `cannot download '${this.id}': the Hugging Face Hub cannot be reached, and the model is not in the cache`, {
        detail: `${e instanceof Error ? e.message : String(e)}${cause?.code ? ` (${cause.code})` : cause?.message ? ` (${cause.message})` : ''} while fetching ${this.url(file)}. Looked in the cache at ${this.dir}.`,
        fix: `Connect to the internet and run again (once downloaded, the model is cached), or download the model elsewhere (e.g. git clone ${this.endpoint}/${this.id}) and set name_or_path to that folder.`,
        cause: e,
      });
    }
  }

  async exists(file: string): Promise<boolean> {
    checkRelativeName(file, { origin: `the files of '${this.id}'` });
    const res = await this.request(file, 'HEAD');
    return res.ok;
  }

  /** Downloads one file into the folder (atomically); false when the Hub has no such file and it is optional. */
  async download(file: string, required: boolean): Promise<boolean> {
    // Checked before anything is requested or written: a remote name must stay inside the model's folder.
    const target = resolveInside(this.dir, file, { origin: `the files of '${this.id}'` });
    if (await pathExists(target)) return true;
    const res = await this.request(file, 'GET');
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      // The Hub answers 404 for a missing file of a public repo; optional files may be missing.
      if (!required && (res.status === 404 || res.status === 401)) return false;
      throw this.httpError(file, res.status);
    }
    await fs.mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.tmp-${process.pid}`;
    const total = Number(res.headers.get('content-length')) || undefined;
    let loaded = 0;
    const body = res.body;
    if (body === null) throw this.httpError(file, res.status);
    const source = Readable.fromWeb(body as unknown as WebReadableStream<Uint8Array>);
    source.on('data', (chunk: Buffer) => {
      loaded += chunk.length;
      this.options.onProgress?.(file, loaded, total);
    });
    try {
      await pipeline(source, createWriteStream(tmp));
      if (total !== undefined && loaded !== total) throw new Error(`received ${loaded} of ${total} bytes`);
      await fs.rename(tmp, target);
    } catch (e) {
      await fs.rm(tmp, { force: true });
      throw new FineTuneError('hub-download-failed', `the download of ${file} from '${this.id}' broke off`, {
        detail: e instanceof Error ? e.message : String(e),
        fix: 'Run again to retry the download.',
        cause: e,
      });
    }
    return true;
  }

  private httpError(file: string, status: number): FineTuneError {
    if (status === 401 || status === 403 || (status === 404 && file === 'config.json')) {
      const gated = status === 403 || (status === 401 && this.token !== undefined);
      return new FineTuneError(gated ? 'hub-unauthorized' : 'model-not-found', gated ? `'${this.id}' is private or gated` : `there is no model '${this.id}' on the Hugging Face Hub`, {
        detail: `HTTP ${status} for ${this.url(file)}.`,
        fix: gated
          ? 'Accept the model\'s terms on its Hub page and set HF_TOKEN to a token with access.'
          : 'Check the spelling (e.g. bert-base-uncased, google-bert/bert-base-cased); for a private model set HF_TOKEN; for a local folder give its path.',
      });
    }
    return new FineTuneError('hub-download-failed', `the Hub answered HTTP ${status} for ${file} of '${this.id}'`, {
      detail: this.url(file),
      fix: 'Try again later, or download the model yourself and set name_or_path to its folder.',
    });
  }
}

/** A snapshot folder in huggingface_hub's cache layout (models--org--name/refs/<rev> -> snapshots/<sha>). */
async function pythonCacheSnapshot(id: string, revision: string): Promise<string | undefined> {
  const repo = path.join(hfHome(), 'hub', `models--${id.replace('/', '--')}`);
  let sha = revision;
  try {
    sha = (await fs.readFile(path.join(repo, 'refs', revision), 'utf8')).trim();
  } catch {
    // A revision may be a commit hash, naming the snapshot directly.
  }
  const dir = path.join(repo, 'snapshots', sha);
  if (!(await pathExists(path.join(dir, 'config.json')))) return undefined;
  const hasWeights = (await pathExists(path.join(dir, 'model.safetensors'))) || (await pathExists(path.join(dir, 'model.safetensors.index.json')));
  return hasWeights ? dir : undefined;
}

async function isComplete(dir: string): Promise<boolean> {
  return pathExists(path.join(dir, '.complete'));
}

