/**
 * Checks a `*.finetune.yaml` text against the schema (structure, types, ranges, unknown keys, cross-field
 * rules) and resolves it with defaults. Pure: no file system. Checks that need files (data columns, model
 * folders, freeze patterns against real parameter names) live in fileChecks.ts.
 */
import { isMap, isScalar, isSeq } from 'yaml';
import type { Node, Pair, YAMLMap } from 'yaml';
import { didYouMean } from '../textDistance';
import type { ConfigDiagnostic, ConfigFix } from './diagnostic';
import { diag, DiagnosticList } from './makeDiagnostic';
import type { FineTuneConfig } from './schema';
import { applyDefaults } from './defaults';
import { configSchema } from './schema';
import type { FieldSpec, NumberMapSpec, SectionSpec } from './spec';
import { describeRange, describeType } from './spec';
import { ConfigDocument } from './yamlDoc';
import type { KeyPath } from './yamlDoc';
import { crossFieldRules } from './rules';
import { patternProblem } from '../freeze';
import { shown } from '../shown';
import { describeMisplaced, misplacedKey, moveKeyFix } from './misplacedKeys';

export interface ValidationResult {
  document: ConfigDocument;
  /** The config with defaults applied; present even with errors (best effort), so tools can still help. */
  config: FineTuneConfig;
  diagnostics: ConfigDiagnostic[];
  /** Diagnostics not computed because `maxDiagnostics` was reached (at least this many more problems). */
  dropped: number;
}

export interface ValidateOptions {
  /** Stop computing diagnostics past this many; the walk of the document stops too. Default: no cap. */
  maxDiagnostics?: number;
}

/** Aliases may share a value, not multiply it ("billion laughs"): the `yaml` package's own cap on expansions. */
const MAX_ALIAS_COUNT = 100;

export function validateConfigText(text: string, options: ValidateOptions = {}): ValidationResult {
  const max = options.maxDiagnostics ?? Infinity;
  const document = new ConfigDocument(text, { maxDuplicateReports: max });
  const list = new DiagnosticList(max);
  for (const e of [...document.doc.errors, ...document.doc.warnings]) {
    list.add(() => ({
      severity: e.name === 'YAMLWarning' ? 'warning' : 'error',
      code: e.code === 'DUPLICATE_KEY' ? 'duplicate-key' : 'yaml-syntax',
      message: e.message.split('\n')[0] ?? e.message,
      path: [],
      range: { start: e.pos[0], end: Math.max(e.pos[1], e.pos[0] + 1) },
    }));
  }
  const root = document.doc.contents;
  const raw = Object.create(null) as Record<string, unknown>;
  if (root === null || root === undefined) {
    if (!document.doc.errors.length) {
      const message = 'The config is empty. Start with `mode: fine-tune` or `mode: from-scratch`.';
      list.add(() => diag('error', 'empty-config', message, [], document, []));
    }
  } else if (!isMap(root)) {
    if (!document.doc.errors.length) {
      const message = 'A config is a YAML mapping of keys to values, e.g. `mode: fine-tune`.';
      list.add(() => diag('error', 'not-a-mapping', message, [], document, []));
    }
  } else {
    walkSection(configSchema, root as YAMLMap<Node, Node | null>, [], raw, document, list);
  }
  const config = applyDefaults(configSchema, raw) as unknown as FineTuneConfig;
  // Cross-field rules only make sense once each field is individually valid; errors on a field already
  // explain the problem, so rules skip fields that carry one.
  const broken = new Set(list.items.filter((d) => d.severity === 'error').map((d) => d.path.join('.')));
  if (!list.full) {
    for (const d of crossFieldRules(config, raw, document)) {
      if (!d.path.length || !broken.has(d.path.join('.'))) list.add(() => d);
    }
  }
  return { document, config, diagnostics: list.items, dropped: list.dropped };
}

/** Every key path of the schema, for "this key belongs in another section" hints. */
function keyHomes(
  spec: SectionSpec<unknown>,
  prefix: string[] = [],
  out = new Map<string, string[][]>(),
): Map<string, string[][]> {
  for (const [k, s] of Object.entries(spec.fields) as [string, FieldSpec][]) {
    const list = out.get(k) ?? [];
    list.push(prefix);
    out.set(k, list);
    if (s.type === 'section') keyHomes(s as SectionSpec<unknown>, [...prefix, k], out);
  }
  return out;
}
const homes = keyHomes(configSchema as SectionSpec<unknown>);

