/**
 * The demo's data preparation, as pure functions: clean, de-duplicate and split labelled sentences into
 * train / validation / test, stratified by (label, source) and reproducible from a seed; and the checks that
 * three split files are fit to train on (no text in two splits, no label that training never sees).
 */
import { mulberry32, shuffleInPlace } from '../../common/random';

export interface LabelledText {
  text: string;
  label: string;
  source: string;
}

export interface SplitRatios {
  train: number;
  validation: number;
  test: number;
}

export const SPLIT_NAMES = ['train', 'validation', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

export type Splits<T> = Record<SplitName, T[]>;

export interface CleanReport {
  input: number;
  /** Rows whose text was empty or only whitespace. */
  empty: number;
  /** Rows whose text had undecodable bytes (U+FFFD after a lenient decode). */
  undecodable: number;
  /** Later copies of a normalised text already seen with the same label. */
  duplicates: number;
  /** Rows whose normalised text appears with more than one label: all copies are dropped. */
  conflicting: number;
  kept: number;
}

/**
 * The key that decides "the same text": Unicode NFKC, lower case, whitespace collapsed. Punctuation is kept,
 * since "Great." and "Great!" are different sentences to a tokenizer but the same to a reader's eye only rarely.
 */
export function normaliseText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** The text as written to the split files: NFC, whitespace collapsed (CSV readers choke less on stray newlines). */
export function tidyText(text: string): string {
  return text.normalize('NFC').replace(/\s+/g, ' ').trim();
}

/**
 * Drops empty texts, texts with undecodable bytes, and duplicates (keeping the first copy). A text that appears
 * with two different labels is ambiguous, so every copy of it goes.
 */
export function cleanRows(rows: readonly LabelledText[]): { rows: LabelledText[]; report: CleanReport } {
  const report: CleanReport = { input: rows.length, empty: 0, undecodable: 0, duplicates: 0, conflicting: 0, kept: 0 };
  const labelsOf = new Map<string, Set<string>>();
  const candidates: { row: LabelledText; key: string }[] = [];
  for (const r of rows) {
    const text = tidyText(r.text);
    if (text === '') {
      report.empty++;
      continue;
    }
    if (text.includes('\ufffd')) {
      report.undecodable++;
      continue;
    }
    const key = normaliseText(text);
    const labels = labelsOf.get(key) ?? new Set<string>();
    labels.add(r.label);
    labelsOf.set(key, labels);
    candidates.push({ row: { ...r, text }, key });
  }
  const seen = new Set<string>();
  const out: LabelledText[] = [];
  for (const { row, key } of candidates) {
    if ((labelsOf.get(key) as Set<string>).size > 1) {
      report.conflicting++;
      continue;
    }
    if (seen.has(key)) {
      report.duplicates++;
      continue;
    }
    seen.add(key);
    out.push(row);
  }
  report.kept = out.length;
  return { rows: out, report };
}

/**
 * Splits rows so that each (label, source) stratum is divided by `ratios` (largest remainder, so the counts
 * add up), in a seeded order. Strata are visited in sorted order so that the result depends only on
 * (rows, ratios, seed), not on which label comes first in the input. Within a split, rows keep input order.
 * Rows must already be de-duplicated (see `cleanRows`); a stratum with fewer rows than splits keeps them in train.
 */
export function stratifiedSplit<T extends LabelledText>(
  rows: readonly T[],
  ratios: SplitRatios,
  seed: number,
): Splits<T> {
  const total = ratios.train + ratios.validation + ratios.test;
  if (!(ratios.train > 0 && ratios.validation >= 0 && ratios.test > 0 && Math.abs(total - 1) < 1e-9)) {
    throw new RangeError(`split ratios must be positive and add up to 1, got ${JSON.stringify(ratios)}`);
  }
  const strata = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const key = `${r.label}\u0000${r.source}`;
    const list = strata.get(key);
    if (list) list.push(i);
    else strata.set(key, [i]);
  });
  const rng = mulberry32(seed);
  const assignment = new Uint8Array(rows.length); // 0 train, 1 validation, 2 test
  for (const key of [...strata.keys()].sort()) {
    const idx = strata.get(key) as number[];
    shuffleInPlace(idx, rng);
    if (idx.length < SPLIT_NAMES.length) continue;
    const [nVal, nTest] = allocate(idx.length, ratios);
    idx.forEach((rowIndex, j) => {
      assignment[rowIndex] = j < nTest ? 2 : j < nTest + nVal ? 1 : 0;
    });
  }
  const out: Splits<T> = { train: [], validation: [], test: [] };
  rows.forEach((r, i) => out[SPLIT_NAMES[assignment[i] as number] as SplitName].push(r));
  return out;
}

