/**
 * Reads a labelled text dataset (CSV, TSV, JSONL, JSON) into rows that remember their source line,
 * so that every later error (unknown label, empty text) can point at the line to fix.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FineTuneError, type UserError } from '../../common/errors';
import { parseDelimited, type DelimitedRecord } from './delimited';
import { locateJsonRecords } from './jsonLines';
import { didYouMean } from '../../common/textDistance';

export type DatasetFormat = 'csv' | 'tsv' | 'jsonl' | 'json';

export interface DatasetRow {
  text: string;
  textPair?: string;
  /** Labels are kept as text; `buildLabelMap` decides their order and ids. */
  label?: string;
  /** 1-based source line (for JSON, the line where the object starts). */
  line: number;
}

export interface ReadDatasetOptions {
  textColumn: string;
  textPairColumn?: string;
  /** When given, every row must have a label. */
  labelColumn?: string;
  /** Defaults to the file extension. */
  format?: DatasetFormat;
}

export interface Dataset {
  file: string;
  format: DatasetFormat;
  columns: string[];
  rows: DatasetRow[];
  /** Rows skipped because their text was empty, with a warning per kind of problem (not per row). */
  skipped: { line: number; reason: string }[];
  warnings: UserError[];
}

export function formatOf(file: string): DatasetFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.json') return 'json';
  if (ext === '.csv' || ext === '.txt') return 'csv';
  throw new FineTuneError('data-unknown-format', `cannot tell the format of ${file} from its extension '${ext}'`, {
    file,
    fix: 'Use a .csv, .tsv, .jsonl or .json file.',
  });
}

interface RawRecord {
  values: Record<string, unknown>;
  line: number;
}

export async function readDataset(file: string, options: ReadDatasetOptions): Promise<Dataset> {
  const format = options.format ?? formatOf(file);
  const text = decodeUtf8(await readBytes(file), file);
  const { columns, records } = parseRecords(text, format, file);
  const wanted = [options.textColumn, options.textPairColumn, options.labelColumn].filter((c): c is string => c !== undefined);
  for (const c of wanted) {
    if (!columns.includes(c)) throw missingColumn(file, c, columns, format === 'csv' || format === 'tsv' ? 1 : records[0]?.line);
  }

  const rows: DatasetRow[] = [];
  const skipped: { line: number; reason: string }[] = [];
  const missingLabels: number[] = [];
  for (const r of records) {
    for (const c of wanted) {
      if (!(c in r.values)) throw missingColumn(file, c, Object.keys(r.values), r.line);
    }
    const textValue = asText(r.values[options.textColumn]);
    if (textValue.trim() === '') {
      skipped.push({ line: r.line, reason: `empty '${options.textColumn}'` });
      continue;
    }
    const row: DatasetRow = { text: textValue, line: r.line };
    if (options.textPairColumn !== undefined) row.textPair = asText(r.values[options.textPairColumn]);
    if (options.labelColumn !== undefined) {
      const label = asText(r.values[options.labelColumn]).trim();
      if (label === '') {
        missingLabels.push(r.line);
        continue;
      }
      row.label = label;
    }
    rows.push(row);
  }

  if (missingLabels.length > 0) {
    const first = missingLabels[0] as number;
    const more = missingLabels.length > 1 ? ` (and ${missingLabels.length - 1} more: lines ${missingLabels.slice(1, 11).join(', ')}${missingLabels.length > 11 ? ', ...' : ''})` : '';
    throw new FineTuneError('data-missing-label', `line ${first} has no value in the label column '${options.labelColumn}'${more}`, {
      file,
      line: first,
      fix: `Give every row a label, or remove the rows without one.`,
    });
  }
  const warnings: UserError[] = [];
  if (skipped.length > 0) {
    const first = skipped[0] as { line: number };
    warnings.push({
      code: 'data-empty-text',
      message: `skipped ${skipped.length} row${skipped.length === 1 ? '' : 's'} with empty '${options.textColumn}' (first on line ${first.line})`,
      file,
      line: first.line,
      fix: 'Remove the empty rows, or check that text_column names the right column.',
    });
  }
  if (rows.length === 0) {
    throw new FineTuneError('data-empty', `${file} has no rows with text`, {
      file,
      fix: `Check that the file has data and that '${options.textColumn}' is the text column.`,
    });
  }
  return { file, format, columns, rows, skipped, warnings };
}

/** Column names only, read cheaply (the language server calls this on every keystroke in the config). */
export async function readHeader(file: string, format: DatasetFormat = formatOf(file)): Promise<string[]> {
  if (format === 'json') {
    const { columns } = parseRecords(decodeUtf8(await readBytes(file), file), 'json', file);
    return columns;
  }
  // The first 64 KiB hold the header of any sane file; a quoted header cell spanning more is not worth handling.
  const handle = await fs.open(file, 'r').catch((e: unknown) => {
    throw notFound(file, e);
  });
  try {
    const buf = new Uint8Array(65536);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    let text = new TextDecoder('utf-8').decode(buf.subarray(0, bytesRead));
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (format === 'jsonl') {
      const firstLine = text.split('\n').find((l) => l.trim() !== '');
      if (firstLine === undefined) return [];
      try {
        const v: unknown = JSON.parse(firstLine);
        return typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.keys(v) : [];
      } catch {
        return [];
      }
    }
    const first = parseDelimited(text, format, file, 1)[0];
    return first ? first.fields.map((f) => f.trim()) : [];
  } finally {
    await handle.close();
  }
}

