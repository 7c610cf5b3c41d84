/**
 * Checks a `*.finetune.yaml` text against the schema (structure, types, ranges, unknown keys, cross-field
 * rules) and resolves it with defaults. Pure: no file system. Checks that need files (data columns, model
 * folders, freeze patterns against real parameter names) live in fileChecks.ts.
 */
import { isMap, isScalar, isSeq } from 'yaml';
import type { Node, Pair, YAMLMap } from 'yaml';
import { didYouMean } from '../textDistance';
import type { ConfigDiagnostic, ConfigFix } from './diagnostic';
import { diag } from './makeDiagnostic';
import type { FineTuneConfig } from './schema';
import { applyDefaults } from './defaults';
import { configSchema } from './schema';
import type { FieldSpec, SectionSpec } from './spec';
import { describeRange, describeType } from './spec';
import { ConfigDocument } from './yamlDoc';
import { crossFieldRules } from './rules';

export interface ValidationResult {
  document: ConfigDocument;
  /** The config with defaults applied; present even with errors (best effort), so tools can still help. */
  config: FineTuneConfig;
  diagnostics: ConfigDiagnostic[];
}

export function validateConfigText(text: string): ValidationResult {
  const document = new ConfigDocument(text);
  const diagnostics: ConfigDiagnostic[] = [];
  for (const e of [...document.doc.errors, ...document.doc.warnings]) {
    diagnostics.push({
      severity: e.name === 'YAMLWarning' ? 'warning' : 'error',
      code: e.code === 'DUPLICATE_KEY' ? 'duplicate-key' : 'yaml-syntax',
      message: e.message.split('\n')[0] ?? e.message,
      path: [],
      range: { start: e.pos[0], end: Math.max(e.pos[1], e.pos[0] + 1) },
    });
  }
  const root = document.doc.contents;
  const raw: Record<string, unknown> = {};
  if (root === null || root === undefined) {
    if (!document.doc.errors.length) {
      diagnostics.push(diag('error', 'empty-config', 'The config is empty. Start with `mode: fine-tune` or `mode: from-scratch`.', [], document, []));
    }
  } else if (!isMap(root)) {
    if (!document.doc.errors.length) {
      diagnostics.push(diag('error', 'not-a-mapping', 'A config is a YAML mapping of keys to values, e.g. `mode: fine-tune`.', [], document, []));
    }
  } else {
    walkSection(configSchema, root as YAMLMap<Node, Node | null>, [], raw, document, diagnostics);
  }
  const config = applyDefaults(configSchema, raw) as unknown as FineTuneConfig;
  // Cross-field rules only make sense once each field is individually valid; errors on a field already
  // explain the problem, so rules skip fields that carry one.
  const broken = new Set(diagnostics.filter((d) => d.severity === 'error').map((d) => d.path.join('.')));
  for (const d of crossFieldRules(config, raw, document)) {
    if (!d.path.length || !broken.has(d.path.join('.'))) diagnostics.push(d);
  }
  return { document, config, diagnostics };
}

/** Every key path of the schema, for "this key belongs in another section" hints. */
function keyHomes(spec: SectionSpec<unknown>, prefix: string[] = [], out = new Map<string, string[][]>()): Map<string, string[][]> {
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
  diagnostics: ConfigDiagnostic[],
): void {
  const fields = spec.fields as Record<string, FieldSpec>;
  for (const pair of map.items as Pair<Node, Node | null>[]) {
    // Keys the parser could not read (syntax errors already reported) are skipped rather than called unknown.
    if (!isScalar(pair.key) || pair.key.value === null || pair.key.value === '') continue;
    const key = String(pair.key.value);
    const keyPath = [...path, key];
    const field = Object.prototype.hasOwnProperty.call(fields, key) ? fields[key] : undefined;
    if (!field) {
      diagnostics.push(unknownKey(key, keyPath, Object.keys(fields), document));
      continue;
    }
    const value = pair.value;
    if (field.type === 'section') {
      if (value === null || (isScalar(value) && value.value === null)) continue;
      if (!isMap(value)) {
        diagnostics.push(diag('error', 'wrong-type', `\`${key}\` is a section: indent its keys below it.`, keyPath, document, []));
        continue;
      }
      const sub: Record<string, unknown> = {};
      out[key] = sub;
      walkSection(field as SectionSpec<unknown>, value as YAMLMap<Node, Node | null>, keyPath, sub, document, diagnostics);
      continue;
    }
    const checked = checkValue(field, value, keyPath, document, diagnostics);
    if (checked !== undefined) out[key] = checked.value;
  }
  if (!document.doc.errors.length) missingRequired(spec, map, path, document, diagnostics);
}

/**
 * Required keys absent from `map` (undefined: the section itself is absent or empty), including those of
 * absent sections: a config without `data:` lacks `data.train_file`.
 */
