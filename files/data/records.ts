/**
 * A data file's text as records: column names in file order and, per record, its values keyed by column in a
 * Map (column names come from the user and may be `__proto__` or `toString`) with the record's source line.
 * Shared by the trainer's whole-file read and the language server's bounded read of a file's first megabyte.
 */
import { FineTuneError } from '../../common/errors';
import { parseDelimited } from './delimited';
import type { DelimitedRecord } from './delimited';
import { jsonRecordsInPrefix, locateJsonRecords } from './jsonLines';
import type { LocatedRecord } from './jsonLines';

export type DatasetFormat = 'csv' | 'tsv' | 'jsonl' | 'json';

export type RawRecord = LocatedRecord;

export interface Records {
  columns: string[];
  records: RawRecord[];
  /** Header names that occur more than once (CSV/TSV); the first column of each name is the one read. */
  duplicates: { name: string; fields: number[] }[];
}

export interface ParseOptions {
  /** The text is a prefix of the file cut anywhere: the record it cuts is left out, and is not an error. */
  partial?: boolean;
  /** Stop after this many data records. */
  limit?: number;
}

export function parseRecords(text: string, format: DatasetFormat, file: string, o: ParseOptions = {}): Records {
  if (format === 'csv' || format === 'tsv') {
    const limit = o.limit === undefined ? undefined : o.limit + 1;
    const parsed = parseDelimited(text, format, file, { partial: o.partial ?? false, ...(limit ? { limit } : {}) });
    return fromDelimited(parsed, file, format);
  }
  let located =
    format === 'jsonl' ? parseJsonl(text, file, o.partial ?? false) : jsonRecords(text, file, o.partial ?? false);
  if (o.limit !== undefined) located = located.slice(0, o.limit);
  return { columns: columnsOf(located), records: located, duplicates: [] };
}

function jsonRecords(text: string, file: string, partial: boolean): LocatedRecord[] {
  return partial ? jsonRecordsInPrefix(text, file) : locateJsonRecords(text, file);
}

/** Every key of every record, in the order first seen (JSON records need not all have the same keys). */
function columnsOf(records: readonly RawRecord[]): string[] {
  const seen = new Set<string>();
  for (const r of records) for (const k of r.values.keys()) seen.add(k);
  return [...seen];
}

function fromDelimited(records: DelimitedRecord[], file: string, dialect: 'csv' | 'tsv'): Records {
  const header = records[0];
  if (header === undefined) return { columns: [], records: [], duplicates: [] };
  const columns = header.fields.map((f) => f.trim());
  const fieldsOf = new Map<string, number[]>();
  columns.forEach((c, i) => fieldsOf.set(c, [...(fieldsOf.get(c) ?? []), i + 1]));
  const duplicates = [...fieldsOf].filter(([, f]) => f.length > 1).map(([name, fields]) => ({ name, fields }));
  const out: RawRecord[] = [];
  for (const r of records.slice(1)) {
    if (r.fields.length !== columns.length) throw fieldCount(r, columns.length, file, dialect);
    const values = new Map<string, unknown>();
    // A repeated header name keeps its first column, as pandas (`a`, `a.1`) and HF datasets do.
    columns.forEach((c, i) => {
      if (!values.has(c)) values.set(c, r.fields[i]);
    });
    out.push({ values, line: r.line });
  }
  return { columns, records: out, duplicates };
}

function fieldCount(r: DelimitedRecord, expected: number, file: string, dialect: 'csv' | 'tsv'): FineTuneError {
  const n = r.fields.length;
  return new FineTuneError(
    'data-field-count',
    `line ${r.line} has ${n} field${n === 1 ? '' : 's'} but the header has ${expected}`,
    {
      file,
      line: r.line,
      fix:
        dialect === 'csv'
          ? 'Put text that contains a comma in double quotes, or check for a missing value.'
          : 'Remove tab characters inside the text, or check for a missing value.',
    },
  );
}

const JSONL_FIX = 'Each line of a .jsonl file must be one JSON object, e.g. {"text": "...", "label": "pos"}.';

function parseJsonl(text: string, file: string, partial: boolean): RawRecord[] {
  const out: RawRecord[] = [];
  // JSON cannot hold a raw CR or LF inside a string, so any of the three line breaks ends a record.
  const lines = text.split(/\r\n|\r|\n/);
  const usable = partial ? lines.length - 1 : lines.length;
  for (let i = 0; i < usable; i++) {
    const l = (lines[i] as string).trim();
    if (l === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(l);
    } catch (e) {
      throw new FineTuneError('data-bad-json', `line ${i + 1} is not valid JSON`, {
        file,
        line: i + 1,
        detail: e instanceof Error ? e.message : String(e),
        fix: JSONL_FIX,
      });
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      throw new FineTuneError('data-bad-json', `line ${i + 1} is not a JSON object`, {
        file,
        line: i + 1,
        fix: JSONL_FIX,
      });
    }
    out.push({ values: new Map(Object.entries(v)), line: i + 1 });
  }
  return out;
}
