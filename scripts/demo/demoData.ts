/**
 * The demo's data before training: the task's split files checked (and cleaned copies written when a check
 * fails, or shortened ones in quick mode), and the sample-efficiency curve's training subsets written as CSV files
 * under the demo folder.
 */
import * as path from 'node:path';
import { writeFileAtomic } from '../../common/atomicWrite';
import { shown } from '../../common/shown';
import { readDataset } from '../../files/data/readDataset';
import { toCsv } from './csvFile';
import { checkSplits, SPLIT_NAMES, type SplitName, type Splits } from './splitData';
import { nestedSubsets } from './subsets';
import type { DemoTask } from './tasks';

export interface LabelledRow {
  text: string;
  /** The second text of a pair task (`text_pair_column`). */
  pair?: string;
  label: string;
  source: string;
}

export interface PreparedData {
  /** Cleaned or shortened copies that replace the task's files; empty when the files are used as they are. */
  dataFiles: Partial<Record<SplitName, string>>;
  /**
   * The validation and test files of the curve's runs when the main runs read their data elsewhere (a Hub data
   * set by name): local copies of exactly the examples the main runs score.
   */
  curveFiles?: Partial<Record<SplitName, string>>;
  /** The train split as the runs see it: what the curve's subsets are drawn from. */
  train: LabelledRow[];
}

/**
 * Reads the three split files of a file task and runs the same checks as the data preparation (no text in two
 * splits, no label only in validation/test, no empty text). Problems are printed and decided before any
 * training: the offending rows are dropped into cleaned copies under the demo folder, which the runs then use.
 */
export async function preflightData(
  root: string,
  task: DemoTask,
  out: string,
  log: (s: string) => void,
  evalLimit?: number,
): Promise<PreparedData> {
  if (task.data.kind !== 'files') throw new Error(`the task ${task.name} has no files to check`);
  const folder = path.join(root, task.data.folder);
  const { text_column: textColumn, text_pair_column: textPairColumn, label_column: labelColumn } = task.columns;
  const splits = {} as Splits<LabelledRow>;
  for (const name of SPLIT_NAMES) {
    const file = path.join(folder, `${name}.csv`);
    const ds = await readDataset(file, { textColumn, labelColumn, ...(textPairColumn ? { textPairColumn } : {}) });
    for (const w of ds.warnings) log(`${file}: ${w.message}`);
    splits[name] = ds.rows.map((r) => ({
      text: r.text,
      ...(r.textPair !== undefined ? { pair: r.textPair } : {}),
      label: r.label ?? '',
      source: '',
    }));
  }
  const checked = checkSplits(splits);
  if (checked.problems.length === 0 && evalLimit === undefined) return { dataFiles: {}, train: checked.splits.train };
  for (const p of checked.problems) log(`data check: ${p.message}`);
  if (evalLimit !== undefined) {
    // Quick mode: a smaller validation and test set (every label kept) so that a smoke run takes seconds.
    for (const name of ['validation', 'test'] as const)
      checked.splits[name] = balancedHead(checked.splits[name], evalLimit);
  }
  const dataFiles: Partial<Record<SplitName, string>> = {};
  for (const name of SPLIT_NAMES) {
    const file = path.join(out, 'data', `${name}.csv`);
    await writeSplitFile(file, checked.splits[name], task);
    dataFiles[name] = file;
  }
  const how = evalLimit === undefined ? 'cleaned' : 'cleaned and shortened';
  log(`training on ${how} copies in ${path.join(out, 'data')}`);
  return { dataFiles, train: checked.splits.train };
}

/** Rows as a CSV file with the task's columns (text, pair when the task has one, label), as the runs read them. */
export async function writeSplitFile(file: string, rows: readonly LabelledRow[], task: DemoTask): Promise<void> {
  const { text_column: text, text_pair_column: pair, label_column: label } = task.columns;
  const columns = pair === undefined ? [text, label] : [text, pair, label];
  // Column names come from the task: null-prototype records, so that no name can reach Object.prototype.
  const records = rows.map((r) => {
    const record = Object.create(null) as Record<string, string>;
    record[text] = r.text;
    if (pair !== undefined) record[pair] = r.pair ?? '';
    record[label] = r.label;
    return record;
  });
  await writeFileAtomic(file, toCsv(columns, records));
}

/** The first rows of each label, up to `limit` in all, in file order. */
export function balancedHead<T extends { label: string }>(rows: readonly T[], limit: number): T[] {
  const labels = [...new Set(rows.map((r) => r.label))];
  const per = Math.max(1, Math.floor(limit / Math.max(1, labels.length)));
  const taken = new Map<string, number>();
  return rows.filter((r) => {
    const n = taken.get(r.label) ?? 0;
    taken.set(r.label, n + 1);
    return n < per;
  });
}

/**
 * The curve's training subsets (subsets.ts: nested, stratified, one fixed seed) as `train-<size>.csv` files, rows
 * in train-file order; sizes at or above the split's are left out (the full split is the main comparison), and so
 * is a size too small to hold every label: its runs would have no output for a label validation scores.
 */
export async function writeSubsets(
  train: readonly LabelledRow[],
  sizes: readonly number[],
  seed: number,
  task: DemoTask,
  out: string,
  log: (s: string) => void = () => undefined,
): Promise<{ size: number; file: string }[]> {
  const labels = new Set(train.map((r) => r.label));
  const written: { size: number; file: string }[] = [];
  for (const { size, rows } of nestedSubsets(
    train.map((r) => r.label),
    sizes,
    seed,
  )) {
    const picked = [...rows].sort((a, b) => a - b).map((i) => train[i] as LabelledRow);
    const held = new Set(picked.map((r) => r.label));
    const missing = [...labels].filter((l) => !held.has(l));
    if (missing.length > 0) {
      const named = missing.slice(0, 5).map((l) => `'${shown(l)}'`);
      log(`curve: no point at ${size} examples: too few to hold every label (none with ${named.join(', ')})`);
      continue;
    }
    const file = path.join(out, 'data', `train-${size}.csv`);
    await writeSplitFile(file, picked, task);
    written.push({ size, file });
  }
  return written;
}
