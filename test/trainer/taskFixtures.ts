/**
 * Tiny data sets for the regression and multi-label engine tests, written here from the sample reviews (so the
 * tokenizer of engineFixtures.ts knows every word). STS-B-like: sentence pairs scored 0–5 in fifths, high when
 * both reviews agree in sentiment. Multi-label: a review's sentiment, plus `friend` and `hedged` when it says so,
 * as JSONL lists or as comma-joined CSV cells.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { generateReviews } from '../../examples/sample/generate.mjs';
import { makeWorkspace } from './engineFixtures';
import type { Workspace } from './engineFixtures';

type Json = Record<string, unknown>;

const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** sentence1, sentence2, score: 4.0–5.0 when both reviews have the same sentiment, 0.0–1.0 otherwise. */
export function stsbLike(rows: number, seed: number): string {
  const a = generateReviews(rows, seed);
  const b = generateReviews(rows, seed + 100);
  const lines = a.map((r, i) => {
    const other = b[i]!;
    const score = (r.label === other.label ? 4 : 0) + ((i * 7) % 6) / 5;
    return `${quote(r.text)},${quote(other.text)},${score.toFixed(1)}`;
  });
  return ['sentence1,sentence2,score', ...lines].join('\n') + '\n';
}

/** The labels of a review: its sentiment, `friend` if a friend says it, `hedged` if the writer only thinks it. */
export function multiLabels(text: string, sentiment: string): string[] {
  const out = [sentiment];
  if (text.includes('friend')) out.push('friend');
  if (text.includes('i think')) out.push('hedged');
  return out;
}

export function multiLabelJsonl(rows: number, seed: number): string {
  const lines = generateReviews(rows, seed).map((r) =>
    JSON.stringify({ text: r.text, labels: multiLabels(r.text, r.label) }),
  );
  return lines.join('\n') + '\n';
}

export function multiLabelCsv(rows: number, seed: number, separator: string): string {
  const lines = generateReviews(rows, seed).map(
    (r) => `${quote(r.text)},${quote(multiLabels(r.text, r.label).join(separator))}`,
  );
  return ['text,labels', ...lines].join('\n') + '\n';
}

const GOOD = ['excellent', 'great', 'lovely', 'solid', 'sturdy', 'wonderful', 'reliable', 'fantastic'];
const BAD = ['awful', 'broken', 'cheap', 'faulty', 'flimsy', 'terrible', 'useless', 'disappointing'];
const THINGS = ['lamp', 'tent', 'phone', 'kettle', 'chair', 'desk', 'camera', 'printer'];

/**
 * An easy two-class set ("the lamp is excellent." is `good`), which a tiny model starts to learn within a few
 * dozen steps: for tests that need its scores to move between evaluations.
 */
export function easyBinaryCsv(rows: number, seed: number): string {
  const lines = Array.from({ length: rows }, (_, i) => {
    const k = (i * 7 + seed * 13) % 8;
    const good = (i + seed) % 2 === 0;
    return `the ${THINGS[(i + seed) % 8]} is ${(good ? GOOD : BAD)[k]}.,${good ? 'good' : 'bad'}`;
  });
  return ['text,label', ...lines].join('\n') + '\n';
}

/** A workspace training on the STS-B-like pairs (regression), with `overrides` on top. */
export function regressionWorkspace(overrides: Json = {}): Workspace {
  const ws = makeWorkspace(merge(REGRESSION, overrides));
  writeFileSync(path.join(ws.dir, 'stsb-train.csv'), stsbLike(96, 21));
  writeFileSync(path.join(ws.dir, 'stsb-validation.csv'), stsbLike(32, 22));
  return ws;
}

/** A workspace training on multi-label JSONL lists, with `overrides` on top. */
export function multiLabelWorkspace(overrides: Json = {}): Workspace {
  const ws = makeWorkspace(merge(MULTI_LABEL, overrides));
  writeFileSync(path.join(ws.dir, 'multi-train.jsonl'), multiLabelJsonl(96, 31));
  writeFileSync(path.join(ws.dir, 'multi-validation.jsonl'), multiLabelJsonl(32, 32));
  return ws;
}

/** A workspace training on easyBinaryCsv, with `overrides` on top. */
export function easyBinaryWorkspace(overrides: Json = {}): Workspace {
  const ws = makeWorkspace(overrides);
  writeFileSync(path.join(ws.dir, 'train.csv'), easyBinaryCsv(96, 1));
  writeFileSync(path.join(ws.dir, 'validation.csv'), easyBinaryCsv(48, 2));
  return ws;
}

const REGRESSION: Json = {
  model: { problem_type: 'regression' },
  data: {
    train_file: 'stsb-train.csv',
    validation_file: 'stsb-validation.csv',
    text_column: 'sentence1',
    text_pair_column: 'sentence2',
    label_column: 'score',
  },
};

const MULTI_LABEL: Json = {
  data: { train_file: 'multi-train.jsonl', validation_file: 'multi-validation.jsonl', label_column: 'labels' },
};

function merge(a: Json, b: Json): Json {
  const out: Json = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    const both = v && prev && typeof v === 'object' && typeof prev === 'object' && !Array.isArray(v);
    out[k] = both ? merge(prev as Json, v as Json) : v;
  }
  return out;
}
