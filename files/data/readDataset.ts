/**
 * Reads a labelled text dataset (CSV, TSV, JSONL, JSON) into rows that remember their source line,
 * so that every later error (unknown label, empty text) can point at the line to fix.
 */
import * as path from 'node:path';
import { FineTuneError } from '../../common/errors';
import type { UserError } from '../../common/errors';
import { shown } from '../../common/shown';
import { didYouMean } from '../../common/textDistance';
import { MAX_DATA_FILE_BYTES, readWhole } from './boundedRead';
import { parseRecords } from './records';
import type { DatasetFormat, RawRecord, Records } from './records';
import { decodeUtf8 } from './utf8';

export type { DatasetFormat } from './records';

export interface DatasetRow {
  text: string;
  textPair?: string;
  /** Labels are kept as text; `buildLabelMap` decides their order and ids. */
  label?: string;
  /** A label cell holding a JSON list (multi-label classification): its labels as text, possibly none. */
  labelList?: string[];
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
  /** The largest file read; default MAX_DATA_FILE_BYTES. */
  maxBytes?: number;
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

export async function readDataset(file: string, options: ReadDatasetOptions): Promise<Dataset> {
  const format = options.format ?? formatOf(file);
  const text = decodeUtf8(await readWhole(file, options.maxBytes ?? MAX_DATA_FILE_BYTES), file);
  const parsed = parseRecords(text, format, file);
  const wanted = wantedColumns(options);
  checkColumns(parsed, wanted, file, format);
  const { rows, skipped, missingLabels } = buildRows(parsed.records, options, wanted, file);
  if (missingLabels.length > 0) throw missingLabelError(missingLabels, options.labelColumn ?? '', file);
  if (rows.length === 0) {
    throw new FineTuneError('data-empty', `${file} has no rows with text`, {
      file,
      fix: `Check that the file has data and that '${options.textColumn}' is the text column.`,
    });
  }
  const warnings = [...duplicateWarnings(parsed, wanted, file), ...skippedWarnings(skipped, options.textColumn, file)];
  return { file, format, columns: parsed.columns, rows, skipped, warnings };
}

function wantedColumns(o: ReadDatasetOptions): string[] {
  return [o.textColumn, o.textPairColumn, o.labelColumn].filter((c): c is string => c !== undefined);
}

/** An empty file is said to be empty, not to lack the text column. */
export function checkNotEmpty(parsed: Records, file: string): void {
  if (parsed.columns.length > 0 || parsed.records.length > 0) return;
  throw new FineTuneError('data-empty', `${file} is empty`, {
    file,
    fix: 'Add the data: a header row and data rows for CSV/TSV, one JSON object per line for JSONL.',
  });
}

function checkColumns(parsed: Records, wanted: readonly string[], file: string, format: DatasetFormat): void {
  checkNotEmpty(parsed, file);
  const line = format === 'csv' || format === 'tsv' ? 1 : parsed.records[0]?.line;
  for (const c of wanted) if (!parsed.columns.includes(c)) throw missingColumn(file, c, parsed.columns, line);
}

interface BuiltRows {
  rows: DatasetRow[];
  skipped: { line: number; reason: string }[];
  missingLabels: number[];
}

function buildRows(
  records: readonly RawRecord[],
  o: ReadDatasetOptions,
  wanted: readonly string[],
  file: string,
): BuiltRows {
  const out: BuiltRows = { rows: [], skipped: [], missingLabels: [] };
  for (const r of records) {
    for (const c of wanted) if (!r.values.has(c)) throw missingColumn(file, c, [...r.values.keys()], r.line);
    const text = asText(r, o.textColumn, file);
    if (text.trim() === '') {
      out.skipped.push({ line: r.line, reason: `empty '${o.textColumn}'` });
      continue;
    }
    const row: DatasetRow = { text, line: r.line };
    if (o.textPairColumn !== undefined) row.textPair = asText(r, o.textPairColumn, file);
    const list = o.labelColumn !== undefined ? r.values.get(o.labelColumn) : undefined;
    if (Array.isArray(list)) {
      row.labelList = list.map((v, i) => listItem(v, i, r, o.labelColumn!, file));
    } else if (o.labelColumn !== undefined) {
      const label = asText(r, o.labelColumn, file).trim();
      if (label === '') {
        out.missingLabels.push(r.line);
        continue;
      }
      row.label = label;
    }
    out.rows.push(row);
  }
  return out;
}

/** One label of a list cell: a non-empty string or a number, as a label written alone would be. */
function listItem(v: unknown, i: number, r: RawRecord, column: string, file: string): string {
  const text = typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '';
  if (text !== '') return text;
  const what = `item ${i + 1} of the list in '${shown(column)}' is ${describeItem(v)}`;
  throw new FineTuneError('data-bad-value', `line ${r.line}: ${what}, not a label`, {
    file,
    line: r.line,
    fix: 'Write the labels of a row as a list of strings (or numbers), e.g. ["sports", "politics"].',
  });
}

/** What a list item is, without serialising it: a hostile cell may nest lists thousands deep. */
function describeItem(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null || v === undefined) return 'empty';
  if (typeof v === 'object') return 'an object';
  return JSON.stringify(v).slice(0, 40);
}

