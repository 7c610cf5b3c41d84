/**
 * Completion: keys of the section the cursor is in, values of the key it follows (enums, booleans, typical
 * numbers, models, data files, columns of the data file, parameter-name patterns of the model).
 */
import * as path from 'node:path';
import type { CompletionItem, CompletionList } from 'vscode-languageserver';
import { CompletionItemKind, InsertTextFormat, MarkupKind } from 'vscode-languageserver';
import type { ParamInfo } from '../../common/bertParams';
import { countParameters } from '../../common/bertParams';
import { PROBLEM_TYPES, TASK_METRICS } from '../../common/problemType';
import type { MetricTask } from '../../common/problemType';
import { configSchema } from '../../common/config/schema';
import type { FineTuneConfig } from '../../common/config/schema';
import type { FieldSpec } from '../../common/config/spec';
import { describeType } from '../../common/config/spec';
import { hubDatasetQuery } from '../../common/config/fileChecks';
import type { ConfigFileHost } from '../../common/config/fileChecks';
import { formatCount } from '../../common/moduleTree';
import type { CursorContext } from './cursorContext';
import { cursorContext } from './cursorContext';
import { modelParameters, modulePaths, WELL_KNOWN_MODELS, withTimeout } from './modelFacts';
import type { ServiceContext } from './serviceContext';
import { toRange } from './serviceContext';
import { formatValue, keyDocs, specAt } from './specDocs';
import { revisionItems } from './revisions';

const EMPTY: CompletionList = { isIncomplete: false, items: [] };

export async function doComplete(ctx: ServiceContext, offset: number): Promise<CompletionList> {
  const text = ctx.document.getText();
  if (!ctx.parsed.result && ctx.parsed.diagnostics.some((d) => d.code !== 'yaml-syntax')) return EMPTY; // binary, too large
  let cursor: CursorContext | undefined;
  try {
    cursor = cursorContext(text, offset);
  } catch {
    return EMPTY;
  }
  if (!cursor) return EMPTY;
  const range = toRange(ctx.document, { start: cursor.replaceStart, end: cursor.replaceEnd });
  const items = cursor.kind === 'key' ? await keyItems(ctx, cursor) : await valueItems(ctx, cursor);
  for (const it of items) {
    const newText = it.textEdit && 'newText' in it.textEdit ? it.textEdit.newText : (it.insertText ?? it.label);
    it.textEdit = { range, newText };
    delete it.insertText;
    it.insertTextFormat = InsertTextFormat.PlainText;
  }
  return { isIncomplete: false, items };
}

function md(value: string): CompletionItem['documentation'] {
  return { kind: MarkupKind.Markdown, value };
}

async function keyItems(ctx: ServiceContext, cursor: CursorContext): Promise<CompletionItem[]> {
  const spec = specAt(cursor.path);
  if (!spec) return [];
  if (spec.type === 'map<number>') {
    // learning_rates: keys are parameter patterns.
    const patterns = await patternItems(ctx, cursor.path);
    return patterns
      .filter((p) => !cursor.siblings.has(p.label))
      .map((p) => ({ ...p, insertText: cursor.hasColon ? p.label : `${p.label}: ` }));
  }
  if (spec.type !== 'section') return [];
  const fields = Object.entries(spec.fields as Record<string, FieldSpec>);
  return fields
    .filter(([k]) => !cursor.siblings.has(k))
    .map(([k, f], i) => {
      const childIndent = ' '.repeat(cursor.indent + 2);
      const insertText = cursor.hasColon ? k : f.type === 'section' ? `${k}:\n${childIndent}` : `${k}: `;
      return {
        label: k,
        kind: f.type === 'section' ? CompletionItemKind.Module : CompletionItemKind.Property,
        detail: f.default !== undefined ? `${describeType(f)} = ${formatValue(f.default)}` : describeType(f),
        documentation: md(keyDocs([...cursor.path, k], f)),
        // Required keys first, then the schema's order (which groups related keys).
        sortText: `${f.required ? 0 : 1}${String(i).padStart(3, '0')}`,
        insertText,
      } satisfies CompletionItem;
    });
}