/** Validation and test counts for a stratum of n rows (largest remainder, at least one test row). */
function allocate(n: number, ratios: SplitRatios): [number, number] {
  const exact = [n * ratios.train, n * ratios.validation, n * ratios.test];
  const counts = exact.map(Math.floor);
  let left = n - counts.reduce((a, b) => a + b, 0);
  const order = [0, 1, 2].sort(
    (a, b) => (exact[b] as number) - (counts[b] as number) - ((exact[a] as number) - (counts[a] as number)) || a - b,
  );
  for (const i of order) {
    if (left === 0) break;
    counts[i] = (counts[i] as number) + 1;
    left--;
  }
  if ((counts[2] as number) === 0) {
    counts[2] = 1;
    counts[0] = (counts[0] as number) - 1;
  }
  return [counts[1] as number, counts[2] as number];
}

export interface SplitProblem {
  code: 'split-duplicate-across' | 'split-label-unseen' | 'split-empty-text';
  split: SplitName;
  message: string;
  count: number;
}

/**
 * Checks three splits before any training starts, and decides: rows of validation/test whose normalised
 * text is also in an earlier split are dropped (they would inflate the score), rows whose label training
 * never sees are dropped (the classifier has no output for them), empty texts are dropped. Returns the
 * cleaned splits and one problem per kind and split, so the caller can print a clear message.
 */
export function checkSplits<T extends { text: string; pair?: string; label: string }>(
  splits: Splits<T>,
): { splits: Splits<T>; problems: SplitProblem[] } {
  const problems: SplitProblem[] = [];
  const seen = new Set<string>();
  const trainLabels = new Set<string>();
  const out: Splits<T> = { train: [], validation: [], test: [] };
  for (const name of SPLIT_NAMES) {
    let empty = 0;
    let dup = 0;
    const unseen = new Map<string, number>();
    const inThisSplit = new Set<string>();
    for (const row of splits[name]) {
      const text = normaliseText(row.text);
      if (text === '') {
        empty++;
        continue;
      }
      // A pair is one example: the same first sentence with another second one is a different question.
      const key = row.pair === undefined ? text : `${text}\u0000${normaliseText(row.pair)}`;
      if (seen.has(key)) {
        dup++;
        continue;
      }
      if (name !== 'train' && !trainLabels.has(row.label)) {
        unseen.set(row.label, (unseen.get(row.label) ?? 0) + 1);
        continue;
      }
      if (name === 'train') trainLabels.add(row.label);
      inThisSplit.add(key);
      out[name].push(row);
    }
    for (const k of inThisSplit) seen.add(k);
    if (empty > 0)
      problems.push({
        code: 'split-empty-text',
        split: name,
        count: empty,
        message: `${name}: dropped ${empty} row(s) with empty text`,
      });
    if (dup > 0) {
      problems.push({
        code: 'split-duplicate-across',
        split: name,
        count: dup,
        message: `${name}: dropped ${dup} row(s) whose text (or pair) is also in an earlier split (train before validation before test), so no sentence is scored that was trained on`,
      });
    }
    for (const [label, count] of unseen) {
      problems.push({
        code: 'split-label-unseen',
        split: name,
        count,
        message: `${name}: dropped ${count} row(s) with label '${label}', which the train split never has, so the classifier cannot predict it`,
      });
    }
  }
  return { splits: out, problems };
}

/** Rows per label and per source, for the README and the console. */
export function countBy<T>(rows: readonly T[], key: (r: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) out[key(r)] = (out[key(r)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