/** A cell as text. Objects and lists are refused: no text column holds one (label lists are read apart). */
export function asText(r: RawRecord, column: string, file: string): string {
  const v = r.values.get(column);
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const what = Array.isArray(v) ? 'a list' : 'an object';
  throw new FineTuneError('data-bad-value', `line ${r.line}: '${shown(column)}' holds ${what}, not text`, {
    file,
    line: r.line,
    fix: `Give '${shown(column)}' a string (or a number) on every line.`,
  });
}

function missingLabelError(lines: readonly number[], labelColumn: string, file: string): FineTuneError {
  const first = lines[0] as number;
  const rest = lines.slice(1, 11).join(', ');
  const more =
    lines.length > 1 ? ` (and ${lines.length - 1} more: lines ${rest}${lines.length > 11 ? ', ...' : ''})` : '';
  return new FineTuneError(
    'data-missing-label',
    `line ${first} has no value in the label column '${shown(labelColumn)}'${more}`,
    {
      file,
      line: first,
      fix: `Give every row a label, or remove the rows without one.`,
    },
  );
}

function skippedWarnings(skipped: BuiltRows['skipped'], textColumn: string, file: string): UserError[] {
  const first = skipped[0];
  if (first === undefined) return [];
  const n = skipped.length;
  return [
    {
      code: 'data-empty-text',
      message: `skipped ${n} row${n === 1 ? '' : 's'} with empty '${shown(textColumn)}' (first on line ${first.line})`,
      file,
      line: first.line,
      fix: 'Remove the empty rows, or check that text_column names the right column.',
    },
  ];
}

/** A header that names a used column twice: the first one is read, and the user hears which. */
export function duplicateWarnings(parsed: Records, wanted: readonly string[], file: string): UserError[] {
  return parsed.duplicates
    .filter((d) => wanted.includes(d.name))
    .map((d) => ({
      code: 'data-duplicate-column',
      message:
        `the header names '${shown(d.name)}' ${d.fields.length} times (columns ${d.fields.join(', ')}); ` +
        `column ${d.fields[0]} is read`,
      file,
      line: 1,
      fix: `Rename the other '${shown(d.name)}' columns so that each column has its own name.`,
    }));
}

export function missingColumn(
  file: string,
  column: string,
  columns: string[],
  line: number | undefined,
): FineTuneError {
  const guess = didYouMean(column, columns);
  const listed =
    columns
      .slice(0, 50)
      .map((c) => `'${shown(c)}'`)
      .join(', ') + (columns.length > 50 ? ', ...' : '');
  return new FineTuneError(
    'data-missing-column',
    `there is no column '${shown(column)}'${guess !== undefined ? `; did you mean '${shown(guess)}'?` : ''}`,
    {
      file,
      ...(line !== undefined ? { line } : {}),
      detail: `Columns in ${path.basename(file)}: ${columns.length > 0 ? listed : '(none)'}.`,
      fix:
        guess !== undefined
          ? `Use '${shown(guess)}' in the config.`
          : 'Set the column name in the config to one of the columns listed.',
    },
  );
}
