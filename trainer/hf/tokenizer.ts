/**
 * Tokenizers of the BERT family in Hugging Face formats, backed by transformers.js: WordPiece (BERT, DistilBERT,
 * ELECTRA), byte-level BPE (RoBERTa) and SentencePiece Unigram (XLM-RoBERTa). A folder with tokenizer.json loads
 * as is; a classic folder gets the tokenizer.json that the fast tokenizer would build from its vocab.txt, or its
 * vocab.json + merges.txt (tokenizerFiles.ts). Special tokens and truncation are applied here (the
 * post-processor's template: specialTemplate.ts, and the `tokenizers` library's longest_first rule), so that the
 * output matches Python's fast tokenizer exactly.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PreTrainedTokenizer } from '@huggingface/transformers';
import { FineTuneError } from '../../common/errors';
import { writeFileAtomic } from '../../common/atomicWrite';
import { LIMITS } from '../../common/config/schema';
import { fetchHubModel, isHubId, type HubOptions } from './hub';
import {
  applyTemplate,
  bertTemplate,
  longestFirst,
  robertaTemplate,
  specialCount,
  templateOf,
} from './specialTemplate';
import {
  bertTokenizerFiles,
  bpeTokenizerFiles,
  DEFAULT_SPECIALS,
  parseBpeVocab,
  parseMerges,
  parseVocab,
  ROBERTA_SPECIALS,
  SPECIAL_KEYS,
  specialOptions,
  VOCAB_FIX,
} from './tokenizerFiles';
import type { BertVocabOptions } from './tokenizerFiles';

export interface EncodedText {
  inputIds: number[];
  tokenTypeIds: number[];
}

export interface Tokenizer {
  /**
   * The text (and pair) with the tokenizer's special tokens ([CLS] A [SEP] B [SEP], <s> A </s></s> B </s>, ...),
   * truncated to at most `maxLength` ids with the longest_first rule.
   */
  encode(text: string, textPair: string | undefined, maxLength: number): EncodedText;
  readonly vocabSize: number;
  readonly padId: number;
  /** [CLS], or <s> (RoBERTa's bos, which starts every input). */
  readonly clsId: number;
  /** [SEP], or </s>. */
  readonly sepId: number;
  readonly maskId: number;
  readonly unkId: number;
  readonly specialIds: ReadonlySet<number>;
  /** tokens[id], where the vocabulary is contiguous. */
  readonly tokens?: readonly string[];
  readonly modelMaxLength: number;
  /** Writes tokenizer.json, tokenizer_config.json, special_tokens_map.json and the model's classic files. */
  save(dir: string): Promise<void>;
}

type Json = Record<string, unknown>;

/** The two special-token conventions: BERT's [CLS]/[SEP] (and DistilBERT's, ELECTRA's), RoBERTa's <s>/</s>. */
type Style = 'bert' | 'roberta';

/** Loads the tokenizer of a model folder, or of a Hub id (fetched into the cache like a model). */
export async function loadTokenizer(folderOrId: string, hub: HubOptions = {}): Promise<Tokenizer> {
  const isDir = (await fs.stat(folderOrId).catch(() => undefined))?.isDirectory() ?? false;
  const folder = !isDir && isHubId(folderOrId) ? await fetchHubModel(folderOrId, hub) : folderOrId;
  const config = await readJsonIfExists(path.join(folder, 'tokenizer_config.json'));
  const specialMap = await readJsonIfExists(path.join(folder, 'special_tokens_map.json'));
  const merged: Json = { ...(specialMap ? flattenSpecials(specialMap) : {}), ...(config ?? {}) };
  const style = await styleOfFolder(folder);
  const json = await readJsonIfExists(path.join(folder, 'tokenizer.json'));
  if (json) return fromTokenizerJson(json, merged, path.join(folder, 'tokenizer.json'), style);
  const bpe = await bpeFromFolder(folder, merged);
  if (bpe) return fromTokenizerJson(bpe.json, { ...bpe.config, ...merged }, path.join(folder, 'vocab.json'), 'roberta');
  const vocabFile = path.join(folder, 'vocab.txt');
  const vocabText = await readTextIfExists(vocabFile);
  if (vocabText === undefined) {
    throw new FineTuneError('tokenizer-not-found', `${folder} has no tokenizer.json, vocab.txt or vocab.json`, {
      file: folder,
      fix: 'Copy the tokenizer files of the pre-trained model into the folder, or point tokenizer at a folder that has them.',
    });
  }
  return tokenizerFromVocab(parseVocab(vocabText, vocabFile), {
    doLowerCase: bool(merged.do_lower_case) ?? true,
    stripAccents: bool(merged.strip_accents) ?? null,
    tokenizeChineseChars: bool(merged.tokenize_chinese_chars) ?? true,
    ...(typeof merged.model_max_length === 'number' ? { modelMaxLength: merged.model_max_length } : {}),
    ...specialOptions(merged),
  });
}

