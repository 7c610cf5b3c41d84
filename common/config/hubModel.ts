/**
 * A Hub id in `model.name_or_path` as the file checks see it: when the shared Hub cache (files/hf/hubCache.ts)
 * holds a snapshot of the revision, the model is read from there, without any request, and checked as a local
 * folder is. Also `model.revision` against that cache: offline, a revision that is not cached would stop the run
 * at its first download, so it is an error here, before anything starts.
 */
import { FULL_SHA, revisionProblem, SHORT_SHA } from '../hubRevision';
import { showName } from '../safeName';
import type { ConfigDiagnostic, ConfigFix } from './diagnostic';
import { diag } from './makeDiagnostic';
import type { ConfigFileHost, Lookup, ModelInfo } from './fileChecks';
import type { FineTuneConfig } from './schema';
import type { ConfigDocument } from './yamlDoc';

/** What the Hub cache holds for one model repo, read without a request (nothing when the repo was never cached). */
export interface HubRepoCache {
  /** The repo's folder in the cache (`…/hub/models--org--name`), for messages. */
  dir: string;
  /** HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE is set: a run may not download. */
  offline: boolean;
  /** Each revision under refs/ (`main`, `v1.0`, `refs/pr/3`) and the commit it points to. */
  refs: ReadonlyMap<string, string>;
  /** The commits that have a snapshot folder. */
  snapshots: readonly string[];
}

/** Where a revision stands in the cache: a snapshot, several (a short sha that is too short), or none. */
export type CachedRevision =
  | { state: 'cached'; sha: string; via: 'ref' | 'sha' | 'short' }
  | { state: 'ambiguous'; shas: string[] }
  | { state: 'absent' };

/** The snapshot a Hub model was read from, for messages and hover. */
export interface CachedModelRef {
  id: string;
  revision: string;
  sha: string;
  /** True when its weights are cached too. */
  complete: boolean;
  /** True when a tokenizer is cached with it (tokenizer.json, vocab.txt or vocab.json). */
  tokenizer: boolean;
}

/** What a snapshot holds besides config.json: a run offline needs the weights, and the tokenizer unless one is set. */
export type SnapshotFiles = Pick<CachedModelRef, 'complete' | 'tokenizer'>;

/** The config's Hub model: the cache's view of it, and the model read from its snapshot when there is one. */
export interface HubModel {
  id: string;
  revision: string;
  cache: HubRepoCache;
  found: CachedRevision;
  /** Absent when the snapshot has no config.json (or is not cached). */
  model?: Lookup<ModelInfo>;
}

export const DEFAULT_REVISION = 'main';

/** The revision in the cache the way the trainer resolves it (files/hf/hubCache.ts `resolveRevision`). */
export function findCachedRevision(cache: HubRepoCache, revision: string): CachedRevision {
  const has = (sha: string) => cache.snapshots.includes(sha);
  if (FULL_SHA.test(revision)) return has(revision) ? { state: 'cached', sha: revision, via: 'sha' } : absent;
  const ref = cache.refs.get(revision);
  if (ref !== undefined) return has(ref) ? { state: 'cached', sha: ref, via: 'ref' } : absent;
  if (!SHORT_SHA.test(revision)) return absent;
  const shas = cache.snapshots.filter((s) => s.startsWith(revision));
  if (shas.length === 1) return { state: 'cached', sha: shas[0]!, via: 'short' };
  return shas.length ? { state: 'ambiguous', shas } : absent;
}
const absent: CachedRevision = { state: 'absent' };

/** The Hub model of an id, from the cache alone; undefined when the host has no Hub cache. */
export async function lookupHubModel(
  id: string,
  revision: string,
  host: ConfigFileHost,
): Promise<HubModel | undefined> {
  if (!host.hubModelCache || !host.hubSnapshotModel) return undefined;
  const cache = await host.hubModelCache(id);
  const found = findCachedRevision(cache, revision);
  if (found.state !== 'cached') return { id, revision, cache, found };
  const read = await host.hubSnapshotModel(id, found.sha);
  if (read === undefined) return { id, revision, cache, found };
  const ref = { id, revision, sha: found.sha };
  const model: Lookup<ModelInfo> = read.ok
    ? {
        ok: true,
        value: { ...read.value, cached: { ...ref, complete: read.value.complete, tokenizer: read.value.tokenizer } },
      }
    : { ...read, reason: `${cachedLabel(ref)}: ${read.reason}` };
  return { id, revision, cache, found, model };
}

