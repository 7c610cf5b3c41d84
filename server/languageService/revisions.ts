/**
 * Completion of `model.revision`: `main`, then what the Hub cache holds for the model (its refs, `refs/pr/N`
 * included, and the commits of its snapshots), each with its commit; hover: the commit a revision is in the
 * cache. Read without any request.
 */
import type { CompletionItem } from 'vscode-languageserver';
import { CompletionItemKind } from 'vscode-languageserver';
import { configModel } from '../../common/config/fileChecks';
import type { FineTuneConfig } from '../../common/config/schema';
import { DEFAULT_REVISION } from '../../common/config/hubModel';
import type { HubRepoCache } from '../../common/config/hubModel';
import { revisionProblem } from '../../common/hubRevision';
import { withTimeout } from './modelFacts';
import type { ServiceContext } from './serviceContext';

export async function revisionItems(
  ctx: ServiceContext,
  config: FineTuneConfig | undefined,
): Promise<CompletionItem[]> {
  // The revision being typed (`refs/pr/`, say) is no revision yet: the cache is looked at as for `main`.
  const asMain = config && { ...config, model: { ...config.model, revision: undefined } };
  const model =
    asMain && ctx.host ? await withTimeout(configModel(asMain, ctx.host), ctx.timeoutMs, undefined) : undefined;
  const cache = model?.kind === 'hub' ? model.cache : undefined;
  const main = cache?.refs.get(DEFAULT_REVISION);
  const items: CompletionItem[] = [
    {
      label: DEFAULT_REVISION,
      kind: CompletionItemKind.Reference,
      detail: main ? `default branch · commit ${main.slice(0, 7)}, cached` : 'default branch',
      sortText: '0',
    },
  ];
  if (!cache) return items;
  for (const [name, sha] of cache.refs) {
    if (name === DEFAULT_REVISION) continue;
    const cached = cache.snapshots.includes(sha) ? ', cached' : '';
    items.push({
      label: name,
      kind: CompletionItemKind.Reference,
      detail: `${refKind(name)} · commit ${sha.slice(0, 7)}${cached}`,
      sortText: `1${name}`,
    });
  }
  for (const sha of cache.snapshots) items.push(commitItem(cache, sha));
  return items;
}

function refKind(name: string): string {
  if (name.startsWith('refs/pr/')) return 'pull request';
  return name.startsWith('refs/') ? 'ref' : 'branch or tag';
}

/** A cached commit, with the refs that point at it: pinning it keeps the weights the run was checked against. */
function commitItem(cache: HubRepoCache, sha: string): CompletionItem {
  const names = [...cache.refs].filter(([, s]) => s === sha).map(([n]) => n);
  return {
    label: sha,
    kind: CompletionItemKind.Constant,
    detail: `commit, cached${names.length ? ` · ${names.join(', ')}` : ''}`,
    sortText: `2${sha}`,
  };
}

/** Which commit of the cache the revision is, or what a run does about it. */
export async function revisionHover(ctx: ServiceContext, config: FineTuneConfig, revision: string): Promise<string> {
  const problem = revisionProblem(revision);
  if (problem !== undefined) return `\`${revision}\` cannot be a revision: ${problem}.`;
  const model = ctx.host ? await withTimeout(configModel(config, ctx.host), ctx.timeoutMs, undefined) : undefined;
  if (model?.kind !== 'hub') return 'Used with a Hub id in `model.name_or_path`; a local folder is used as it is.';
  const { found, cache } = model;
  if (found.state === 'cached') return `\`${revision}\` is the commit ${found.sha}, in the Hub cache (${cache.dir}).`;
  if (found.state === 'ambiguous')
    return `\`${revision}\` starts ${found.shas.length} cached commits: write more of it.`;
  const then = cache.offline ? 'downloads are off, so a run cannot get it' : 'a run downloads it first';
  return `\`${revision}\` is not in the Hub cache (${cache.dir}): ${then}.`;
}