/** RoBERTa's conventions where the folder's config.json says roberta / xlm-roberta, else BERT's. */
async function styleOfFolder(folder: string): Promise<Style | undefined> {
  // A broken config.json is the model reader's to report (files/hf/bertConfig.ts), not the tokenizer's.
  const config = await readJsonIfExists(path.join(folder, 'config.json')).catch(() => undefined);
  if (config?.model_type === undefined) return undefined;
  return config.model_type === 'roberta' || config.model_type === 'xlm-roberta' ? 'roberta' : 'bert';
}

/** The byte-level BPE tokenizer of a folder with vocab.json and merges.txt (RoBERTa's classic files). */
async function bpeFromFolder(folder: string, merged: Json): Promise<{ json: Json; config: Json } | undefined> {
  const vocabFile = path.join(folder, 'vocab.json');
  const vocabText = await readTextIfExists(vocabFile);
  if (vocabText === undefined) return undefined;
  const mergesText = await readTextIfExists(path.join(folder, 'merges.txt'));
  if (mergesText === undefined) {
    throw new FineTuneError('tokenizer-not-found', `${folder} has vocab.json but no merges.txt`, {
      file: folder,
      fix: 'A byte-level BPE tokenizer (RoBERTa) needs both vocab.json and merges.txt, or a tokenizer.json.',
    });
  }
  const specials: Partial<Record<(typeof SPECIAL_KEYS)[number], string>> = {};
  for (const k of SPECIAL_KEYS) if (typeof merged[k] === 'string') specials[k] = merged[k] as string;
  return bpeTokenizerFiles(parseBpeVocab(vocabText, vocabFile), parseMerges(mergesText), {
    addPrefixSpace: bool(merged.add_prefix_space) ?? false,
    ...(typeof merged.model_max_length === 'number' ? { modelMaxLength: merged.model_max_length } : {}),
    specials,
  });
}

/** A BERT WordPiece tokenizer from a vocabulary (vocab.txt lines, in id order). */
export function tokenizerFromVocab(vocab: readonly string[], options: BertVocabOptions = {}): Tokenizer {
  const { json, config } = bertTokenizerFiles(vocab, options);
  return fromTokenizerJson(json, config, 'vocab.txt', 'bert');
}

/** A tokenizer from the contents of a tokenizer.json and its tokenizer_config.json (tests, in-memory models). */
export function tokenizerFromJson(json: Json, config: Json, source = 'tokenizer.json'): Tokenizer {
  return fromTokenizerJson(json, config, source, undefined);
}

/**
 * Token ids are data from a file: each must be a non-negative integer below the vocabulary limit, and the ids
 * must be dense enough that tables indexed by id stay the vocabulary's size. Checked before the tokenizer is
 * built, because one id of 1e9 would otherwise cost a billion-entry table (a minute, gigabytes).
 */
export function checkVocabIds(json: Json, source: string): void {
  const entries: [string, unknown][] = [];
  const vocab = (json.model as Json | undefined)?.vocab;
  if (typeof vocab === 'object' && vocab !== null && !Array.isArray(vocab)) entries.push(...Object.entries(vocab));
  for (const t of Array.isArray(json.added_tokens) ? (json.added_tokens as unknown[]) : []) {
    if (typeof t === 'object' && t !== null) entries.push([String((t as Json).content), (t as Json).id]);
  }
  const invalid = (message: string) =>
    new FineTuneError('tokenizer-invalid', message, { file: source, fix: VOCAB_FIX });
  if (entries.length > LIMITS.vocabSize) {
    throw invalid(`${source} has ${entries.length} tokens, above the limit of ${LIMITS.vocabSize}`);
  }
  const ids = new Set<number>();
  let max = -1;
  for (const [token, id] of entries) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= LIMITS.vocabSize) {
      const limit = `ids are integers from 0 to ${LIMITS.vocabSize - 1}`;
      const shown = JSON.stringify(token.slice(0, 100));
      throw invalid(`${source}: the token ${shown} has the id ${JSON.stringify(id)}; ${limit}`);
    }
    ids.add(id);
    max = Math.max(max, id);
  }
  // A few holes are normal (removed or reserved tokens); ids spread far beyond the count are not a vocabulary.
  if (max + 1 > 2 * ids.size + 1024) {
    throw invalid(`${source}: token ids run up to ${max} but there are only ${ids.size} distinct ids`);
  }
}