function walkSection(
  spec: SectionSpec<unknown>,
  map: YAMLMap<Node, Node | null>,
  path: string[],
  out: Record<string, unknown>,
  document: ConfigDocument,
  list: DiagnosticList,
): void {
  const fields = spec.fields as Record<string, FieldSpec>;
  for (const pair of map.items as Pair<Node, Node | null>[]) {
    // Past the cap nothing more would be shown: stop rather than walk 100,000 keys for nothing.
    if (list.full) {
      list.dropped++;
      return;
    }
    // Keys the parser could not read (syntax errors already reported) are skipped rather than called unknown;
    // a duplicated key is reported as such, and only its first value counts (as `ConfigDocument.pair` reads it).
    if (!isScalar(pair.key) || pair.key.value === null || pair.key.value === '') continue;
    if (!document.isFirstOfKey(map, pair)) continue;
    const key = String(pair.key.value);
    const keyPath = [...path, key];
    const field = Object.prototype.hasOwnProperty.call(fields, key) ? fields[key] : undefined;
    if (!field) {
      list.add(() => unknownKey(key, keyPath, Object.keys(fields), document));
      continue;
    }
    const value = pair.value;
    if (field.type === 'section') {
      if (value === null || (isScalar(value) && value.value === null)) continue;
      if (!isMap(value)) {
        const message = `\`${key}\` is a section: indent its keys below it.`;
        list.add(() => diag('error', 'wrong-type', message, keyPath, document, []));
        continue;
      }
      const sub: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      out[key] = sub;
      walkSection(field as SectionSpec<unknown>, value as YAMLMap<Node, Node | null>, keyPath, sub, document, list);
      continue;
    }
    const checked = checkValue(field, value, keyPath, document, list);
    if (checked !== undefined) out[key] = checked.value;
  }
  if (!document.doc.errors.length) missingRequired(spec, map, path, document, list);
}

/**
 * Required keys absent from `map` (undefined: the section itself is absent or empty), including those of
 * absent sections: a config without `data:` lacks `data.train_file`.
 */
function missingRequired(
  spec: SectionSpec<unknown>,
  map: YAMLMap<Node, Node | null> | undefined,
  path: string[],
  document: ConfigDocument,
  list: DiagnosticList,
): void {
  for (const [k, f] of Object.entries(spec.fields as Record<string, FieldSpec>)) {
    const pair = map && document.pair([...path, k]);
    const empty = !pair || pair.value === null || (isScalar(pair.value) && pair.value.value === null);
    if (f.type === 'section') {
      if (empty) missingRequired(f as SectionSpec<unknown>, undefined, [...path, k], document, list);
    } else if (f.required && !pair && !(f.requiredUnless !== undefined && document.pair([...path, f.requiredUnless]))) {
      const example = f.type === 'enum' ? f.values[0]! : f.kind === 'data-file' ? 'train.csv' : '';
      list.add(() =>
        diag(
          'error',
          'missing-required',
          `Missing required key \`${[...path, k].join('.')}\`: ${firstSentence(f.description)}`,
          path,
          document,
          [
            {
              title: `Add \`${[...path, k].join('.')}\``,
              edits: [document.insertKeyEdit(path, k, String(example))],
              preferred: true,
            },
          ],
        ),
      );
    }
  }
}

function unknownKey(key: string, keyPath: string[], siblings: string[], document: ConfigDocument): ConfigDiagnostic {
  const section = keyPath.slice(0, -1);
  const fixes: ConfigFix[] = [];
  let message = `Unknown key \`${key}\`${section.length ? ` in \`${section.join('.')}\`` : ''}.`;
  const elsewhere = homes.get(key)?.filter((h) => h.join('.') !== section.join('.'));
  const suggestion = didYouMean(key, siblings);
  // Hugging Face's names for what this schema spells otherwise (`model_name_or_path`), or does not have (`fp16`).
  const misplaced = elsewhere?.length ? undefined : misplacedKey(key);
  if (elsewhere?.length) {
    const where = elsewhere.map((h) => (h.length ? `\`${h.join('.')}\`` : 'the top level')).join(' or ');
    const full = elsewhere.map((h) => `\`${[...h, key].join('.')}\``).join(' or ');
    message += ` It belongs under ${where}: ${full}.`;
    const fix = elsewhere.length === 1 ? moveKeyFix(document, keyPath, [...elsewhere[0]!, key]) : undefined;
    if (fix) fixes.push(fix);
  } else if (misplaced) {
    const fix = misplaced.kind === 'renamed' ? moveKeyFix(document, keyPath, misplaced.path) : undefined;
    const message = describeMisplaced(key, misplaced, 'key');
    return diag('error', 'unknown-key', message, keyPath, document, fix ? [fix] : []);
  } else if (suggestion) {
    message += ` Did you mean \`${suggestion}\`?`;
    const r = document.keyRange(keyPath);
    fixes.push({ title: `Rename to \`${suggestion}\``, edits: [{ range: r, newText: suggestion }], preferred: true });
  } else {
    message += ` Known keys here: ${siblings.join(', ')}.`;
  }
  return diag('error', 'unknown-key', message, keyPath, document, fixes);
}

