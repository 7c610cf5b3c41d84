/**
 * Config keys set on the command line, Hugging Face style: `--learning_rate 3e-5`, `--training.learning_rate 3e-5`,
 * `--model.name_or_path x`. A bare key is looked up in every section of the schema and must be unambiguous. The
 * values are written into the config's text (each as one YAML flow value), so that the override is validated by
 * the same schema, rules and file checks as the file itself; a diagnostic about an overridden key names its flag.
 */
import { parse as parseYaml } from 'yaml';
import type { ConfigDiagnostic, TextEdit } from './diagnostic';
import { configSchema } from './schema';
import type { FieldSpec, SectionSpec } from './spec';
import { ConfigDocument } from './yamlDoc';

/** One `--key value` from the command line. */
export interface ConfigOverride {
  /** The flag as the user typed it, without the value: `--learning_rate`. */
  flag: string;
  /** The schema key path it sets: ['training', 'learning_rate']. */
  path: readonly string[];
  /** The value as typed. */
  raw: string;
}

/**
 * Bare names that are command flags rather than config keys: `--backend` is every command's, and
 * `--resume_from_checkpoint` is resolved against the working directory, as in `transformers`' example scripts.
 * Their dotted forms (`--training.resume_from_checkpoint`) remain overrides.
 */
const COMMAND_FLAG_NAMES = new Set(['backend', 'resume_from_checkpoint']);

interface Target {
  path: readonly string[];
  field: FieldSpec;
}

/** Every overridable key: its dotted path, and its bare name where one section has it; null marks an ambiguity. */
function buildTargets(): Map<string, Target | null> {
  const out = new Map<string, Target | null>();
  const walk = (spec: SectionSpec<unknown>, prefix: string[]) => {
    for (const [key, field] of Object.entries(spec.fields) as [string, FieldSpec][]) {
      const p = [...prefix, key];
      if (field.type === 'section') {
        walk(field as SectionSpec<unknown>, p);
        continue;
      }
      out.set(p.join('.'), { path: p, field });
      if (p.length > 1 && !COMMAND_FLAG_NAMES.has(key)) out.set(key, out.has(key) ? null : { path: p, field });
    }
  };
  walk(configSchema as SectionSpec<unknown>, []);
  for (const name of COMMAND_FLAG_NAMES) if (out.get(name)?.path.length === 1) out.delete(name);
  return out;
}

const TARGETS = buildTargets();

/** The names that may follow `--` as overrides (dotted paths and unambiguous bare names). */
export function overrideNames(): string[] {
  return [...TARGETS].filter(([, t]) => t !== null).map(([name]) => name);
}

/** The key path an override name sets; undefined for a name that is no key, a list of paths when ambiguous. */
export function overrideTarget(name: string): { path: readonly string[] } | { ambiguous: string[] } | undefined {
  const t = TARGETS.get(name);
  if (t) return { path: t.path };
  if (t === null) {
    const paths = [...TARGETS.values()].filter((x) => x && x.path.at(-1) === name).map((x) => x!.path.join('.'));
    return { ambiguous: paths };
  }
  return undefined;
}

/**
 * The value of an override as YAML flow text. The raw text is read as YAML (so `3e-5`, `true`, `null`, `[a, b]`
 * mean what they mean in the file); for a string key a value that YAML reads as something else (`--run_name 2024`)
 * stays the text that was typed, since a shell has no quotes left to add.
 */
export function overrideValueText(o: ConfigOverride): string {
  const field = TARGETS.get(o.path.join('.'))?.field;
  let value: unknown;
  try {
    value = parseYaml(o.raw);
  } catch {
    value = o.raw;
  }
  const wantsString = field?.type === 'string' || field?.type === 'enum';
  const explicitNull = /^(null|Null|NULL|~)$/.test(o.raw.trim());
  if (wantsString && typeof value !== 'string' && !explicitNull) value = o.raw;
  if (typeof value === 'number' && !Number.isFinite(value))
    return Number.isNaN(value) ? '.nan' : value > 0 ? '.inf' : '-.inf';
  // JSON is YAML 1.2 flow syntax: one line, every character escaped, whatever was typed.
  return JSON.stringify(value) ?? 'null';
}