/** BERT's or RoBERTa's conventions, from what the tokenizer.json itself declares when the folder does not say. */
function styleOfJson(json: Json): Style {
  const processor = json.post_processor as Json | null | undefined;
  if (processor?.type === 'RobertaProcessing') return 'roberta';
  const added = Array.isArray(json.added_tokens) ? (json.added_tokens as Json[]) : [];
  const has = (t: string) => added.some((a) => a?.content === t);
  return !has('[CLS]') && has('<s>') ? 'roberta' : 'bert';
}

function fromTokenizerJson(json: Json, config: Json, source: string, style: Style | undefined): Tokenizer {
  checkVocabIds(json, source);
  const family = style ?? styleOfJson(json);
  const cfg: Json = { ...config };
  const defaults = family === 'roberta' ? ROBERTA_SPECIALS : DEFAULT_SPECIALS;
  for (const k of SPECIAL_KEYS) if (typeof cfg[k] !== 'string') cfg[k] = defaults[k];
  let inner: PreTrainedTokenizer;
  try {
    inner = new PreTrainedTokenizer(json, cfg);
  } catch (e) {
    throw new FineTuneError('tokenizer-invalid', `cannot build a tokenizer from ${source}`, {
      file: source,
      detail: e instanceof Error ? e.message : String(e),
      fix: 'Check that the file is a Hugging Face tokenizers file (saved by save_pretrained).',
    });
  }
  const ids = specialIdsOf(inner, cfg, source);
  const table = vocabTable(inner.get_vocab());
  const fallback = family === 'roberta' ? robertaTemplate(ids) : bertTemplate(ids);
  const template = templateOf(json, ids, fallback, source);
  const modelMaxLength =
    typeof cfg.model_max_length === 'number' && cfg.model_max_length < 1e9 ? cfg.model_max_length : 512;
  const segment = (text: string): number[] => inner.encode(text, { add_special_tokens: false });
  return {
    ...ids,
    vocabSize: table.size,
    specialIds: new Set<number>([ids.clsId, ids.sepId, ids.padId, ids.maskId, ids.unkId, ...inner.all_special_ids]),
    ...(table.contiguous ? { tokens: table.tokens } : {}),
    modelMaxLength,
    encode(text: string, textPair: string | undefined, maxLength: number): EncodedText {
      const pieces = textPair === undefined ? template.single : template.pair;
      const budget = maxLength - specialCount(pieces);
      if (budget < 0) {
        throw new RangeError(`max_length ${maxLength} leaves no room for the ${specialCount(pieces)} special tokens`);
      }
      const a = segment(text);
      const b = textPair === undefined ? [] : segment(textPair);
      const [na, nb] = textPair === undefined ? [budget, 0] : longestFirst(a.length, b.length, budget);
      return applyTemplate(pieces, a.slice(0, na), b.slice(0, nb));
    },
    save: (dir: string) => saveTokenizer(dir, json, cfg, table),
  };
}

interface SpecialIds {
  clsId: number;
  sepId: number;
  padId: number;
  maskId: number;
  unkId: number;
}

function specialIdsOf(inner: PreTrainedTokenizer, cfg: Json, source: string): SpecialIds {
  const vocab = inner.get_vocab();
  const idOf = (key: (typeof SPECIAL_KEYS)[number]): number => {
    const token = cfg[key] as string;
    const id = vocab.get(token);
    if (id === undefined) {
      throw new FineTuneError('tokenizer-missing-special', `the tokenizer has no ${token} token (${key})`, {
        file: source,
        fix: `Set ${key} in tokenizer_config.json to a token of the vocabulary.`,
      });
    }
    return id;
  };
  return {
    clsId: idOf('cls_token'),
    sepId: idOf('sep_token'),
    padId: idOf('pad_token'),
    maskId: idOf('mask_token'),
    unkId: idOf('unk_token'),
  };
}

