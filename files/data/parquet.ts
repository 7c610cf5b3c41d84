/**
 * Parquet files as the Hugging Face Hub serves data sets (its `refs/convert/parquet` conversion, or a data set
 * pushed as Parquet), read with hyparquet (pure JS). `datasets` writes each file's feature types into the
 * key-value metadata `huggingface` (`{"info": {"features": {"label": {"_type": "ClassLabel", "names": [...]}}}}`),
 * which is where class names come from. Every read is bounded: the footer (the language server reads only it),
 * the file's size and its number of rows.
 */
import { parquetMetadata, parquetRead, parquetSchema } from 'hyparquet';
import type { FileMetaData } from 'hyparquet';
import { FineTuneError } from '../../common/errors';
import { missingColumn } from './readDataset';
import { MAX_DATA_FILE_BYTES, readTail, readWhole } from './boundedRead';

/** A footer larger than this is not a data set's (GLUE's is a few KB); refused before it is parsed. */
export const MAX_PARQUET_FOOTER_BYTES = 16 * 1024 * 1024;
/** Rows one split may have; more would not fit the trainer's memory as encoded examples anyway. */
export const MAX_PARQUET_ROWS = 2_000_000;
const MAX_FEATURES_JSON_BYTES = 1024 * 1024;

/** A column's type as HF `datasets` declares it (`features`), as far as a text classifier cares. */
export type HfFeature =
  { type: 'ClassLabel'; names: string[] } | { type: 'Value'; dtype: string } | { type: 'other'; name: string };

export interface ParquetInfo {
  file: string;
  /** Top-level column names in file order. */
  columns: string[];
  numRows: number;
  /** Keyed by column name (from a remote file: a Map, never an object). Empty when the file has no HF metadata. */
  features: Map<string, HfFeature>;
}

export interface ParquetRows extends ParquetInfo {
  /** Each row's values in the order of the columns asked for: strings, numbers, booleans or null. */
  rows: unknown[][];
}

/** Column names, row count and features from the footer alone. */
export async function readParquetInfo(file: string): Promise<ParquetInfo> {
  const { tail, size } = await readTail(file, 8);
  const footer = footerLength(tail, size, file);
  const { tail: end } = await readTail(file, footer + 8);
  return infoOf(
    parse(() => parquetMetadata(toArrayBuffer(end)), file),
    file,
  );
}

/** The rows of `columns` (every one must exist), refusing a file over `maxBytes` or `maxRows`. */
export async function readParquetRows(
  file: string,
  columns: readonly string[],
  o: { maxBytes?: number; maxRows?: number } = {},
): Promise<ParquetRows> {
  const buffer = toArrayBuffer(await readWhole(file, o.maxBytes ?? MAX_DATA_FILE_BYTES));
  const metadata = parse(() => parquetMetadata(buffer), file);
  const info = infoOf(metadata, file);
  const maxRows = o.maxRows ?? MAX_PARQUET_ROWS;
  if (info.numRows > maxRows) {
    throw new FineTuneError('data-too-large', `${file} has ${info.numRows} rows; at most ${maxRows} are read`, {
      file,
      fix: 'Train on a smaller split, or export a sample of the data set to a file and set train_file to it.',
    });
  }
  for (const c of columns) if (!info.columns.includes(c)) throw missingColumn(file, c, info.columns, undefined);
  let rows: unknown[][] = [];
  await parseAsync(
    () =>
      parquetRead({
        file: buffer,
        metadata,
        columns: [...columns],
        rowFormat: 'array',
        onComplete: (r) => (rows = r),
      }),
    file,
  );
  return { ...info, rows: rows.map((r) => r.map(plainValue)) };
}

function footerLength(tail: Uint8Array, size: number, file: string): number {
  const magic = new TextDecoder().decode(tail.subarray(4));
  if (tail.length < 8 || magic !== 'PAR1') throw notParquet(file, 'it does not end with the Parquet magic PAR1');
  const length = new DataView(tail.buffer, tail.byteOffset, 8).getUint32(0, true);
  if (length + 8 > size) throw notParquet(file, 'its footer is longer than the file');
  if (length > MAX_PARQUET_FOOTER_BYTES) throw notParquet(file, `its footer is ${length} bytes`);
  return length;
}

function infoOf(metadata: FileMetaData, file: string): ParquetInfo {
  const columns = parquetSchema(metadata).children.map((c) => c.element.name);
  const hf = metadata.key_value_metadata?.find((kv) => kv.key === 'huggingface')?.value;
  return { file, columns, numRows: Number(metadata.num_rows), features: featuresOf(hf) };
}

/** `info.features` of the `huggingface` metadata; anything unexpected there means "no features", not an error. */
export function featuresOf(json: string | undefined): Map<string, HfFeature> {
  const out = new Map<string, HfFeature>();
  if (json === undefined || json.length > MAX_FEATURES_JSON_BYTES) return out;
  let features: unknown;
  try {
    features = (JSON.parse(json) as { info?: { features?: unknown } } | null)?.info?.features;
  } catch {
    return out;
  }
  if (typeof features !== 'object' || features === null || Array.isArray(features)) return out;
  for (const [column, f] of Object.entries(features)) {
    const feature = featureOf(f);
    if (feature !== undefined) out.set(column, feature);
  }
  return out;
}

function featureOf(f: unknown): HfFeature | undefined {
  if (typeof f !== 'object' || f === null || Array.isArray(f)) return undefined;
  const type = Object.hasOwn(f, '_type') ? (f as { _type: unknown })._type : undefined;
  if (type === 'ClassLabel') {
    const names = Object.hasOwn(f, 'names') ? (f as { names: unknown }).names : undefined;
    if (Array.isArray(names) && names.every((n) => typeof n === 'string')) return { type, names: names as string[] };
    return undefined;
  }
  if (type === 'Value') {
    const dtype = Object.hasOwn(f, 'dtype') ? (f as { dtype: unknown }).dtype : undefined;
    return typeof dtype === 'string' ? { type, dtype } : undefined;
  }
  return { type: 'other', name: typeof type === 'string' ? type.slice(0, 40) : 'unknown' };
}

/** int64 columns arrive as bigint; labels and ids fit a number. Bytes and nested values are not text. */
function plainValue(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v === undefined) return null;
  return v;
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function parse<T>(read: () => T, file: string): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof FineTuneError) throw e;
    throw notParquet(file, e instanceof Error ? e.message : String(e));
  }
}

async function parseAsync(read: () => Promise<void>, file: string): Promise<void> {
  try {
    await read();
  } catch (e) {
    throw notParquet(file, e instanceof Error ? e.message : String(e));
  }
}

function notParquet(file: string, why: string): FineTuneError {
  return new FineTuneError('data-bad-parquet', `${file} cannot be read as Parquet: ${why.slice(0, 200)}`, {
    file,
    fix: 'Delete the file from the Hub cache and run again to download it afresh; if it comes back the same, the data set cannot be read here.',
  });
}