function firstSentence(s: string): string {
  const m = /^.*?\.(\s|$)/.exec(s);
  return (m ? m[0] : s).trim();
}

function checkValue(
  field: FieldSpec,
  node: Node | null,
  path: string[],
  document: ConfigDocument,
  list: DiagnosticList,
): { value: unknown } | undefined {
  const key = path.join('.');
  const bad = (message: string, code = 'wrong-type', fixes: ConfigFix[] = []) => {
    list.add(() => diag('error', code, message, path, document, fixes, 'value'));
    return undefined;
  };
  const read = plainValue(node, document);
  if ('problem' in read) return bad(`\`${key}\`: ${read.problem}`, 'yaml-alias');
  const value = read.value;
  if (value === null) {
    if (('nullable' in field && field.nullable) || field.type === 'string[]')
      return { value: field.type === 'string[]' ? [] : null };
    return bad(`\`${key}\` has no value; expected ${describeType(field)}.`);
  }
  switch (field.type) {
    case 'string':
      if (typeof value !== 'string') {
        if (typeof value === 'object') return bad(`\`${key}\` must be a string, not a ${describeValue(value)}.`);
        const text = String(value);
        return bad(`\`${key}\` must be a string; put it in quotes: "${text}".`, 'wrong-type', [
          {
            title: `Quote as "${text}"`,
            edits: [{ range: document.valueRange(path), newText: JSON.stringify(text) }],
            preferred: true,
          },
        ]);
      }
      if (!value.trim()) return bad(`\`${key}\` is empty.`, 'empty-value');
      return { value };
    case 'boolean':
      if (typeof value !== 'boolean') return bad(`\`${key}\` must be true or false, not ${shownValue(value)}.`);
      return { value };
    case 'enum':
      if (typeof value !== 'string' || !field.values.includes(value)) {
        const s = typeof value === 'string' ? didYouMean(value, field.values) : undefined;
        const fixes: ConfigFix[] = s
          ? [
              {
                title: `Change to \`${s}\``,
                edits: [{ range: document.valueRange(path), newText: s }],
                preferred: true,
              },
            ]
          : [];
        return bad(
          `\`${key}\` must be one of ${field.values.map((v) => `\`${v}\``).join(', ')}${s ? `. Did you mean \`${s}\`?` : '.'}`,
          'invalid-enum',
          fixes,
        );
      }
      return { value };
    case 'number':
    case 'integer': {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        const hint = typeof value === 'string' && !Number.isNaN(Number(value)) ? ` Remove the quotes: ${value}.` : '';
        const kind = field.type === 'integer' ? 'an integer' : 'a number';
        return bad(`\`${key}\` must be ${kind}, not ${shownValue(value)}.${hint}`);
      }
      if (field.type === 'integer' && !Number.isInteger(value))
        return bad(`\`${key}\` must be a whole number, not ${value}.`);
      const tooLow =
        (field.minimum !== undefined && value < field.minimum) ||
        (field.exclusiveMinimum !== undefined && value <= field.exclusiveMinimum);
      const tooHigh =
        (field.maximum !== undefined && value > field.maximum) ||
        (field.exclusiveMaximum !== undefined && value >= field.exclusiveMaximum);
      if (tooLow || tooHigh)
        return bad(`\`${key}\` = ${value} is out of range: it must be ${describeRange(field)}.`, 'out-of-range');
      return { value };
    }
    case 'string[]': {
      const items = Array.isArray(value) ? value : typeof value === 'string' ? [value] : undefined;
      if (!Array.isArray(items) || !items.every((v) => typeof v === 'string')) {
        return bad(`\`${key}\` must be a list of strings, e.g. \`[bias, LayerNorm.weight]\`.`);
      }
      if (field.kind === 'param-pattern') {
        items.forEach((p, i) => checkPattern(p, isSeq(node) ? [...path, i] : path, document, list));
      }
      if (field.values) return choiceList(field.values, items, isSeq(node), path, document, list);
      return { value: items };
    }
    case 'map<number>':
      return numberMap(field, value, path, document, list, bad);
    default:
      return undefined;
  }
}

