/**
 * Small tokenizers in the formats of the non-WordPiece families, written the way their Python classes save them:
 * RoBERTa's byte-level BPE as vocab.json + merges.txt (every byte has a symbol, so no text is unknown) and
 * XLM-RoBERTa's SentencePiece Unigram as a tokenizer.json with Metaspace and its <s> A </s></s> B </s> template.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/** GPT-2's bytes_to_unicode: printable bytes stand for themselves, the others are shifted past 255. */
function byteSymbols(): string[] {
  const keep = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const out: string[] = [];
  let n = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCharCode(keep(b) ? b : 256 + n++));
  return out;
}

const WORDS = ['the', 'lamp', 'is', 'great', 'phone', 'solid', 'cheap', 'jacket', 'so', 'far', 'feels', 'looks'];

/** vocab.json and merges.txt of a byte-level BPE with RoBERTa's special tokens (<s> 0, <pad> 1, </s> 2, <unk> 3). */
export function writeBpeTokenizer(dir: string, modelType = 'roberta'): void {
  mkdirSync(dir, { recursive: true });
  const vocab = new Map<string, number>([
    ['<s>', 0],
    ['<pad>', 1],
    ['</s>', 2],
    ['<unk>', 3],
  ]);
  const add = (t: string) => {
    if (!vocab.has(t)) vocab.set(t, vocab.size);
  };
  byteSymbols().forEach(add);
  const merges: string[] = [];
  // Each word, with and without the leading space (Ġ), merged left to right one symbol at a time.
  for (const w of WORDS.flatMap((w) => [`Ġ${w}`, w])) {
    let left = w[0]!;
    for (const ch of w.slice(1)) {
      if (!vocab.has(left + ch)) merges.push(`${left} ${ch}`);
      add(left + ch);
      left += ch;
    }
  }
  add('<mask>');
  writeFileSync(path.join(dir, 'vocab.json'), JSON.stringify(Object.fromEntries(vocab)));
  writeFileSync(path.join(dir, 'merges.txt'), ['#version: 0.2', ...merges].join('\n') + '\n');
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: modelType }));
}

/** A SentencePiece Unigram tokenizer.json as XLMRobertaTokenizerFast saves it (without the precompiled charsmap). */
export function unigramTokenizerJson(): Record<string, unknown> {
  const specials = ['<s>', '<pad>', '</s>', '<unk>'];
  const pieces: [string, number][] = specials.map((s) => [s, 0]);
  WORDS.forEach((w, i) => pieces.push([`▁${w}`, -2 - i / 10]));
  for (const ch of '▁abcdefghijklmnopqrstuvwxyz.,!?') pieces.push([ch, -8]);
  pieces.push(['<mask>', 0]);
  const id = (t: string) => pieces.findIndex(([p]) => p === t);
  const added = [...specials, '<mask>'].map((t) => ({
    id: id(t),
    content: t,
    single_word: false,
    lstrip: t === '<mask>',
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const metaspace = { type: 'Metaspace', replacement: '▁', add_prefix_space: true, prepend_scheme: 'always' };
  const special = (t: string) => ({ SpecialToken: { id: t, type_id: 0 } });
  const seq = (s: 'A' | 'B') => ({ Sequence: { id: s, type_id: 0 } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: metaspace,
    post_processor: {
      type: 'TemplateProcessing',
      single: [special('<s>'), seq('A'), special('</s>')],
      pair: [special('<s>'), seq('A'), special('</s>'), special('</s>'), seq('B'), special('</s>')],
      special_tokens: {
        '<s>': { id: '<s>', ids: [id('<s>')], tokens: ['<s>'] },
        '</s>': { id: '</s>', ids: [id('</s>')], tokens: ['</s>'] },
      },
    },
    decoder: metaspace,
    model: { type: 'Unigram', unk_id: id('<unk>'), vocab: pieces, byte_fallback: false },
  };
}

export function writeUnigramTokenizer(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(unigramTokenizerJson()));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'xlm-roberta' }));
}
