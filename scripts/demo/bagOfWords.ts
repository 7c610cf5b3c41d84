/**
 * Diagnostic, not part of the demo: how far the labelled sentences alone go without a transformer. A logistic
 * regression on which words a sentence contains (lower-cased unigrams of train.csv), its L2 penalty chosen on
 * validation.csv, scored on test.csv. The README's "Main job" quotes it as the reference line.
 *
 *   node --import tsx scripts/demo/bagOfWords.ts [DATA_DIR (default examples/sentiment)]
 */
import * as path from 'node:path';
import { readDataset } from '../../files/data/readDataset';
import { fitLogistic } from './logisticRegression';

export const words = (text: string): string[] => text.toLowerCase().match(/[a-z0-9']+|[!?]/g) ?? [];

/** Binary presence features over the words of `train`; words seen only elsewhere are dropped. */
export function bagOfWords(train: readonly string[]): {
  vocabulary: Map<string, number>;
  encode(text: string): Float64Array;
} {
  const vocabulary = new Map<string, number>();
  for (const t of train) for (const w of words(t)) if (!vocabulary.has(w)) vocabulary.set(w, vocabulary.size);
  return {
    vocabulary,
    encode(text) {
      const x = new Float64Array(vocabulary.size);
      for (const w of words(text)) {
        const k = vocabulary.get(w);
        if (k !== undefined) x[k] = 1;
      }
      return x;
    },
  };
}

async function main(): Promise<void> {
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
  const dir = path.resolve(process.argv[2] ?? path.join(root, 'examples', 'sentiment'));
  const read = async (f: string) =>
    (await readDataset(path.join(dir, f), { textColumn: 'text', labelColumn: 'label' })).rows;
  const [train, validation, test] = await Promise.all(['train.csv', 'validation.csv', 'test.csv'].map(read));
  const labels = [...new Set(train!.map((r) => r.label))].sort();
  if (labels.length !== 2) throw new Error(`a binary task is needed; train.csv has labels ${labels.join(', ')}`);
  const bow = bagOfWords(train!.map((r) => r.text));
  const xy = (rows: typeof train) => ({
    x: rows!.map((r) => bow.encode(r.text)),
    y: rows!.map((r) => (r.label === labels[1] ? 1 : 0)),
  });
  const [tr, va, te] = [xy(train), xy(validation), xy(test)];
  console.log(`${bow.vocabulary.size} words in train.csv; class 1 = ${labels[1]}`);
  let best: { l2: number; val: number; test: number } | undefined;
  for (const l2 of [1e-4, 1e-3, 1e-2]) {
    const m = fitLogistic(tr.x, tr.y, { l2, epochs: 12000, learningRate: 2 });
    const r = { l2, val: m.accuracy(va.x, va.y), test: m.accuracy(te.x, te.y) };
    console.log(`l2 ${l2}: validation ${(100 * r.val).toFixed(1)}%, test ${(100 * r.test).toFixed(1)}%`);
    if (!best || r.val > best.val) best = r;
  }
  console.log(`chosen on validation: l2 ${best!.l2}, test accuracy ${(100 * best!.test).toFixed(1)}%`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main().catch((e: unknown) => {
    console.error(`bagOfWords: ${(e as Error).message}`);
    process.exit(1);
  });
}