async function valueItems(ctx: ServiceContext, cursor: CursorContext): Promise<CompletionItem[]> {
  const spec = specAt(cursor.path);
  if (!spec) return [];
  const key = cursor.path[cursor.path.length - 1]!;
  const config = ctx.parsed.result?.config;
  switch (spec.type) {
    case 'enum':
      return spec.values.map((v, i) => ({
        label: v,
        kind: CompletionItemKind.EnumMember,
        detail: v === spec.default ? 'default' : undefined,
        documentation: spec.valueDocs?.[v] ? md(spec.valueDocs[v]!) : undefined,
        sortText: String(i).padStart(3, '0'),
        preselect: v === spec.default,
      }));
    case 'boolean':
      return [true, false].map((v) => ({
        label: String(v),
        kind: CompletionItemKind.Value,
        detail: v === spec.default ? 'default' : undefined,
      }));
    case 'number':
    case 'integer': {
      const values = [...new Set([...(spec.default !== undefined ? [spec.default] : []), ...(spec.examples ?? [])])];
      return values.map((v, i) => ({
        label: formatNumber(v),
        kind: CompletionItemKind.Value,
        detail: v === spec.default ? 'default' : 'typical',
        documentation: key === 'learning_rate' ? md(learningRateHint(v, config)) : undefined,
        sortText: String(i).padStart(3, '0'),
      }));
    }
    case 'string[]':
    case 'map<number>': {
      if (spec.type === 'string[]' && spec.values) return choiceItems(ctx, cursor, spec.values, spec.valueDocs);
      if (spec.kind !== 'param-pattern') return [];
      // Patterns already in the list are not offered again (the one being typed is).
      const listed = new Set(ctx.parsed.result && spec.type === 'string[]' ? (readList(ctx, cursor.path) ?? []) : []);
      listed.delete(cursor.prefix);
      return (await patternItems(ctx, cursor.path)).filter((i) => !listed.has(i.label));
    }
    case 'string':
      return stringItems(ctx, spec, key, config);
    default:
      return [];
  }
}

/** The choices of a list key (`report_to`) not yet in its list. */
function choiceItems(
  ctx: ServiceContext,
  cursor: CursorContext,
  values: readonly string[],
  docs: Readonly<Record<string, string>> | undefined,
): CompletionItem[] {
  const listed = new Set(readList(ctx, cursor.path) ?? []);
  listed.delete(cursor.prefix);
  return values
    .filter((v) => !listed.has(v))
    .map((v, i) => ({
      label: v,
      kind: CompletionItemKind.EnumMember,
      documentation: docs?.[v] ? md(docs[v]!) : undefined,
      sortText: String(i).padStart(3, '0'),
    }));
}

function readList(ctx: ServiceContext, keyPath: string[]): string[] | undefined {
  const node = ctx.parsed.result?.document.node(keyPath);
  const value: unknown = node && 'toJSON' in node ? (node as { toJSON(): unknown }).toJSON() : undefined;
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;
}

/** 5e-5 rather than 0.00005: the way learning rates are written in papers and HF examples. */
function formatNumber(v: number): string {
  if (v !== 0 && Math.abs(v) < 1e-3) {
    const [m, e] = v.toExponential().split('e');
    return `${m}e${Number(e)}`;
  }
  return String(v);
}

function learningRateHint(v: number, c: FineTuneConfig | undefined): string {
  if (c?.mode === 'from-scratch')
    return v >= 1e-4
      ? 'A usual range for training from scratch.'
      : 'Low for training from scratch; 1e-4 to 5e-4 is usual.';
  return v <= 5e-5
    ? 'A usual range for fine-tuning BERT (2e-5 to 5e-5).'
    : 'High for fine-tuning; meant for training from scratch or for a new head.';
}

function relative(ctx: ServiceContext, abs: string): string {
  if (!ctx.folder) return abs;
  const rel = path.relative(ctx.folder, abs).split(path.sep).join('/');
  return rel === '' ? '.' : rel;
}

/**
 * The metrics of the config's problem type; with none declared, the default (single-label) type's first, then
 * those only another type reports, each saying which.
 */
function metricItems(config: FineTuneConfig | undefined): CompletionItem[] {
  const declared = config?.model.problem_type;
  const tasks: readonly MetricTask[] =
    config?.task === 'masked-lm' ? ['masked-lm'] : declared ? [declared] : PROBLEM_TYPES;
  const seen = new Set<string>();
  const items: CompletionItem[] = [];
  tasks.forEach((task, i) => {
    TASK_METRICS[task].forEach((m, j) => {
      if (seen.has(m)) return;
      seen.add(m);
      const sortText = `${i}${String(j).padStart(2, '0')}`;
      items.push({ label: m, kind: CompletionItemKind.EnumMember, detail: `metric of ${task}`, sortText });
    });
  });
  return items;
}