/** A list of choices (HF's `report_to`): each item must be one of `values`; a wrong one is an error on itself. */
function choiceList(
  values: readonly string[],
  items: string[],
  inSeq: boolean,
  path: string[],
  document: ConfigDocument,
  list: DiagnosticList,
): { value: unknown } | undefined {
  let ok = true;
  items.forEach((item, i) => {
    if (values.includes(item)) return;
    ok = false;
    const at = inSeq ? [...path, i] : path;
    const s = didYouMean(item, values);
    const fixes: ConfigFix[] = s
      ? [{ title: `Change to \`${s}\``, edits: [{ range: document.valueRange(at), newText: s }], preferred: true }]
      : [];
    const allowed = values.map((v) => `\`${v}\``).join(', ');
    const message = `\`${path.join('.')}\`: \`${item}\` is not one of ${allowed}${s ? `. Did you mean \`${s}\`?` : '.'}`;
    list.add(() => diag('error', 'invalid-enum', message, at, document, fixes, 'value'));
  });
  return ok ? { value: items } : undefined;
}

/** A node's value as plain data, aliases resolved; an alias bomb is refused by the `yaml` package's own cap. */
function plainValue(node: Node | null, document: ConfigDocument): { value: unknown } | { problem: string } {
  if (node === null) return { value: null };
  if (isScalar(node)) return { value: node.value };
  try {
    return { value: node.toJS(document.doc, { maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return { problem: `its aliases could not be expanded (${why}). Write the values out instead of \`*\` aliases.` };
  }
}

/** A parameter pattern that cannot match anything (a malformed class such as `[z-a]`) is an error on it alone. */
function checkPattern(
  pattern: string,
  path: KeyPath,
  document: ConfigDocument,
  list: DiagnosticList,
  on: 'key' | 'value' = 'value',
): void {
  const problem = patternProblem(pattern);
  if (!problem) return;
  list.add(() => diag('error', 'invalid-pattern', `Pattern \`${pattern}\`: ${problem}`, path, document, [], on));
}

function numberMap(
  field: NumberMapSpec,
  value: unknown,
  path: string[],
  document: ConfigDocument,
  list: DiagnosticList,
  bad: (message: string) => undefined,
): { value: Record<string, number> } | undefined {
  const key = path.join('.');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return bad(`\`${key}\` must be a mapping of pattern to number, e.g. \`classifier.*: 1e-3\`.`);
  }
  // Keys are user text: `__proto__` is a pattern like any other, not the object's prototype.
  const out = Object.create(null) as Record<string, number>;
  const { exclusiveMinimum: min, maximum: max } = field;
  const bounds = [min !== undefined ? ` > ${min}` : '', max !== undefined ? ` ≤ ${max}` : ''];
  const range = bounds.filter(Boolean).join(' and');
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (field.kind === 'param-pattern') checkPattern(k, [...path, k], document, list, 'key');
    const outside = typeof v === 'number' && ((min !== undefined && v <= min) || (max !== undefined && v > max));
    if (typeof v !== 'number' || !Number.isFinite(v) || outside) {
      const message = `\`${key}.${k}\` must be a number${range}.`;
      list.add(() => diag('error', 'out-of-range', message, [...path, k], document, [], 'value'));
    } else out[k] = v;
  }
  return { value: out };
}

/** What a YAML collection is called in messages: a user wrote `{}` or `[...]` where a scalar belongs. */
function describeValue(value: object): string {
  return Array.isArray(value) ? 'list' : 'mapping';
}

/** A value in a message: JSON, cut short (a user's 5,000-character string need not be repeated in full). */
function shownValue(value: unknown): string {
  return shown(JSON.stringify(value) ?? String(value), 80);
}