/** An edit of the config text, kept to map positions of the edited text back to the file. */
interface AppliedEdit {
  /** Where the edit starts in the file and in the edited text, and how long it is in each. */
  start: number;
  oldLength: number;
  newStart: number;
  newLength: number;
  override: ConfigOverride;
}

export interface OverriddenText {
  text: string;
  /** Maps a diagnostic of the edited text back to the file, or to the flag that set the key it is about. */
  place(d: ConfigDiagnostic): { override: ConfigOverride } | { offset: number };
}

/**
 * The config text with the overrides written in: a key present in the file gets its value replaced (the other
 * lines keep their positions), an absent one is inserted into its section. Later overrides of one key win.
 */
export function applyOverrides(text: string, overrides: readonly ConfigOverride[]): OverriddenText {
  const last = new Map<string, ConfigOverride>();
  for (const o of overrides) last.set(o.path.join('.'), o);
  let current = text;
  const edits: AppliedEdit[] = [];
  for (const o of last.values()) {
    const doc = new ConfigDocument(current);
    const valueText = overrideValueText(o);
    const edit = editFor(doc, o.path, valueText);
    const newText = edit.newText;
    current = current.slice(0, edit.range.start) + newText + current.slice(edit.range.end);
    edits.push({
      start: toOriginal(edits, edit.range.start),
      oldLength: edit.range.end - edit.range.start,
      newStart: edit.range.start,
      newLength: newText.length,
      override: o,
    });
    shiftLater(edits, edit.range.start, newText.length - (edit.range.end - edit.range.start));
  }
  return {
    text: current,
    place(d) {
      for (const e of edits) {
        const within = d.range.start >= e.newStart && d.range.start < e.newStart + Math.max(1, e.newLength);
        if (within || startsWith(d.path, e.override.path)) return { override: e.override };
      }
      return { offset: toOriginal(edits, d.range.start) };
    },
  };
}

function editFor(doc: ConfigDocument, keyPath: readonly string[], valueText: string): TextEdit {
  const pair = doc.pair(keyPath);
  if (pair) {
    const node = doc.node(keyPath);
    if (node?.range) return { range: { start: node.range[0], end: node.range[1] }, newText: valueText };
    // `key:` with no value: write it after the colon.
    const keyEnd = doc.keyRange(keyPath).end;
    const colon = doc.text.indexOf(':', keyEnd);
    const at = colon >= 0 ? colon + 1 : keyEnd;
    return { range: { start: at, end: at }, newText: ` ${valueText}` };
  }
  return doc.insertKeyEdit(keyPath.slice(0, -1), keyPath.at(-1)!, valueText);
}

/** Earlier edits placed after an edit at `at` (in the edited text) move by `delta`. */
function shiftLater(edits: AppliedEdit[], at: number, delta: number): void {
  for (const e of edits.slice(0, -1)) if (e.newStart > at) e.newStart += delta;
}

/** An offset of the edited text as an offset of the file. */
function toOriginal(edits: readonly AppliedEdit[], offset: number): number {
  let shift = 0;
  for (const e of edits) {
    if (e.newStart + e.newLength <= offset) shift += e.newLength - e.oldLength;
    else if (e.newStart <= offset) return e.start;
  }
  return Math.max(0, offset - shift);
}

function startsWith(path: readonly (string | number)[], prefix: readonly string[]): boolean {
  return prefix.length > 0 && prefix.every((k, i) => path[i] === k);
}

/** `--learning_rate 3e-5 (training.learning_rate)`: how an override is named in logs and the resolved config. */
export function describeOverride(o: ConfigOverride): string {
  return `${o.flag} ${o.raw} (${o.path.join('.')})`;
}