async function stringItems(
  ctx: ServiceContext,
  spec: FieldSpec,
  key: string,
  config: FineTuneConfig | undefined,
): Promise<CompletionItem[]> {
  const items: CompletionItem[] = [];
  const ws = ctx.workspace;
  if (key === 'metric_for_best_model') return metricItems(config);
  if (spec.kind === 'model' || spec.kind === 'tokenizer' || spec.kind === 'checkpoint') {
    const folders = ws ? await withTimeout(ws.modelFolders(), ctx.timeoutMs, []) : [];
    for (const f of folders) {
      if (spec.kind === 'checkpoint' && !f.checkpoint) continue;
      items.push({
        label: relative(ctx, f.path),
        kind: CompletionItemKind.Folder,
        detail: f.checkpoint ? 'checkpoint of an earlier run' : 'model folder in the workspace',
        sortText: `${f.checkpoint ? 1 : 0}${relative(ctx, f.path)}`,
      });
    }
    if (spec.kind !== 'checkpoint') {
      for (const m of WELL_KNOWN_MODELS) {
        items.push({
          label: m.id,
          kind: CompletionItemKind.Reference,
          detail: 'Hugging Face Hub',
          documentation: md(m.description),
          sortText: `2${m.id}`,
        });
      }
    }
    return items;
  }
  if (spec.kind === 'model-revision') return revisionItems(ctx, config);
  if (spec.kind === 'data-file') {
    const files = ws ? await withTimeout(ws.dataFiles(), ctx.timeoutMs, []) : [];
    return files.map((f) => ({ label: relative(ctx, f), kind: CompletionItemKind.File, detail: 'data file' }));
  }
  if (spec.kind === 'column' && config && ctx.host) {
    const found = await withTimeout(configColumns(config, ctx.host), ctx.timeoutMs, undefined);
    if (found === undefined) return [];
    // The second text of a pair is another column than the text and the label (the validator refuses the same).
    const taken = key === 'text_pair_column' ? [config.data.text_column, config.data.label_column] : [];
    return found.columns
      .filter((c) => !taken.includes(c))
      .map((c) => ({
        label: c,
        kind: CompletionItemKind.Field,
        detail: `column of ${found.source}`,
      }));
  }
  return items;
}

/** Module and parameter names of the config's model, and per-layer wildcards (`bert.encoder.layer.*.attention`). */
async function patternItems(ctx: ServiceContext, keyPath: string[]): Promise<CompletionItem[]> {
  const config = ctx.parsed.result?.config;
  const items: CompletionItem[] = [];
  if (keyPath[keyPath.length - 1] === 'no_decay') {
    for (const d of configSchema.fields.training.fields.no_decay.default ?? [])
      items.push({ label: d, kind: CompletionItemKind.Constant, detail: 'default', sortText: `0${d}` });
  }
  if (!config || !ctx.host) return items;
  const params: ParamInfo[] | undefined = await withTimeout(
    modelParameters(config, ctx.host),
    ctx.timeoutMs,
    undefined,
  );
  if (!params) return items;
  const seen = new Set(items.map((i) => i.label));
  let order = 0;
  for (const m of modulePaths(params)) {
    if (seen.has(m.path)) continue;
    seen.add(m.path);
    const shape = m.leaf ? params.find((p) => p.name === m.path)?.shape : undefined;
    items.push({
      label: m.path,
      kind: m.leaf ? CompletionItemKind.Field : CompletionItemKind.Module,
      detail: m.leaf ? `parameter [${shape?.join(', ')}]` : `module · ${formatCount(m.count)} parameters`,
      sortText: `1${String(order++).padStart(5, '0')}`,
    });
  }
  // One wildcard per position inside a layer, so that "every layer's attention" is one pattern.
  const wild = new Map<string, number>();
  for (const p of params) {
    const m = /^(.*\.layer)\.\d+(\..+)?$/.exec(p.name);
    if (!m) continue;
    const parts = (m[2] ?? '').split('.').filter(Boolean);
    for (let i = 0; i <= parts.length; i++) {
      const label = `${m[1]}.*${i ? '.' + parts.slice(0, i).join('.') : ''}`;
      wild.set(label, (wild.get(label) ?? 0) + countParameters([p]));
    }
  }
  for (const [label, count] of wild) {
    if (seen.has(label)) continue;
    items.push({
      label,
      kind: CompletionItemKind.Module,
      detail: `every layer · ${formatCount(count)} parameters`,
      sortText: `2${String(order++).padStart(5, '0')}`,
    });
  }
  return items;
}

/** The columns the config's column keys choose from: its training file's, or its cached Hub data set's. */
async function configColumns(
  config: FineTuneConfig,
  host: ConfigFileHost,
): Promise<{ columns: string[]; source: string } | undefined> {
  const query = hubDatasetQuery(config);
  if (query !== undefined) {
    const cols = await host.hubDatasetColumns?.(query);
    const source = `${query.name} (${query.config ?? 'default'}, ${query.split}), cached`;
    return cols?.ok ? { columns: cols.value, source } : undefined;
  }
  if (config.data.train_file === undefined) return undefined;
  const cols = await host.readColumns(host.resolve(config.data.train_file));
  return cols.ok ? { columns: cols.value, source: config.data.train_file } : undefined;
}
