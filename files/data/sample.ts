/**
 * The language server's view of a data file: its columns and a sample of its first rows, read from at most the
 * first megabyte, asynchronously and cancellably. The server asks on every change of a config, so neither a
 * 50 MB cell nor a `train_file` pointing at /dev/zero may cost it more than a bounded read.
 */
import type { ColumnSample } from '../../common/config/fileChecks';
import { FineTuneError } from '../../common/errors';
import { readPrefix } from './boundedRead';
import { checkNotEmpty, formatOf } from './readDataset';
import { parseRecords } from './records';
import type { DatasetFormat, RawRecord, Records } from './records';
import { decodeUtf8 } from './utf8';

/** Bytes read from the start of a file for its header and label sample. */
export const SAMPLE_BYTES = 1024 * 1024;
/** Rows kept in a sample: enough to tell a label column from free text. */
export const SAMPLE_ROWS = 10_000;
/** Distinct values kept per column as examples. */
const EXAMPLES = 5;

export interface SampleOptions {
  signal?: AbortSignal;
  maxBytes?: number;
  maxRows?: number;
  format?: DatasetFormat;
}

export interface DataSample extends Records {
  /** True when `records` are all of the file's records. */
  complete: boolean;
}

/** The first rows of a file that fit in the byte budget (and `maxRows`), with its columns. */
export async function readSample(file: string, o: SampleOptions = {}): Promise<DataSample> {
  const format = o.format ?? formatOf(file);
  const maxBytes = o.maxBytes ?? SAMPLE_BYTES;
  const maxRows = o.maxRows ?? SAMPLE_ROWS;
  const prefix = await readPrefix(file, maxBytes, o.signal);
  const text = decodeUtf8(prefix.bytes, file, prefix.complete);
  const parsed = parseRecords(text, format, file, { partial: !prefix.complete, limit: maxRows + 1 });
  if (prefix.complete) checkNotEmpty(parsed, file);
  else if (parsed.columns.length === 0) throw firstRecordTooLong(file, format, maxBytes);
  const complete = prefix.complete && parsed.records.length <= maxRows;
  return { ...parsed, records: parsed.records.slice(0, maxRows), complete };
}

/** Column names as the header writes them (a repeated name twice), from the first megabyte. */
export async function readHeader(file: string, o: SampleOptions = {}): Promise<string[]> {
  return (await readSample(file, { ...o, maxRows: o.maxRows ?? 100 })).columns;
}

/** Per column, how many distinct non-empty values the sample holds: what the label checks need. */
export function summarizeSample(sample: DataSample): ColumnSample {
  const seen = new Map<string, Set<string>>();
  for (const c of sample.columns) if (!seen.has(c)) seen.set(c, new Set());
  for (const r of sample.records) {
    for (const [column, values] of seen) {
      const v = cellText(r, column);
      if (v !== '') values.add(v);
    }
  }
  const columns = new Map<string, { distinct: number; examples: string[] }>();
  for (const [column, values] of seen)
    columns.set(column, { distinct: values.size, examples: [...values].slice(0, EXAMPLES) });
  return { rows: sample.records.length, complete: sample.complete, columns };
}

/** A cell as the label check sees it (trimmed); lists and objects by their JSON, which only needs to be distinct. */
function cellText(r: RawRecord, column: string): string {
  const v = r.values.get(column);
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === undefined || v === null) return '';
  return Array.isArray(v) ? `[list of ${v.length}]` : '{object}';
}

function firstRecordTooLong(file: string, format: DatasetFormat, maxBytes: number): FineTuneError {
  const what = format === 'csv' || format === 'tsv' ? 'header row' : 'first record';
  return new FineTuneError(
    'data-sample-too-long',
    `the ${what} of ${file} does not end within its first ${maxBytes / 1024} KiB`,
    {
      file,
      line: 1,
      detail: 'The editor reads only the start of a data file, so its columns could not be checked here.',
      fix: 'Nothing, if the file is right: the trainer reads it whole. Otherwise check for an unclosed quote.',
    },
  );
}
