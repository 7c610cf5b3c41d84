import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { tokenizerFromVocab } from '../../trainer/hf/tokenizer';
import { readDataset } from '../../files/data/readDataset';
import { parseWordNetData, prepareCorpus } from '../../scripts/pretrain/prepareCorpus';
import type { CorpusOptions, CorpusSummary } from '../../scripts/pretrain/prepareCorpus';
import { fromSentencePieceMarks, measureTokenizer } from '../../scripts/pretrain/trainTokenizer';
import { basicTokenize, SPECIAL_TOKENS, trainWordPiece, wordPiece } from '../../scripts/pretrain/wordpiece';

const WORDNET = [
  '  1 This software and database is being provided to you, the LICENSEE, by  ',
  '00001740 00 a 01 able 0 005 = 05207437 n 0000 | (usually followed by `to\') having the necessary means or skill; "able to swim"; "she was able to program her computer"  ',
  "00002098 00 a 01 unable 0 002 = 05207437 n 0000 | (usually followed by `to') not having the necessary means or skill  ",
  '00002312 00 a 02 abaxial 0 dorsal 4 002 ;c 06037666 n 0000 | facing away from the axis of an organ or organism; "the abaxial surface of a leaf"  ',
  '',
].join('\n');

test('WordNet data lines give definitions, quoted examples and glosses headed by the synset words; licence lines are skipped', () => {
  const { definitions, examples, glosses } = parseWordNetData(WORDNET);
  assert.deepEqual(examples, ['able to swim', 'she was able to program her computer', 'the abaxial surface of a leaf']);
  assert.deepEqual(definitions, [
    "(usually followed by `to') having the necessary means or skill",
    "(usually followed by `to') not having the necessary means or skill",
    'facing away from the axis of an organ or organism',
  ]);
  assert.deepEqual(glosses, [
    "able: (usually followed by `to') having the necessary means or skill",
    "unable: (usually followed by `to') not having the necessary means or skill",
    'abaxial, dorsal: facing away from the axis of an organ or organism',
  ]);
  const marked = parseWordNetData(
    '00064479 00 s 03 good(a) 0 well_done 0 good(a) 1 001 & 00064787 a 0000 | having desirable qualities\n',
  );
  assert.deepEqual(marked.glosses, ['good, well done: having desirable qualities']);
});

/** A corpus from the WORDNET adjectives and a train.csv with `trainCsv` as its rows, split into lines. */
async function corpusOf(
  trainCsv: string,
  options: Pick<CorpusOptions, 'trainRepeat' | 'definitionParts' | 'glossParts'>,
): Promise<{ summary: CorpusSummary; train: string[]; validation: string[] }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'demo-corpus-'));
  try {
    const wn = path.join(dir, 'dict');
    await fs.mkdir(wn);
    for (const part of ['adj', 'adv', 'verb', 'noun'])
      await fs.writeFile(path.join(wn, `data.${part}`), part === 'adj' ? WORDNET : '');
    await fs.writeFile(path.join(dir, 'train.csv'), `text,label\n${trainCsv}`);
    const summary = await prepareCorpus({
      wordNetDir: wn,
      trainCsv: path.join(dir, 'train.csv'),
      outDir: path.join(dir, 'out'),
      heldOut: 0.5,
      seed: 1,
      ...options,
    });
    const lines = async (f: string) => (await readDataset(f, { textColumn: 'text' })).rows.map((r) => r.text);
    return { summary, train: await lines(summary.files.train), validation: await lines(summary.files.validation) };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

test('the corpus has WordNet text and train texts only, never validation or test texts', async () => {
  const { train, validation } = await corpusOf('"Great, loved it",positive\nawful service,negative\n', {
    trainRepeat: 3,
    definitionParts: ['adj'],
    glossParts: [],
  });
  assert.equal(train.filter((t) => t === 'Great, loved it').length, 3);
  assert.ok(!validation.includes('Great, loved it') && !validation.includes('awful service'));
  assert.equal(train.length + validation.length, 6 + 6);
  assert.deepEqual(new Set([...train, ...validation].filter((t) => !/loved|awful/.test(t))).size, 6);
});

test('headed glosses go to the training lines only, after the review texts', async () => {
  const { summary, train, validation } = await corpusOf('awful service,negative\n', {
    trainRepeat: 1,
    definitionParts: [],
    glossParts: ['adj'],
  });
  assert.equal(summary.glosses, 3);
  assert.deepEqual(train.slice(-4), ['awful service', ...parseWordNetData(WORDNET).glosses]);
  assert.ok(validation.every((t) => !t.includes(': ')));
});

test('basicTokenize lowercases, strips accents and splits punctuation as BERT does', () => {
  assert.deepEqual(basicTokenize("Café's  GREAT!!\tno-way"), ['cafe', "'", 's', 'great', '!', '!', 'no', '-', 'way']);
});

test('WordPiece training is deterministic, learns frequent words whole, and its vocabulary loads as a tokenizer', () => {
  const texts = Array.from(
    { length: 50 },
    (_, i) => `the movie was great ${i % 5 ? 'fun' : 'boring'}, the acting was great`,
  );
  const a = trainWordPiece(texts, { vocabSize: 60, minCharFrequency: 1, limitAlphabet: 100 });
  const b = trainWordPiece([...texts], { vocabSize: 60, minCharFrequency: 1, limitAlphabet: 100 });
  assert.deepEqual(a, b);
  assert.deepEqual(a.slice(0, 5), [...SPECIAL_TOKENS]);
  assert.equal(new Set(a).size, a.length);
  assert.ok(a.length <= 60);
  for (const w of ['the', 'was', 'great']) assert.ok(a.includes(w), `${w} should be one token`);
  assert.deepEqual(wordPiece('great', new Set(a)), ['great']);
  assert.deepEqual(wordPiece('xyz', new Set(a)), ['[UNK]']);
  const tok = tokenizerFromVocab(a);
  const stats = measureTokenizer(tok, ['the movie was great']);
  assert.equal(stats.unkRate, 0);
  assert.ok(stats.tokensPerSentence >= 4);
});

test('a SentencePiece-marked BERT vocabulary is converted back to WordPiece marks', () => {
  assert.deepEqual(fromSentencePieceMarks(['[PAD]', '[UNK]', '\u2581the', 'ing', '\u2581.']), [
    '[PAD]',
    '[UNK]',
    'the',
    '##ing',
    '.',
  ]);
  assert.deepEqual(fromSentencePieceMarks(['[PAD]', 'the', '##ing']), ['[PAD]', 'the', '##ing']);
});
