/**
 * A split of a Hub data set (its Parquet files, in shard order) as the rows a run trains on, with columns mapped
 * as HF `datasets` maps them: a `ClassLabel` column holds class ids, shown by their names (`equivalent`), and its
 * ids stay the data set's (`labelNames[id]`); -1 (or null) is "no label", as GLUE's hidden test labels are.
 */
import { FineTuneError } from '../../common/errors';
import type { UserError } from '../../common/errors';
import { shown } from '../../common/shown';
import type { DatasetRow } from './readDataset';
import { MAX_PARQUET_ROWS, readParquetRows } from './parquet';
import type { HfFeature, ParquetRows } from './parquet';

export interface SplitReadOptions {
  /** How the split is named in messages: `nyu-mll/glue (mrpc, train)`. */
  what: string;
  textColumn: string;
  textPairColumn?: string;
  labelColumn?: string;
  maxRows?: number;
}

export interface ParquetSplit {
  rows: DatasetRow[];
  columns: string[];
  /** The label column's class names in id order, when it is a ClassLabel. */
  labelNames?: string[];
  /** Rows without a label (-1 or null); they are not in `rows`. */
  unlabelled: number;
  warnings: UserError[];
}

export async function readParquetSplit(files: readonly string[], o: SplitReadOptions): Promise<ParquetSplit> {
  const wanted = [o.textColumn, o.textPairColumn, o.labelColumn].filter((c): c is string => c !== undefined);
  const out: ParquetSplit = { rows: [], columns: [], unlabelled: 0, warnings: [] };
  let skipped = 0;
  let rowNumber = 0;
  for (const file of files) {
    const table = await readTable(file, wanted, (o.maxRows ?? MAX_PARQUET_ROWS) - rowNumber);
    out.columns = table.columns;
    const label = o.labelColumn !== undefined ? table.features.get(o.labelColumn) : undefined;
    if (label?.type === 'ClassLabel') out.labelNames = label.names;
    for (const values of table.rows) {
      rowNumber++;
      const row = toRow(values, rowNumber, o, label);
      if (row === 'no-text') skipped++;
      else if (row === 'no-label') out.unlabelled++;
      else out.rows.push(row);
    }
  }
  if (skipped > 0) {
    out.warnings.push({
      code: 'data-empty-text',
      message: `${o.what}: skipped ${skipped} row${skipped === 1 ? '' : 's'} with an empty '${shown(o.textColumn)}'`,
      fix: 'Check that text_column names the column holding the text.',
    });
  }
  return out;
}

function readTable(file: string, wanted: string[], maxRows: number): Promise<ParquetRows> {
  return readParquetRows(file, wanted, { maxRows: Math.max(0, maxRows) });
}

function toRow(
  values: unknown[],
  row: number,
  o: SplitReadOptions,
  label: HfFeature | undefined,
): DatasetRow | 'no-text' | 'no-label' {
  const text = cell(values[0], o, o.textColumn, row);
  if (text.trim() === '') return 'no-text';
  const out: DatasetRow = { text, line: row };
  let next = 1;
  if (o.textPairColumn !== undefined) out.textPair = cell(values[next++], o, o.textPairColumn, row);
  if (o.labelColumn === undefined) return out;
  const value = values[next];
  if (value === null || value === -1) return 'no-label';
  out.label = label?.type === 'ClassLabel' ? className(value, label.names, o, row) : cell(value, o, o.labelColumn, row);
  if (out.label.trim() === '') return 'no-label';
  return out;
}

function className(value: unknown, names: readonly string[], o: SplitReadOptions, row: number): string {
  const name = typeof value === 'number' && Number.isInteger(value) ? names[value] : undefined;
  if (name !== undefined) return name;
  throw new FineTuneError('data-unknown-label', `${o.what}, row ${row}: the label ${String(value)} is no class id`, {
    detail: `'${shown(o.labelColumn ?? '')}' is a ClassLabel with ${names.length} classes: ${names.slice(0, 20).join(', ')}.`,
    fix: 'The data set is inconsistent at this revision; pin another revision with data.revision.',
  });
}

function cell(v: unknown, o: SplitReadOptions, column: string, row: number): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new FineTuneError('data-bad-value', `${o.what}, row ${row}: '${shown(column)}' does not hold text`, {
    fix: `Pick a column of strings (or numbers) for ${column === o.labelColumn ? 'label_column' : 'the text'}.`,
  });
}
