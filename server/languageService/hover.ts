/**
 * Hover: the documentation of a key; what an enum value means; for a parameter pattern, the modules it matches
 * and how many parameters it freezes; for `model.name_or_path`, the model's size.
 */
import type { Hover } from 'vscode-languageserver';
import { MarkupKind } from 'vscode-languageserver';
import { isMap, isScalar, isSeq } from 'yaml';
import type { Node } from 'yaml';
import { bertParameters } from '../../common/bertParams';
import { configModel, headFor, modelLookup } from '../../common/config/fileChecks';
import type { ModelInfo } from '../../common/config/fileChecks';
import { cachedLabel } from '../../common/config/hubModel';
import type { FineTuneConfig } from '../../common/config/schema';
import { formatCount } from '../../common/moduleTree';
import { shown } from '../../common/shown';
import { describeModel, modelParameters, summarisePattern, wellKnownModel, withTimeout } from './modelFacts';
import type { ServiceContext } from './serviceContext';
import { toRange } from './serviceContext';
import { keyDocs, specAt } from './specDocs';
import { revisionHover } from './revisions';

interface Target {
  path: (string | number)[];
  on: 'key' | 'value';
  range: [number, number];
  value?: unknown;
}

const contains = (r: readonly number[] | null | undefined, offset: number): boolean =>
  !!r && r[0]! <= offset && offset <= r[1]!;

/** The key or scalar value under the cursor, with its path. Iterative, so deep nesting cannot overflow. */
export function targetAt(root: Node | null, offset: number): Target | undefined {
  let node: unknown = root;
  const path: (string | number)[] = [];
  for (let depth = 0; depth < 64; depth++) {
    if (isMap(node)) {
      let next: unknown;
      for (const pair of node.items) {
        const k = pair.key as Node | null;
        if (isScalar(k) && contains(k.range, offset))
          return { path: [...path, String(k.value)], on: 'key', range: [k.range![0], k.range![1]] };
        const v = pair.value as Node | null;
        if (v && contains(v.range, offset) && isScalar(k)) {
          path.push(String(k.value));
          next = v;
          break;
        }
      }
      if (next === undefined) return undefined;
      node = next;
    } else if (isSeq(node)) {
      const i = node.items.findIndex((it) => contains((it as Node | null)?.range, offset));
      if (i < 0) return undefined;
      path.push(i);
      node = node.items[i];
    } else if (isScalar(node) && node.range) {
      return { path, on: 'value', range: [node.range[0], node.range[1]], value: node.value };
    } else return undefined;
  }
  return undefined;
}

export async function doHover(ctx: ServiceContext, offset: number): Promise<Hover | null> {
  const result = ctx.parsed.result;
  if (!result) return null;
  const target = targetAt(result.document.doc.contents as Node | null, offset);
  if (!target) return null;
  const value = await hoverText(ctx, target);
  if (!value) return null;
  return {
    contents: { kind: MarkupKind.Markdown, value },
    range: toRange(ctx.document, { start: target.range[0], end: target.range[1] }),
  };
}

async function hoverText(ctx: ServiceContext, t: Target): Promise<string | undefined> {
  const config = ctx.parsed.result!.config;
  const names = t.path.filter((p): p is string => typeof p === 'string');
  const spec = specAt(t.path);
  // A pattern: an item of freeze/unfreeze/no_decay, or a key of learning_rates.
  const isPattern =
    spec?.kind === 'param-pattern' &&
    ((spec.type === 'string[]' && t.on === 'value') ||
      (spec.type === 'map<number>' && t.path.length === 3 && t.on === 'key'));
  if (isPattern) {
    const pattern = String(t.on === 'key' ? t.path[t.path.length - 1] : t.value);
    return patternHover(ctx, pattern, t.path[0] === 'freeze');
  }
  if (!spec) return undefined;
  if (spec.kind === 'column') return `${keyDocs(names, spec)}\n\n${await columnsHover(ctx, t)}`;
  if (t.on === 'key') return keyDocs(names, spec);
  if (spec.type === 'enum' && typeof t.value === 'string') {
    const doc = spec.valueDocs?.[t.value];
    return doc ? `**${t.value}**: ${doc}` : undefined;
  }
  if (spec.kind === 'model' && typeof t.value === 'string') return modelHover(ctx, t.value, config);
  if (spec.kind === 'model-revision' && typeof t.value === 'string')
    return `${keyDocs(names, spec)}\n\n${await revisionHover(ctx, config, t.value)}`;
  return keyDocs(names, spec);
}

