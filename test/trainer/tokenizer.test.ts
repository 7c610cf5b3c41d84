import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadTokenizer, tokenizerFromVocab } from '../../trainer/hf/tokenizer';
import { longestFirst } from '../../trainer/hf/specialTemplate';
import { FineTuneError } from '../../common/errors';

const VOCAB = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  '[MASK]',
  'the',
  'quick',
  'brown',
  'fox',
  'jump',
  '##s',
  '##ed',
  'over',
  'lazy',
  'dog',
  '.',
  ',',
  'un',
  '##aff',
  '##able',
  'cafe',
  'hello',
  'world',
  '!',
  'Hello',
];
const id = (t: string): number => VOCAB.indexOf(t);

const root = mkdtempSync(path.join(tmpdir(), 'tok-'));
function vocabFolder(name: string, config?: object): string {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'vocab.txt'), VOCAB.join('\n') + '\n');
  if (config) writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  return dir;
}

test('a vocab.txt folder encodes a sentence as WordPiece does by hand', async () => {
  const tok = await loadTokenizer(vocabFolder('plain'));
  assert.equal(tok.vocabSize, VOCAB.length);
  assert.deepEqual([tok.padId, tok.unkId, tok.clsId, tok.sepId, tok.maskId], [0, 1, 2, 3, 4]);
  assert.deepEqual(
    [...tok.specialIds].sort((a, b) => a - b),
    [0, 1, 2, 3, 4],
  );
  assert.deepEqual(tok.tokens, VOCAB);
  const e = tok.encode('The quick brown fox jumps over the lazy dog.', undefined, 512);
  const expected = ['[CLS]', 'the', 'quick', 'brown', 'fox', 'jump', '##s', 'over', 'the', 'lazy', 'dog', '.', '[SEP]'];
  assert.deepEqual(e.inputIds, expected.map(id));
  assert.deepEqual(e.tokenTypeIds, new Array(expected.length).fill(0));
  // Lowercasing strips accents (strip_accents null follows do_lower_case); unknown words become [UNK].
  assert.deepEqual(
    tok.encode('Unaffable Café! xyz', undefined, 512).inputIds,
    ['[CLS]', 'un', '##aff', '##able', 'cafe', '!', '[UNK]', '[SEP]'].map(id),
  );
});

test('pairs get type ids and longest_first truncation', async () => {
  const tok = tokenizerFromVocab(VOCAB);
  const e = tok.encode('hello world', 'the dog jumped', 512);
  assert.deepEqual(e.inputIds, ['[CLS]', 'hello', 'world', '[SEP]', 'the', 'dog', 'jump', '##ed', '[SEP]'].map(id));
  assert.deepEqual(e.tokenTypeIds, [0, 0, 0, 0, 1, 1, 1, 1, 1]);

  // A has 10 tokens, B 3; max 10 leaves 7: B (shorter) stays whole, A keeps 4.
  const long = 'the quick brown fox jumps over the lazy dog .';
  const t = tok.encode(long, 'hello world !', 10);
  assert.deepEqual(
    t.inputIds,
    ['[CLS]', 'the', 'quick', 'brown', 'fox', '[SEP]', 'hello', 'world', '!', '[SEP]'].map(id),
  );
  assert.deepEqual(t.tokenTypeIds, [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
  // Both long: the budget is halved, the odd token going to the longer one.
  const both = tok.encode(long, 'hello world hello world hello world', 10);
  assert.deepEqual(
    both.inputIds,
    ['[CLS]', 'the', 'quick', 'brown', 'fox', '[SEP]', 'hello', 'world', 'hello', '[SEP]'].map(id),
  );
  assert.equal(both.inputIds.length, 10);
  // Single sequences keep max_length - 2 tokens.
  assert.deepEqual(tok.encode(long, undefined, 5).inputIds, ['[CLS]', 'the', 'quick', 'brown', '[SEP]'].map(id));
  assert.throws(() => tok.encode('a', 'b', 2), RangeError);
});

test('longest_first matches the tokenizers library', () => {
  assert.deepEqual(longestFirst(3, 4, 10), [3, 4]);
  assert.deepEqual(longestFirst(10, 3, 7), [4, 3]);
  assert.deepEqual(longestFirst(3, 10, 7), [3, 4]);
  assert.deepEqual(longestFirst(10, 10, 7), [3, 4]);
  assert.deepEqual(longestFirst(10, 8, 7), [4, 3]);
  assert.deepEqual(longestFirst(5, 20, 6), [3, 3]);
  assert.deepEqual(longestFirst(0, 20, 6), [0, 6]);
});

test('do_lower_case false keeps case', async () => {
  const tok = await loadTokenizer(vocabFolder('cased', { do_lower_case: false }));
  assert.deepEqual(tok.encode('Hello hello', undefined, 512).inputIds, ['[CLS]', 'Hello', 'hello', '[SEP]'].map(id));
});

test('save writes the HF files and loads back to the same encodings', async () => {
  const tok = await loadTokenizer(vocabFolder('orig'));
  const out = path.join(root, 'saved');
  await tok.save(out);
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'])
    assert.ok(existsSync(path.join(out, f)), f);
  assert.equal(readFileSync(path.join(out, 'vocab.txt'), 'utf8'), VOCAB.join('\n') + '\n');
  const json = JSON.parse(readFileSync(path.join(out, 'tokenizer.json'), 'utf8')) as Record<string, { type?: string }>;
  assert.equal(json.model?.type, 'WordPiece');
  assert.equal(json.normalizer?.type, 'BertNormalizer');
  assert.equal(json.post_processor?.type, 'TemplateProcessing');
  const config = JSON.parse(readFileSync(path.join(out, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(config.tokenizer_class, 'BertTokenizer');
  assert.equal(config.do_lower_case, true);
  assert.deepEqual(JSON.parse(readFileSync(path.join(out, 'special_tokens_map.json'), 'utf8')), {
    unk_token: '[UNK]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    cls_token: '[CLS]',
    mask_token: '[MASK]',
  });
  const back = await loadTokenizer(out);
  for (const [a, b] of [
    ['Unaffable Café, the fox!', undefined],
    ['hello world', 'the lazy dogs'],
  ] as const) {
    assert.deepEqual(back.encode(a, b, 512), tok.encode(a, b, 512));
  }
  // Saving what was loaded from tokenizer.json gives the same files.
  const again = path.join(root, 'saved2');
  await back.save(again);
  assert.equal(
    readFileSync(path.join(again, 'tokenizer.json'), 'utf8'),
    readFileSync(path.join(out, 'tokenizer.json'), 'utf8'),
  );
});

test('folders without a tokenizer, or vocabularies without special tokens, are explained', async () => {
  const empty = path.join(root, 'empty');
  mkdirSync(empty);
  await assert.rejects(
    loadTokenizer(empty),
    (e: unknown) => e instanceof FineTuneError && e.code === 'tokenizer-not-found',
  );
  assert.throws(
    () => tokenizerFromVocab(['[PAD]', '[UNK]', 'a']),
    (e: unknown) =>
      e instanceof FineTuneError &&
      e.code === 'tokenizer-missing-special' &&
      /\[SEP\] \(sep_token\), \[CLS\] \(cls_token\), \[MASK\]/.test(e.message),
  );
});
