/**
 * The Hugging Face Hub cache, laid out exactly as Python's `huggingface_hub` lays it out, so that one download
 * serves both (and `hf cache` sees ours):
 *
 *   $HF_HUB_CACHE (default $HF_HOME/hub, HF_HOME default ~/.cache/huggingface)
 *     models--org--name/
 *       blobs/<etag>                       file contents, named by ETag (the sha256 of LFS files, else git sha1)
 *       blobs/<etag>.incomplete            a download in progress; resumed with a Range request
 *       refs/<revision>                    the commit sha a branch or tag pointed to (refs/pr/1 nests)
 *       snapshots/<sha>/<file>             relative symlink to ../../blobs/<etag> (a copy where links fail)
 *       .no_exist/<sha>/<file>             an empty file: the Hub said this optional file does not exist
 *
 * Also the environment that huggingface_hub reads (HF_HOME, HF_HUB_CACHE, HF_ENDPOINT, HF_HUB_OFFLINE,
 * TRANSFORMERS_OFFLINE, HF_TOKEN, HF_TOKEN_PATH). No tfjs and no network here: the language server uses it too.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkSegment, relativeNameProblem, resolveInside } from '../../common/safeName';
import { FULL_SHA, SHORT_SHA } from '../../common/hubRevision';
import { readPrefix } from '../data/boundedRead';
import { writeFileAtomic } from '../../common/atomicWrite';

const TRUE_VALUES = new Set(['1', 'ON', 'YES', 'TRUE']);
const MAX_TOKEN_FILE_BYTES = 4096;
/** A ref file holds 40 hex digits, perhaps a newline: more than this is not a ref huggingface_hub wrote. */
const MAX_REF_BYTES = 64;
/** Refs and snapshots listed for completion: a real repo has a handful; a cache someone filled has no say. */
const MAX_LISTED = 200;
/** `refs/pr/3` is the file refs/refs/pr/3: three folders deep; one more for `refs/convert/parquet`'s kind. */
const MAX_REF_DEPTH = 4;

export interface HubSettings {
  hfHome: string;
  /** Where the models--org--name folders are. */
  cacheDir: string;
  endpoint: string;
  offline: boolean;
  token?: string;
  /** Where the token came from, for messages (never the token itself). */
  tokenSource?: string;
}

type Env = Record<string, string | undefined>;

function nonEmpty(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t === undefined || t === '' ? undefined : t;
}

function hfHomeOf(env: Env = process.env): string {
  return (
    nonEmpty(env.HF_HOME) ?? path.join(nonEmpty(env.XDG_CACHE_HOME) ?? path.join(os.homedir(), '.cache'), 'huggingface')
  );
}

/**
 * Where the cache is and whether downloads are off: what the language server needs, read without touching a file
 * (the token file is the trainer's business).
 */
export function hubCacheLocation(env: Env = process.env): Pick<HubSettings, 'hfHome' | 'cacheDir' | 'offline'> {
  const hfHome = hfHomeOf(env);
  return {
    hfHome,
    cacheDir: nonEmpty(env.HF_HUB_CACHE) ?? nonEmpty(env.HUGGINGFACE_HUB_CACHE) ?? path.join(hfHome, 'hub'),
    offline: [env.HF_HUB_OFFLINE, env.TRANSFORMERS_OFFLINE].some((v) =>
      TRUE_VALUES.has((v ?? '').trim().toUpperCase()),
    ),
  };
}

/** The settings huggingface_hub would use in this environment, the token file included. */
export async function hubSettings(env: Env = process.env): Promise<HubSettings> {
  const settings: HubSettings = {
    ...hubCacheLocation(env),
    endpoint: (nonEmpty(env.HF_ENDPOINT) ?? 'https://huggingface.co').replace(/\/+$/, ''),
  };
  const hfHome = settings.hfHome;
  const fromEnv = nonEmpty(env.HF_TOKEN) ?? nonEmpty(env.HUGGING_FACE_HUB_TOKEN);
  if (fromEnv !== undefined) return { ...settings, token: fromEnv, tokenSource: 'HF_TOKEN' };
  const tokenFile = nonEmpty(env.HF_TOKEN_PATH) ?? path.join(hfHome, 'token');
  const fromFile = await readTokenFile(tokenFile);
  return fromFile === undefined ? settings : { ...settings, token: fromFile, tokenSource: tokenFile };
}

/** The token `hf auth login` saved; undefined when there is none (or it is not a small regular file). */
async function readTokenFile(file: string): Promise<string | undefined> {
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat?.isFile() || stat.size > MAX_TOKEN_FILE_BYTES) return undefined;
  return nonEmpty(await fs.readFile(file, 'utf8').catch(() => undefined));
}

/** A ref file's commit: a few bytes of a regular file are read, and anything but a sha is no commit. */
async function readRefFile(file: string): Promise<string | undefined> {
  const prefix = await readPrefix(file, MAX_REF_BYTES).catch(() => undefined);
  const sha = prefix?.complete ? Buffer.from(prefix.bytes).toString('utf8').trim() : undefined;
  return sha !== undefined && FULL_SHA.test(sha) ? sha : undefined;
}

/** One repo's folder in the cache. Every name joined onto it is checked (common/safeName.ts). */
export class HubCacheRepo {
  readonly dir: string;