function parseRecords(text: string, format: DatasetFormat, file: string): { columns: string[]; records: RawRecord[] } {
  if (format === 'csv' || format === 'tsv') return fromDelimited(parseDelimited(text, format, file), file, format);
  const located = format === 'jsonl' ? parseJsonl(text, file) : locateJsonRecords(text, file);
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const r of located) {
    for (const k of Object.keys(r.values)) {
      if (!seen.has(k)) {
        seen.add(k);
        columns.push(k);
      }
    }
  }
  return { columns, records: located };
}

function fromDelimited(records: DelimitedRecord[], file: string, dialect: 'csv' | 'tsv'): { columns: string[]; records: RawRecord[] } {
  const header = records[0];
  if (header === undefined) throw new FineTuneError('data-empty', `${file} is empty`, { file, fix: 'Add a header row and data rows.' });
  const columns = header.fields.map((f) => f.trim());
  const out: RawRecord[] = [];
  for (const r of records.slice(1)) {
    if (r.fields.length !== columns.length) {
      const sep = dialect === 'csv' ? 'comma' : 'tab';
      throw new FineTuneError(
        'data-field-count',
        `line ${r.line} has ${r.fields.length} field${r.fields.length === 1 ? '' : 's'} but the header has ${columns.length}`,
        {
          file,
          line: r.line,
          fix:
            dialect === 'csv'
              ? `Put text that contains a ${sep} in double quotes, or check for a missing value.`
              : 'Remove tab characters inside the text, or check for a missing value.',
        },
      );
    }
    const values: Record<string, unknown> = {};
    columns.forEach((c, i) => (values[c] = r.fields[i]));
    out.push({ values, line: r.line });
  }
  return { columns, records: out };
}

function parseJsonl(text: string, file: string): RawRecord[] {
  const out: RawRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
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
        fix: 'Each line of a .jsonl file must be one JSON object, e.g. {"text": "...", "label": "pos"}.',
      });
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      throw new FineTuneError('data-bad-json', `line ${i + 1} is not a JSON object`, {
        file,
        line: i + 1,
        fix: 'Each line of a .jsonl file must be one JSON object, e.g. {"text": "...", "label": "pos"}.',
      });
    }
    out.push({ values: v as Record<string, unknown>, line: i + 1 });
  }
  return out;
}

function asText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Decodes strictly, so that a Latin-1 or UTF-16 file is reported instead of read as mojibake. */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch {
    const { line, column } = firstInvalidUtf8(bytes);
    throw new FineTuneError('data-not-utf8', `line ${line} has bytes that are not valid UTF-8`, {
      file,
      line,
      column,
      fix: 'Save the file as UTF-8 (in VS Code: the encoding in the status bar, then "Save with Encoding" > UTF-8).',
    });
  }
}

function firstInvalidUtf8(bytes: Uint8Array): { line: number; column: number } {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let line = 1;
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      try {
        decoder.decode(bytes.subarray(start, i));
      } catch {
        // Find the column: the longest valid prefix of the line.
        let col = 0;
        for (let j = start; j < i; j++) {
          try {
            decoder.decode(bytes.subarray(start, j + 1));
            col = j - start + 1;
          } catch {
            if (j - start + 1 - col >= 4) break;
          }
        }
        return { line, column: col + 1 };
      }
      line++;
      start = i + 1;
    }
  }
  return { line: 1, column: 1 };
}

async function readBytes(file: string): Promise<Uint8Array> {
  try {
    return await fs.readFile(file);
  } catch (e) {
    throw notFound(file, e);
  }
}

function notFound(file: string, e: unknown): FineTuneError {
  const code = (e as NodeJS.ErrnoException).code;
  return new FineTuneError(code === 'ENOENT' ? 'data-not-found' : 'data-unreadable', code === 'ENOENT' ? `${file} does not exist` : `cannot read ${file}`, {
    file,
    detail: e instanceof Error ? e.message : String(e),
    ...(code === 'ENOENT' ? { fix: 'Check the path in the config; relative paths are relative to the config file.' } : {}),
  });
}

function missingColumn(file: string, column: string, columns: string[], line: number | undefined): FineTuneError {
  const guess = didYouMean(column, columns);
  return new FineTuneError(
    'data-missing-column',
    `there is no column '${column}'${guess !== undefined ? `; did you mean '${guess}'?` : ''}`,
    {
      file,
      ...(line !== undefined ? { line } : {}),
      detail: `Columns in ${path.basename(file)}: ${columns.length > 0 ? columns.map((c) => `'${c}'`).join(', ') : '(none)'}.`,
      fix: guess !== undefined ? `Use '${guess}' in the config.` : 'Set the column name in the config to one of the columns listed.',
    },
  );
}

