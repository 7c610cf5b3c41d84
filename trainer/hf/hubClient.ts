/**
 * HTTP for the Hub: a file's metadata (HEAD on its resolve URL, as huggingface_hub's get_hf_file_metadata does)
 * and a resumable download of its content into `blobs/<etag>.incomplete`.
 *
 * Our own small client rather than `@huggingface/hub`: its `downloadFileToCacheDir` (v2.x) names the snapshot
 * folder after the last commit that touched each file instead of the revision's commit, writes no `refs/`, so
 * Python finds nothing; it does not check file names, cannot resume or cancel a download, reports no progress,
 * and would add `@huggingface/tasks` and a WebAssembly module to the trainer bundle. What we need is two requests.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { FineTuneError } from '../../common/errors';
import { checkSegment } from '../../common/safeName';
import { FULL_SHA } from '../../common/hubRevision';
import { badResponse, cancelledError, httpError, offlineError, type RequestContext } from './hubErrors';

export interface HubFileMeta {
  file: string;
  commit: string;
  /** Normalized: no quotes, no W/ (the blob's name). */
  etag: string;
  size: number;
  /** Where the content is: the resolve URL, or the CDN URL the Hub redirects to. */
  url: string;
}

/** Bytes of one file downloaded so far (what the protocol's `download` message carries). */
export interface DownloadProgress {
  repo: string;
  file: string;
  bytes: number;
  total: number;
}

export interface HubClientOptions {
  endpoint: string;
  cacheDir: string;
  token?: string;
  tokenSource?: string;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  /** Default model; a data set's URLs have `/datasets/` before its id. */
  repoType?: 'model' | 'dataset';
}

/** JSON answers of the Hub's API are small (a commit, a folder listing); more is not the Hub. */
const MAX_API_BYTES = 8 * 1024 * 1024;
/**
 * Most pages of one listing the client follows: the Hub pages a tree listing by 1,000 entries, so 100 pages hold
 * 100,000 files, beyond any data set configuration read into memory. All its pages together are bounded too.
 */
export const MAX_LIST_PAGES = 100;
const MAX_LIST_BYTES = 64 * 1024 * 1024;

const MAX_RELATIVE_REDIRECTS = 5;
const SHA256 = /^[0-9a-f]{64}$/;
const ETAG_CHARS = /^[0-9A-Za-z._-]{1,128}$/;

export class HubClient {
  private readonly fetchFn: typeof fetch;

  constructor(
    readonly id: string,
    private readonly o: HubClientOptions,
  ) {
    this.fetchFn = o.fetch ?? fetch;
  }

  resolveUrl(file: string, revision: string): string {
    const encoded = file.split('/').map(encodeURIComponent).join('/');
    const prefix = this.o.repoType === 'dataset' ? 'datasets/' : '';
    return `${this.o.endpoint}/${prefix}${this.id}/resolve/${encodeURIComponent(revision)}/${encoded}`;
  }

  private context(file: string, revision: string, url = this.resolveUrl(file, revision)): RequestContext {
    const ctx = { id: this.id, revision, file, url, endpoint: this.o.endpoint, tokenSource: this.tokenSourceFor(url) };
    return this.o.repoType === undefined ? ctx : { ...ctx, repoType: this.o.repoType };
  }

  /**
   * GET `{endpoint}/api/{models|datasets}/{id}/{path}` as JSON (a revision's commit, a folder listing), with the
   * same token and errors as a file; `what` names it in messages. The body is bounded.
   */
  async api(path: string, revision: string, what: string): Promise<unknown> {
    return (await this.getJson(this.context(what, revision, this.apiUrl(path)), MAX_API_BYTES)).json;
  }

  /**
   * Every entry of a paginated list (`tree/{revision}/{path}`): the first page, then each page its answer names
   * in `Link: <url>; rel="next"`, as huggingface_hub's `paginate` follows them. A next page elsewhere than the
   * Hub is refused; more than `maxPages` pages is an error that says so, never a silently cut list.
   */
  async apiList(path: string, revision: string, what: string, maxPages = MAX_LIST_PAGES): Promise<unknown[]> {
    const out: unknown[] = [];
    let ctx = this.context(what, revision, this.apiUrl(path));
    let budget = MAX_LIST_BYTES;
    for (let page = 1; ; page++) {
      const { json, next, bytes } = await this.getJson(ctx, Math.min(MAX_API_BYTES, budget));
      if (!Array.isArray(json)) throw badResponse(ctx, 'is not a list');
      for (const entry of json as unknown[]) out.push(entry);
      budget -= bytes;
      if (next === undefined) return out;
      if (page >= maxPages) throw listTooLong(ctx, maxPages, out.length);
      ctx = { ...ctx, url: this.nextPageUrl(ctx, next) };
    }
  }

  private apiUrl(path: string): string {
    return `${this.o.endpoint}/api/${this.o.repoType ?? 'model'}s/${this.id}/${path}`;
  }