  constructor(
    readonly cacheDir: string,
    readonly id: string,
    /** `datasets--org--name` for a data set repo, as huggingface_hub names it. */
    readonly repoType: 'model' | 'dataset' = 'model',
  ) {
    this.dir = path.join(cacheDir, `${repoType}s--${id.split('/').join('--')}`);
  }

  /**
   * The commit a revision names: itself when it is a full sha, else what refs/<revision> holds, else, for a short
   * sha, the one cached snapshot whose commit it starts (huggingface_hub would ask the Hub, or refuse offline).
   */
  async resolveRevision(revision: string): Promise<string | undefined> {
    if (FULL_SHA.test(revision)) return revision;
    const ref = resolveInside(path.join(this.dir, 'refs'), revision, { origin: `the revision of '${this.id}'` });
    const sha = await readRefFile(ref);
    if (sha !== undefined || !SHORT_SHA.test(revision)) return sha;
    const matches = (await this.snapshots()).filter((s) => s.startsWith(revision));
    return matches.length === 1 ? matches[0] : undefined;
  }

  /** The commits that have a snapshot folder, at most `max` of them. */
  async snapshots(max = MAX_LISTED): Promise<string[]> {
    const entries = await fs.readdir(path.join(this.dir, 'snapshots'), { withFileTypes: true }).catch(() => []);
    return entries
      .filter((e) => e.isDirectory() && FULL_SHA.test(e.name))
      .map((e) => e.name)
      .sort()
      .slice(0, max);
  }

  /**
   * Every revision under refs/ (`main`, `v1.0`, and the nested `refs/pr/3`) and the commit it points to; at most
   * `max` of them, four folders deep, each file read with a bound. Anything else there (a link, a large file, a
   * name that is not a plain one) is skipped: the cache may have been written by anyone.
   */
  async refs(max = MAX_LISTED): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const walk = async (dir: string, prefix: string, depth: number): Promise<void> => {
      const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
        if (out.size >= max) return;
        const name = `${prefix}${e.name}`;
        if (relativeNameProblem(name) !== undefined) continue;
        if (e.isDirectory() && depth < MAX_REF_DEPTH) await walk(path.join(dir, e.name), `${name}/`, depth + 1);
        if (!e.isFile()) continue;
        const sha = await readRefFile(path.join(dir, e.name));
        if (sha !== undefined) out.set(name, sha);
      }
    };
    await walk(path.join(this.dir, 'refs'), '', 1);
    return out;
  }

  async writeRef(revision: string, sha: string): Promise<void> {
    if (revision === sha) return;
    const ref = resolveInside(path.join(this.dir, 'refs'), revision, { origin: `the revision of '${this.id}'` });
    if ((await fs.readFile(ref, 'utf8').catch(() => undefined)) === sha) return;
    await writeFileAtomic(ref, sha);
  }

  snapshotDir(sha: string): string {
    if (!FULL_SHA.test(sha)) throw new Error(`not a commit sha: ${sha}`);
    return path.join(this.dir, 'snapshots', sha);
  }

  /** snapshots/<sha>/<file>, the path a reader opens. */
  pointerPath(sha: string, file: string): string {
    return resolveInside(this.snapshotDir(sha), file, { origin: `the files of '${this.id}'` });
  }

  blobPath(etag: string): string {
    return path.join(this.dir, 'blobs', checkSegment(etag, { origin: `the ETag of a file of '${this.id}'` }));
  }

  /** True when the snapshot has the file (a link whose blob exists, or a copy). */
  async has(sha: string, file: string): Promise<boolean> {
    return (await fs.stat(this.pointerPath(sha, file)).catch(() => undefined))?.isFile() ?? false;
  }

  /** True when the Hub said, at this commit, that the file does not exist. */
  async knownMissing(sha: string, file: string): Promise<boolean> {
    const marker = resolveInside(path.join(this.dir, '.no_exist', sha), file, { origin: `the files of '${this.id}'` });
    return (await fs.stat(marker).catch(() => undefined)) !== undefined;
  }

  async markMissing(sha: string, file: string): Promise<void> {
    const marker = resolveInside(path.join(this.dir, '.no_exist', sha), file, { origin: `the files of '${this.id}'` });
    await fs.mkdir(path.dirname(marker), { recursive: true });
    await fs.writeFile(marker, '');
  }

  /**
   * Makes snapshots/<sha>/<file> point at the blob: a relative symlink as huggingface_hub makes it, or a copy
   * where the file system refuses links (Windows without developer mode, some network drives).
   */
  async link(sha: string, file: string, etag: string): Promise<string> {
    const pointer = this.pointerPath(sha, file);
    const blob = this.blobPath(etag);
    await fs.mkdir(path.dirname(pointer), { recursive: true });
    await fs.rm(pointer, { force: true });
    try {
      await fs.symlink(path.relative(path.dirname(pointer), blob), pointer);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EPERM' && code !== 'EACCES' && code !== 'ENOTSUP' && code !== 'EINVAL') throw e;
      await fs.copyFile(blob, `${pointer}.tmp-${process.pid}`);
      await fs.rename(`${pointer}.tmp-${process.pid}`, pointer);
    }
    return pointer;
  }
}
