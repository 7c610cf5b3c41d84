/**
 * The vocabulary of spec entries. A spec entry describes one key of `*.finetune.yaml`: its type, default,
 * range and documentation. The config schema (schema.ts) is written with these, once, and everything else
 * (trainer validation, language server completion/hover/diagnostics, JSON Schema) is derived from it.
 */

export type ValueKind =
  /** A data file in the workspace (csv, tsv, jsonl, json). */
  | 'data-file'
  /** A model folder or Hub id. */
  | 'model'
  /** A tokenizer folder or Hub id. */
  | 'tokenizer'
  /** A checkpoint folder. */
  | 'checkpoint'
  /** A column of the training data file. */
  | 'column'
  /** A data set on the Hub (`org/name`). */
  | 'dataset'
  /** A configuration (subset) of the Hub data set. */
  | 'dataset-config'
  /** A branch, tag, commit or `refs/pr/N` of the Hub model in `model.name_or_path`. */
  | 'model-revision'
  /** A glob over parameter names. */
  | 'param-pattern'
  | 'folder';

interface Base<V> {
  description: string;
  /** Applied when the key is absent. Absent `default` means "unset" (the engine decides, documented). */
  default?: V;
  /** Shown in hover as the Hugging Face argument this key follows. */
  hf?: string;
  kind?: ValueKind;
  required?: boolean;
  /** With `required`: the sibling key that may stand in for this one (`train_file` or `dataset_name`). */
  requiredUnless?: string;
  /** Examples for completion. */
  examples?: readonly V[];
  deprecated?: string;
}

export interface NumberSpec extends Base<number> {
  type: 'number' | 'integer';
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  /** Values above this get a warning, e.g. suspiciously large learning rates. */
  warnAbove?: { value: number; message: string };
  /** Also accept `null` (e.g. save_total_limit: null for "no limit"). */
  nullable?: boolean;
}
export interface StringSpec extends Base<string> {
  type: 'string';
  nullable?: boolean;
}
export interface BooleanSpec extends Base<boolean> {
  type: 'boolean';
}
export interface EnumSpec<E extends string = string> extends Base<E> {
  type: 'enum';
  values: readonly E[];
  /** Documentation of each value, for completion. */
  valueDocs?: Partial<Record<E, string>>;
}
export interface StringListSpec extends Base<string[]> {
  type: 'string[]';
  /** The only values an item may take (a list of choices, like HF's `report_to`); any string when absent. */
  values?: readonly string[];
  /** Documentation of each value, for completion. */
  valueDocs?: Readonly<Record<string, string>>;
}
export interface NumberMapSpec extends Base<Record<string, number>> {
  type: 'map<number>';
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
}
export interface SectionSpec<T = unknown> extends Base<never> {
  type: 'section';
  fields: FieldsOf<T>;
}

export type FieldSpec =
  NumberSpec | StringSpec | BooleanSpec | EnumSpec | StringListSpec | NumberMapSpec | SectionSpec<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Maps each key of a config type to the spec for it, so that every key is documented and defaults type-check. */
export type FieldsOf<T> = {
  [K in keyof T]-?: SpecFor<NonNullable<T[K]>>;
};

type SpecFor<V> = [V] extends [boolean]
  ? BooleanSpec
  : [V] extends [number]
    ? NumberSpec
    : [V] extends [string[]]
      ? StringListSpec
      : [V] extends [Record<string, number>]
        ? NumberMapSpec
        : [V] extends [string]
          ? string extends V
            ? StringSpec
            : EnumSpec<V & string>
          : SectionSpec<V>;

export function isSection(s: FieldSpec): s is SectionSpec<unknown> {
  return s.type === 'section';
}

/** Human-readable type, for hover and messages. */
export function describeType(s: FieldSpec): string {
  switch (s.type) {
    case 'enum':
      return s.values.map((v) => `"${v}"`).join(' | ');
    case 'map<number>':
      return 'mapping of pattern → number';
    case 'string[]':
      return s.values ? `one of / list of ${s.values.map((v) => `"${v}"`).join(' | ')}` : 'list of strings';
    case 'section':
      return 'mapping';
    default:
      return s.type + ('nullable' in s && s.nullable ? ' | null' : '');
  }
}

/** "≥ 0", "in (0, 1]", ... or undefined when unbounded. */
export function describeRange(s: FieldSpec): string | undefined {
  if (s.type !== 'number' && s.type !== 'integer') return undefined;
  const lo =
    s.exclusiveMinimum !== undefined ? `(${s.exclusiveMinimum}` : s.minimum !== undefined ? `[${s.minimum}` : undefined;
  const hi =
    s.exclusiveMaximum !== undefined ? `${s.exclusiveMaximum})` : s.maximum !== undefined ? `${s.maximum}]` : undefined;
  if (lo && hi) return `in ${lo}, ${hi}`;
  if (lo) return s.exclusiveMinimum !== undefined ? `> ${s.exclusiveMinimum}` : `≥ ${s.minimum}`;
  if (hi) return s.exclusiveMaximum !== undefined ? `< ${s.exclusiveMaximum}` : `≤ ${s.maximum}`;
  return undefined;
}
