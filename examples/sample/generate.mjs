#!/usr/bin/env node
// Writes the bundled sample: short product reviews built from word lists (all our own text), labelled by the
// sentiment words they contain, plus a word-level vocab.txt. Seeded, so the files are the same on every run.
// Usage: node examples/sample/generate.mjs [outDir]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SUBJECTS = ['the phone', 'this lamp', 'the kettle', 'my new chair', 'the blender', 'this jacket', 'the printer', 'our tent', 'the headphones', 'this backpack', 'the camera', 'the desk'];
const VERBS = ['is', 'seems', 'was', 'feels', 'looks'];
const POSITIVE = ['great', 'excellent', 'lovely', 'reliable', 'sturdy', 'wonderful', 'fantastic', 'solid'];
const NEGATIVE = ['awful', 'broken', 'flimsy', 'terrible', 'useless', 'cheap', 'faulty', 'disappointing'];
const FILLERS = ['honestly', 'overall', 'so far', 'after a week', 'for the price', 'in daily use', 'to be fair', 'as expected'];
const ENDINGS = ['.', '!', ', i think.', ', says my friend.'];

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` labelled reviews; the label is the polarity of the adjective, wherever it stands in the sentence. */
export function generateReviews(n, seed) {
  const rng = mulberry32(seed);
  const pick = (list) => list[Math.floor(rng() * list.length)];
  const rows = [];
  for (let i = 0; i < n; i++) {
    const positive = rng() < 0.5;
    const adjective = pick(positive ? POSITIVE : NEGATIVE);
    const parts = [pick(SUBJECTS), pick(VERBS), adjective];
    if (rng() < 0.6) {
      if (rng() < 0.5) parts.unshift(pick(FILLERS) + ',');
      else parts.push(pick(FILLERS));
    }
    rows.push({ text: parts.join(' ') + pick(ENDINGS), label: positive ? 'positive' : 'negative' });
  }
  return rows;
}

/** Every word and punctuation mark of the lists, after BERT's basic tokenisation, behind the special tokens. */
export function sampleVocab() {
  const words = new Set();
  for (const list of [SUBJECTS, VERBS, POSITIVE, NEGATIVE, FILLERS, ENDINGS]) {
    for (const phrase of list) for (const w of phrase.toLowerCase().match(/[a-z]+|[^\sa-z]/g) ?? []) words.add(w);
  }
  return ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...[...words].sort()];
}

function csv(rows) {
  const q = (s) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return 'text,label\n' + rows.map((r) => `${q(r.text)},${r.label}`).join('\n') + '\n';
}

export function writeSample(outDir) {
  mkdirSync(join(outDir, 'tokenizer'), { recursive: true });
  writeFileSync(join(outDir, 'train.csv'), csv(generateReviews(600, 1)));
  writeFileSync(join(outDir, 'validation.csv'), csv(generateReviews(100, 2)));
  writeFileSync(join(outDir, 'test.csv'), csv(generateReviews(100, 3)));
  writeFileSync(join(outDir, 'tokenizer', 'vocab.txt'), sampleVocab().join('\n') + '\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeSample(process.argv[2] ?? dirname(fileURLToPath(import.meta.url)));
}