  /** GET as JSON, the body bounded; with the `rel="next"` link of a paginated answer. */
  private async getJson(ctx: RequestContext, max: number): Promise<{ json: unknown; next?: string; bytes: number }> {
    const res = await this.send(ctx, { headers: this.headersFor(ctx.url, { Accept: 'application/json' }) });
    if (!res.ok) throw httpError(ctx, res.status, res.headers);
    const text = await boundedText(res, max).catch((e: unknown) => {
      throw badResponse(ctx, e instanceof Error ? e.message : String(e));
    });
    let json: unknown;
    try {
      json = JSON.parse(text) as unknown;
    } catch {
      throw badResponse(ctx, 'is not JSON');
    }
    const next = nextLink(res.headers.get('link'));
    return { json, bytes: Buffer.byteLength(text), ...(next !== undefined ? { next } : {}) };
  }

  /** The next page's URL, resolved against this one: on the Hub's own origin only, where the token may go. */
  private nextPageUrl(ctx: RequestContext, link: string): string {
    const url = checkedUrl(ctx, link);
    if (new URL(url).origin !== new URL(this.o.endpoint).origin) {
      throw badResponse(ctx, `names its next page on another host (${new URL(url).origin})`);
    }
    return url;
  }

  /** The token goes to the Hub itself only, never to the CDN or another host a redirect names. */
  private tokenSourceFor(url: string): string | undefined {
    if (this.o.token === undefined) return undefined;
    return new URL(url).origin === new URL(this.o.endpoint).origin ? (this.o.tokenSource ?? 'HF_TOKEN') : undefined;
  }

  private headersFor(url: string, extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { 'Accept-Encoding': 'identity', ...extra };
    if (this.tokenSourceFor(url) !== undefined) headers.Authorization = `Bearer ${this.o.token}`;
    return headers;
  }

  private async send(ctx: RequestContext, init: RequestInit): Promise<Response> {
    if (this.o.signal?.aborted) throw cancelledError(ctx);
    try {
      return await this.fetchFn(ctx.url, { ...init, ...(this.o.signal ? { signal: this.o.signal } : {}) });
    } catch (e) {
      if (this.o.signal?.aborted) throw cancelledError(ctx);
      throw offlineError(ctx, this.o.cacheDir, e);
    }
  }