interface VocabTable {
  size: number;
  tokens: string[];
  /** Every id below size has a token. */
  contiguous: boolean;
}

function vocabTable(vocab: ReadonlyMap<string, number>): VocabTable {
  let size = 0;
  for (const id of vocab.values()) size = Math.max(size, id + 1);
  const tokens: string[] = new Array<string>(size);
  for (const [t, id] of vocab) if (tokens[id] === undefined) tokens[id] = t;
  let contiguous = true;
  for (let i = 0; i < size; i++) if (tokens[i] === undefined) contiguous = false;
  return { size, tokens, contiguous };
}

/** The class a tokenizer_config.json names when the source had none, by the tokenizer's model. */
const TOKENIZER_CLASS: Record<string, string> = {
  WordPiece: 'BertTokenizer',
  BPE: 'RobertaTokenizer',
  Unigram: 'XLMRobertaTokenizer',
};

/**
 * What `save_pretrained` writes for a fast tokenizer: tokenizer.json, tokenizer_config.json,
 * special_tokens_map.json, and the classic files of its model (vocab.txt; vocab.json + merges.txt).
 */
async function saveTokenizer(dir: string, json: Json, cfg: Json, table: VocabTable): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const specials: Json = {};
  for (const k of SPECIAL_KEYS) specials[k] = cfg[k];
  const addedDecoder: Json = {};
  for (const t of (json.added_tokens as Json[] | undefined) ?? []) {
    const { id, ...rest } = t;
    addedDecoder[String(id)] = rest;
  }
  const model = (json.model ?? {}) as Json;
  const outConfig: Json = { ...cfg, added_tokens_decoder: addedDecoder };
  if (typeof outConfig.tokenizer_class !== 'string') {
    outConfig.tokenizer_class = TOKENIZER_CLASS[String(model.type)] ?? 'BertTokenizer';
  }
  await writeFileAtomic(path.join(dir, 'tokenizer.json'), JSON.stringify(json, null, 2));
  await writeFileAtomic(path.join(dir, 'tokenizer_config.json'), JSON.stringify(outConfig, null, 2));
  await writeFileAtomic(path.join(dir, 'special_tokens_map.json'), JSON.stringify(specials, null, 2));
  if (model.type === 'WordPiece' && table.contiguous) {
    await writeFileAtomic(path.join(dir, 'vocab.txt'), table.tokens.join('\n') + '\n');
  }
  if (model.type === 'BPE' && Array.isArray(model.merges)) {
    const merges = (model.merges as unknown[]).map((m) => (Array.isArray(m) ? m.join(' ') : String(m)));
    await writeFileAtomic(path.join(dir, 'vocab.json'), JSON.stringify(model.vocab));
    await writeFileAtomic(path.join(dir, 'merges.txt'), ['#version: 0.2', ...merges].join('\n') + '\n');
  }
}

function flattenSpecials(map: Json): Json {
  // special_tokens_map.json entries are strings or AddedToken objects {content, ...}.
  const out: Json = {};
  for (const [k, v] of Object.entries(map)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'object' && v !== null && typeof (v as Json).content === 'string')
      out[k] = (v as Json).content;
  }
  return out;
}

function bool(v: unknown): boolean | undefined {
  return typeof v === 'boolean' ? v : undefined;
}

/** The largest tokenizer.json known is about 20 MB (multilingual vocabularies); anything far above is not one. */
const MAX_TOKENIZER_FILE_BYTES = 128 * 1024 * 1024;

/** A tokenizer file's text, or undefined when it does not exist; a file above the size bound is refused. */
async function readTextIfExists(file: string): Promise<string | undefined> {
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat) return undefined;
  if (!stat.isFile() || stat.size > MAX_TOKENIZER_FILE_BYTES) {
    const limit = MAX_TOKENIZER_FILE_BYTES;
    const why = stat.isFile() ? `is ${stat.size} bytes, above the ${limit} limit` : 'is not a regular file';
    throw new FineTuneError('tokenizer-invalid', `${file} ${why}`, { file, fix: VOCAB_FIX });
  }
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

async function readJsonIfExists(file: string): Promise<Json | undefined> {
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Json;
  } catch (e) {
    throw new FineTuneError('tokenizer-invalid', `${file} is not a valid JSON object`, {
      file,
      detail: e instanceof Error ? e.message : String(e),
      fix: 'Restore the file from the original model.',
    });
  }
}