/** For a column key: the training file's columns, and whether the one written is among them. */
async function columnsHover(ctx: ServiceContext, t: Target): Promise<string> {
  const file = ctx.parsed.result!.config.data.train_file;
  if (!file || !ctx.host) return 'The columns are read from `data.train_file` once it is set.';
  const host = ctx.host;
  const cols = await withTimeout(host.readColumns(host.resolve(file)), ctx.timeoutMs, undefined);
  if (!cols) return `The columns of ${file} could not be read in time.`;
  if (!cols.ok) return `The columns of ${file} cannot be read: ${cols.reason}`;
  const listed = cols.value.slice(0, 50).map(code);
  if (cols.value.length > 50) listed.push(`… and ${cols.value.length - 50} more`);
  const value = t.on === 'value' && typeof t.value === 'string' ? t.value : undefined;
  const missing =
    value !== undefined && !cols.value.includes(value) ? `**${file} has no column ${code(value)}.** ` : '';
  return `${missing}Columns of ${file}: ${listed.join(', ')}`;
}

/** A name from a user's file as inline code: cut, control characters escaped, no backtick to end it early. */
function code(name: string): string {
  return `\`${shown(name).replace(/`/g, "'")}\``;
}

async function patternHover(ctx: ServiceContext, pattern: string, isFreeze: boolean): Promise<string> {
  const config = ctx.parsed.result!.config;
  const params = ctx.host ? await withTimeout(modelParameters(config, ctx.host), ctx.timeoutMs, undefined) : undefined;
  if (!params)
    return `\`${pattern}\`: the model's parameter names are not known here (a Hub model that is not downloaded, or no model yet).`;
  const s = summarisePattern(pattern, params, config);
  if (!s.matchedTensors) return `\`${pattern}\` matches **no parameter** of this model.`;
  const shown = s.modules.slice(0, 12).map((m) => `- \`${m}\``);
  if (s.modules.length > 12) shown.push(`- … and ${s.modules.length - 12} more`);
  const lines = [
    `\`${pattern}\` matches ${s.matchedTensors} tensors, ${formatCount(s.matchedParams)} parameters:`,
    '',
    ...shown,
  ];
  if (isFreeze) {
    const total = params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
    const unfrozen = s.matchedParams - s.frozenParams;
    lines.push(
      '',
      `Freezes **${formatCount(s.frozenParams)}** of ${formatCount(total)} parameters${unfrozen ? ` (${formatCount(unfrozen)} re-opened by \`unfreeze\`)` : ''}.`,
    );
  }
  return lines.join('\n');
}

async function modelHover(
  ctx: ServiceContext,
  nameOrPath: string,
  config: FineTuneConfig,
): Promise<string | undefined> {
  // Described as the model a fine-tuning run would load, whatever the mode.
  const asPretrained: FineTuneConfig = {
    ...config,
    mode: 'fine-tune',
    model: { ...config.model, name_or_path: nameOrPath },
  };
  const model = ctx.host ? await withTimeout(configModel(asPretrained, ctx.host), ctx.timeoutMs, undefined) : undefined;
  const found = modelLookup(model);
  if (found?.ok) return describeModel(found.value, nameOrPath) + cachedNote(found.value);
  if (found && !found.ok) return `**${nameOrPath}**: ${found.reason}`;
  const known = wellKnownModel(nameOrPath);
  const notCached = model?.kind === 'hub' ? ` It is not in the Hub cache (${model.cache.dir}).` : '';
  if (known) {
    const info = { config: known.config, parameters: bertParameters(known.config, headFor(config.task)) };
    return `${describeModel(info, nameOrPath)}\n\n${known.description} (Hugging Face Hub)${notCached}`;
  }
  return `**${nameOrPath}**: a Hugging Face Hub id, downloaded at the start of the run.${notCached}`;
}

/** Where in the Hub cache a Hub model was read, and whether a run still downloads its weights. */
function cachedNote(info: ModelInfo): string {
  if (!info.cached) return '';
  const weights = info.cached.complete ? '' : ' Its weights are not cached yet: the run downloads them.';
  return `\n\nRead from the Hub cache: ${cachedLabel(info.cached)}, ${info.source}.${weights}`;
}