  /**
   * Commit, ETag, size and content URL of a file, or undefined when the revision has no such file. Relative
   * redirects (a renamed repo) are followed; an absolute one is where the content is (the CDN).
   */
  async metadata(file: string, revision: string): Promise<HubFileMeta | undefined> {
    let ctx = this.context(file, revision);
    for (let hop = 0; ; hop++) {
      const res = await this.send(ctx, { method: 'HEAD', headers: this.headersFor(ctx.url), redirect: 'manual' });
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location !== null && hop < MAX_RELATIVE_REDIRECTS) {
        if (location.startsWith('/') && !location.startsWith('//')) {
          ctx = { ...ctx, url: new URL(location, ctx.url).toString() };
          continue;
        }
        return this.parseMeta(ctx, res, checkedUrl(ctx, location));
      }
      if (res.ok) return this.parseMeta(ctx, res, ctx.url);
      if (res.status === 404 && res.headers.get('x-error-code') === 'EntryNotFound') return undefined;
      throw httpError(ctx, res.status, res.headers);
    }
  }

  private parseMeta(ctx: RequestContext, res: Response, url: string): HubFileMeta {
    const commit = res.headers.get('x-repo-commit');
    if (commit === null || !FULL_SHA.test(commit)) throw badResponse(ctx, 'has no valid X-Repo-Commit header');
    const rawEtag = res.headers.get('x-linked-etag') ?? res.headers.get('etag');
    if (rawEtag === null) throw badResponse(ctx, 'has no ETag');
    const etag = rawEtag.replace(/^W\//, '').replace(/^"|"$/g, '');
    // The ETag names a file in blobs/: the same check as any remote file name, and only the characters Hub ETags use.
    checkSegment(etag, { origin: `the ETag of ${ctx.file} of '${ctx.id}'` });
    if (!ETAG_CHARS.test(etag))
      throw badResponse(ctx, `has an ETag that is not a hash (${JSON.stringify(etag.slice(0, 80))})`);
    const redirected = res.status >= 300 && res.status < 400;
    const sizeText = res.headers.get('x-linked-size') ?? (redirected ? null : res.headers.get('content-length'));
    const size = sizeText !== null && /^\d{1,15}$/.test(sizeText) ? Number(sizeText) : undefined;
    if (size === undefined) throw badResponse(ctx, 'does not say how large the file is');
    return { file: ctx.file, commit, etag, size, url };
  }

  /**
   * Downloads the file into `<blob>.incomplete`, resuming what an earlier attempt left there with a Range
   * request, checks its size (and its sha256 where the ETag is one), then renames it to `<blob>`.
   */
  async download(meta: HubFileMeta, blob: string): Promise<void> {
    const partial = `${blob}.incomplete`;
    const ctx = this.context(meta.file, meta.commit, meta.url);
    let have = (await fs.stat(partial).catch(() => undefined))?.size ?? 0;
    if (have > meta.size) have = 0;
    if (have < meta.size || meta.size === 0) have = await this.fetchInto(ctx, meta, partial, have);
    if (SHA256.test(meta.etag) && (await sha256Of(partial)) !== meta.etag) {
      await fs.rm(partial, { force: true });
      throw new FineTuneError('hub-download-corrupt', `the download of ${meta.file} of '${this.id}' is corrupt`, {
        detail: `Its sha256 is not the ${meta.etag} the Hub announced; the partial file was removed.`,
        fix: 'Run again to download it afresh.',
      });
    }
    await fs.rename(partial, blob);
  }

  /** One GET, appended to what is there (206) or from the start (200); returns the bytes now on disk. */
  private async fetchInto(ctx: RequestContext, meta: HubFileMeta, partial: string, have: number): Promise<number> {
    const range = have > 0 ? { Range: `bytes=${have}-` } : undefined;
    const res = await this.send(ctx, { headers: this.headersFor(ctx.url, range), redirect: 'follow' });
    if (res.status === 416 && have > 0) {
      await res.body?.cancel().catch(() => undefined);
      await fs.rm(partial, { force: true });
      return this.fetchInto(ctx, meta, partial, 0);
    }
    if (!res.ok || res.body === null) throw httpError(ctx, res.status, res.headers);
    const resumed = res.status === 206 && contentRangeStart(res.headers.get('content-range')) === have;
    // A server that ignores Range (200) sends everything again: start over rather than append it twice.
    let loaded = resumed ? have : 0;
    const handle = await fs.open(partial, resumed ? 'a' : 'w');
    try {
      for await (const chunk of Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>)) {
        const bytes = chunk as Buffer;
        if (loaded + bytes.length > meta.size)
          throw badResponse(ctx, `is larger than the ${meta.size} bytes announced`);
        await handle.write(bytes);
        loaded += bytes.length;
        this.o.onProgress?.({ repo: this.id, file: meta.file, bytes: loaded, total: meta.size });
      }
    } catch (e) {
      if (this.o.signal?.aborted) throw cancelledError(ctx);
      if (e instanceof FineTuneError) throw e;
      throw brokeOff(ctx, loaded, meta.size, e);
    } finally {
      await handle.close();
    }
    if (loaded !== meta.size) throw brokeOff(ctx, loaded, meta.size, undefined);
    return loaded;
  }
}

/**
 * The `rel="next"` target of a Link header (RFC 8288: `<url>; rel="next", <url>; rel="last"`), as requests'
 * `Response.links` reads it for huggingface_hub; undefined when there is none.
 */
export function nextLink(header: string | null): string | undefined {
  for (const m of (header ?? '').matchAll(/<([^>]*)>([^<]*)/g)) {
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(m[2] ?? '');
    const rels = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
    if (rels.includes('next')) return m[1];
  }
  return undefined;
}

function listTooLong(ctx: RequestContext, pages: number, entries: number): FineTuneError {
  return new FineTuneError(
    'hub-list-too-long',
    `the file list of ${ctx.file} of '${ctx.id}' goes on past ${pages} pages (${entries} entries so far)`,
    {
      detail: `The last page read: ${ctx.url}.`,
      fix: 'Use a part of the repository with fewer files (another configuration), or download it and use the local copy.',
    },
  );
}

async function boundedText(res: Response, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  if (res.body === null) return '';
  for await (const chunk of Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>)) {
    size += (chunk as Buffer).length;
    if (size > max) throw new Error(`is larger than ${max} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function brokeOff(ctx: RequestContext, loaded: number, size: number, e: unknown): FineTuneError {
  return new FineTuneError('hub-download-failed', `the download of ${ctx.file} from '${ctx.id}' broke off`, {
    detail: `${loaded} of ${size} bytes arrived${e === undefined ? '' : `: ${reasonOf(e)}`}.`,
    fix: 'Run again: the download resumes where it stopped.',
    ...(e === undefined ? {} : { cause: e }),
  });
}

function reasonOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function contentRangeStart(header: string | null): number | undefined {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(header ?? '');
  return m === null ? undefined : Number(m[1]);
}

/** Only http(s) URLs are followed; anything else in a Location header is not the Hub's CDN. */
function checkedUrl(ctx: RequestContext, location: string): string {
  let url: URL;
  try {
    url = new URL(location, ctx.url);
  } catch {
    throw badResponse(ctx, `redirects to something that is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw badResponse(ctx, `redirects to a ${url.protocol} URL`);
  return url.toString();
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
