/**
 * A tiny BERT as the fake Hub serves `google-bert/bert-base-uncased` in the MRPC tests (examples/mrpc, the demo's
 * `--task mrpc`): config.json, model.safetensors and tokenizer files over a vocabulary of the fixtures' words.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { BertModel } from '../../trainer/model/bert';
import { tokenizerFromVocab } from '../../trainer/hf/tokenizer';
import { writeModelFolder } from '../../trainer/engine/checkpoint';
import { TINY } from './modelFixtures';

/** Every word test/fixtures/parquetFixtures.ts's pairs use, after BERT's special tokens. */
export const TINY_HUB_VOCAB = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  '[MASK]',
  ...'the cat sat on a mat dog ran'.split(' '),
];

/** The model folder's files, written once under `dir` (a tfjs backend must be set). */
export async function tinyBertFiles(dir: string): Promise<Record<string, Uint8Array>> {
  mkdirSync(dir, { recursive: true });
  const config = { ...TINY, vocab_size: TINY_HUB_VOCAB.length, max_position_embeddings: 128 };
  const model = BertModel.create(config, 'sequence-classification', { numLabels: 2, seed: 1 });
  await writeModelFolder(dir, model, undefined, tokenizerFromVocab(TINY_HUB_VOCAB));
  model.dispose();
  return Object.fromEntries(readdirSync(dir).map((f) => [f, new Uint8Array(readFileSync(path.join(dir, f)))]));
}