/** "org/name (cached at revision main = 1a2b3c4)": which snapshot a diagnostic is about. */
export function cachedLabel(ref: Pick<CachedModelRef, 'id' | 'revision' | 'sha'>): string {
  const short = ref.sha.slice(0, 7);
  const at = ref.revision === ref.sha ? `commit ${short}` : `revision ${ref.revision} = ${short}`;
  return `${ref.id} (cached at ${at})`;
}

/** The fix of a revision that a run cannot get offline, in huggingface_hub's words. */
function downloadHint(id: string, revision: string): string {
  const rev = revision === DEFAULT_REVISION ? '' : ` --revision ${revision}`;
  return `Run once online (unset HF_HUB_OFFLINE and TRANSFORMERS_OFFLINE), or \`hf download ${id}${rev}\`, or set \`model.name_or_path\` to a model folder.`;
}

/** `model.revision` against the cache: what stops an offline run, and a short sha Python would refuse. */
export function hubModelDiagnostics(c: FineTuneConfig, doc: ConfigDocument, hub: HubModel): ConfigDiagnostic[] {
  const { id, revision, cache, found } = hub;
  const at: string[] = doc.pair(['model', 'revision']) ? ['model', 'revision'] : ['model', 'name_or_path'];
  const named = `\`${at.join('.')}\`: \`${id}\` at revision \`${revision}\``;
  if (found.state === 'ambiguous') {
    const message = `${named}: the short sha matches ${found.shas.length} cached commits (${found.shas.map((s) => s.slice(0, 12)).join(', ')}); write more of it, or the whole commit.`;
    return [
      diag(
        cache.offline ? 'error' : 'warning',
        'revision-ambiguous',
        message,
        at,
        doc,
        shaFixes(doc, found.shas),
        'value',
      ),
    ];
  }
  if (!cache.offline) return [];
  // A snapshot without a readable config.json (a link to a blob that is gone) is no more use to a run than none.
  if (found.state === 'absent' || hub.model === undefined) {
    const message = `${named} is not in the cache (${cache.dir}) and downloads are off (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE is set). ${downloadHint(id, revision)}`;
    return [diag('error', 'revision-not-cached', message, at, doc, [], 'value')];
  }
  const out: ConfigDiagnostic[] = [];
  const cached = hub.model.ok ? hub.model.value.cached : undefined;
  // What the trainer's offline resolution (trainer/hf/hub.ts) and then its tokenizer would miss.
  const missing = [
    ...(cached && !cached.complete ? ['weights'] : []),
    ...(cached && !cached.tokenizer && c.model.tokenizer === undefined ? ['tokenizer'] : []),
  ];
  if (cached && missing.length) {
    const message = `\`${at.join('.')}\`: ${cachedLabel(cached)} has no ${missing.join(' and no ')} in the cache and downloads are off (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE is set). ${downloadHint(id, revision)}`;
    out.push(diag('error', 'revision-not-cached', message, at, doc, [], 'value'));
  }
  if (found.via === 'short' && doc.pair(['model', 'revision'])) {
    // Ours resolves it from the snapshots; huggingface_hub, offline, only through refs/<revision>.
    const message = `\`model.revision\`: \`${revision}\` is a short sha: this run finds its snapshot (${found.sha}), but Python's huggingface_hub refuses a short sha offline. Write the whole commit.`;
    out.push(diag('warning', 'revision-short-sha', message, at, doc, shaFixes(doc, [found.sha]), 'value'));
  }
  return out;
}

function shaFixes(doc: ConfigDocument, shas: readonly string[]): ConfigFix[] {
  if (!doc.pair(['model', 'revision'])) return [];
  return shas.slice(0, 5).map((sha, i) => ({
    title: `Change to the commit ${sha}`,
    edits: [{ range: doc.valueRange(['model', 'revision']), newText: sha }],
    ...(i === 0 && shas.length === 1 ? { preferred: true } : {}),
  }));
}

/** A `model.revision` that cannot name a branch, tag, commit or pull request (nor be joined onto refs/ safely). */
export function revisionRules(c: FineTuneConfig, doc: ConfigDocument): ConfigDiagnostic[] {
  const revision = c.model.revision;
  if (revision === undefined || !doc.pair(['model', 'revision'])) return [];
  const problem = revisionProblem(revision);
  if (problem === undefined) return [];
  const message = `\`model.revision\` ${showName(revision)} is not a branch, tag, commit sha or \`refs/pr/N\`: ${problem}.`;
  return [diag('error', 'revision-invalid', message, ['model', 'revision'], doc, [], 'value')];
}