function missingRequired(spec: SectionSpec<unknown>, map: YAMLMap<Node, Node | null> | undefined, path: string[], document: ConfigDocument, diagnostics: ConfigDiagnostic[]): void {
  for (const [k, f] of Object.entries(spec.fields as Record<string, FieldSpec>)) {
    const pair = map?.items.find((p) => isScalar(p.key) && p.key.value === k);
    const empty = !pair || pair.value === null || (isScalar(pair.value) && pair.value.value === null);
    if (f.type === 'section') {
      if (empty) missingRequired(f as SectionSpec<unknown>, undefined, [...path, k], document, diagnostics);
    } else if (f.required && !pair) {
      const example = f.type === 'enum' ? f.values[0]! : f.kind === 'data-file' ? 'train.csv' : '';
      diagnostics.push(
        diag('error', 'missing-required', `Missing required key \`${[...path, k].join('.')}\`: ${firstSentence(f.description)}`, path, document, [
          { title: `Add \`${[...path, k].join('.')}\``, edits: [document.insertKeyEdit(path, k, String(example))], preferred: true },
        ]),
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
  if (elsewhere?.length) {
    const where = elsewhere.map((h) => (h.length ? `\`${h.join('.')}\`` : 'the top level')).join(' or ');
    message += ` It belongs under ${where}.`;
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
  diagnostics: ConfigDiagnostic[],
): { value: unknown } | undefined {
  const key = path.join('.');
  const bad = (message: string, code = 'wrong-type', fixes: ConfigFix[] = []) => {
    diagnostics.push(diag('error', code, message, path, document, fixes, 'value'));
    return undefined;
  };
  const value = node === null ? null : isScalar(node) ? node.value : node.toJSON();
  if (value === null) {
    if (('nullable' in field && field.nullable) || field.type === 'string[]') return { value: field.type === 'string[]' ? [] : null };
    return bad(`\`${key}\` has no value; expected ${describeType(field)}.`);
  }
  switch (field.type) {
    case 'string':
      if (typeof value !== 'string') {
        const text = String(value);
        return bad(`\`${key}\` must be a string; put it in quotes: "${text}".`, 'wrong-type', [
          { title: `Quote as "${text}"`, edits: [{ range: document.valueRange(path), newText: JSON.stringify(text) }], preferred: true },
        ]);
      }
      if (!value.trim()) return bad(`\`${key}\` is empty.`, 'empty-value');
      return { value };
    case 'boolean':
      if (typeof value !== 'boolean') return bad(`\`${key}\` must be true or false, not ${JSON.stringify(value)}.`);
      return { value };
    case 'enum':
      if (typeof value !== 'string' || !field.values.includes(value)) {
        const s = typeof value === 'string' ? didYouMean(value, field.values) : undefined;
        const fixes: ConfigFix[] = s ? [{ title: `Change to \`${s}\``, edits: [{ range: document.valueRange(path), newText: s }], preferred: true }] : [];
        return bad(`\`${key}\` must be one of ${field.values.map((v) => `\`${v}\``).join(', ')}${s ? `. Did you mean \`${s}\`?` : '.'}`, 'invalid-enum', fixes);
      }
      return { value };
    case 'number':
    case 'integer': {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        const hint = typeof value === 'string' && !Number.isNaN(Number(value)) ? ` Remove the quotes: ${value}.` : '';
        return bad(`\`${key}\` must be a${field.type === 'integer' ? 'n integer' : ' number'}, not ${JSON.stringify(value)}.${hint}`);
      }
      if (field.type === 'integer' && !Number.isInteger(value)) return bad(`\`${key}\` must be a whole number, not ${value}.`);
      const tooLow = (field.minimum !== undefined && value < field.minimum) || (field.exclusiveMinimum !== undefined && value <= field.exclusiveMinimum);
      const tooHigh = (field.maximum !== undefined && value > field.maximum) || (field.exclusiveMaximum !== undefined && value >= field.exclusiveMaximum);
      if (tooLow || tooHigh) return bad(`\`${key}\` = ${value} is out of range: it must be ${describeRange(field)}.`, 'out-of-range');
      return { value };
    }
    case 'string[]': {
      const list = isSeq(node) ? value : typeof value === 'string' ? [value] : undefined;
      if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) return bad(`\`${key}\` must be a list of strings, e.g. \`[bias, LayerNorm.weight]\`.`);
      return { value: list };
    }
    case 'map<number>': {
      if (!isMap(node)) return bad(`\`${key}\` must be a mapping of pattern to number, e.g. \`classifier.*: 1e-3\`.`);
      const out: Record<string, number> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const min = field.exclusiveMinimum;
        if (typeof v !== 'number' || !Number.isFinite(v) || (min !== undefined && v <= min)) {
          diagnostics.push(diag('error', 'out-of-range', `\`${key}.${k}\` must be a number${min !== undefined ? ` > ${min}` : ''}.`, [...path, k], document, [], 'value'));
        } else out[k] = v;
      }
      return { value: out };
    }
    default:
      return undefined;
  }
}
