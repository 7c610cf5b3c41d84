/**
 * BERT tokenizers in Hugging Face formats, backed by transformers.js. A folder with tokenizer.json loads as is;
 * a classic folder with only vocab.txt gets the tokenizer.json that `BertTokenizerFast` would build from it.
 * Special tokens and truncation are applied here (BERT's [CLS] A [SEP] B [SEP] template, and the
 * `tokenizers` library's longest_first rule), so that the output matches Python's fast tokenizer exactly.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PreTrainedTokenizer } from '@huggingface/transformers';
import { FineTuneError } from '../../common/errors';
import { writeFileAtomic } from '../../common/atomicWrite';
import { LIMITS } from '../../common/config/schema';
import { fetchHubModel, isHubId, type HubOptions } from './hub';

export interface EncodedText {
  inputIds: number[];
  tokenTypeIds: number[];
}

export interface Tokenizer {
  /** [CLS] text [SEP] (textPair [SEP]), truncated to at most `maxLength` ids with the longest_first rule. */
  encode(text: string, textPair: string | undefined, maxLength: number): EncodedText;
  readonly vocabSize: number;
  readonly padId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly maskId: number;
  readonly unkId: number;
  readonly specialIds: ReadonlySet<number>;
  /** tokens[id], where the vocabulary is contiguous. */
  readonly tokens?: readonly string[];
  readonly modelMaxLength: number;
  /** Writes tokenizer.json, tokenizer_config.json, special_tokens_map.json and (when it can) vocab.txt. */
  save(dir: string): Promise<void>;
}

export interface BertVocabOptions {
  doLowerCase?: boolean;
  /** null: strip when lowercasing, as BERT does. */
  stripAccents?: boolean | null;
  tokenizeChineseChars?: boolean;
  modelMaxLength?: number;
  unkToken?: string;
  clsToken?: string;
  sepToken?: string;
  padToken?: string;
  maskToken?: string;
}

type Json = Record<string, unknown>;

const SPECIAL_KEYS = ['unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'] as const;
const DEFAULT_SPECIALS: Record<(typeof SPECIAL_KEYS)[number], string> = {
  unk_token: '[UNK]',
  sep_token: '[SEP]',
  pad_token: '[PAD]',
  cls_token: '[CLS]',
  mask_token: '[MASK]',
};

/** Loads the tokenizer of a model folder, or of a Hub id (fetched into the cache like a model). */
export async function loadTokenizer(folderOrId: string, hub: HubOptions = {}): Promise<Tokenizer> {
  const isDir = (await fs.stat(folderOrId).catch(() => undefined))?.isDirectory() ?? false;
  const folder = !isDir && isHubId(folderOrId) ? await fetchHubModel(folderOrId, hub) : folderOrId;
  const config = await readJsonIfExists(path.join(folder, 'tokenizer_config.json'));
  const specialMap = await readJsonIfExists(path.join(folder, 'special_tokens_map.json'));
  const merged: Json = { ...(specialMap ? flattenSpecials(specialMap) : {}), ...(config ?? {}) };
  const json = await readJsonIfExists(path.join(folder, 'tokenizer.json'));
  if (json) return fromTokenizerJson(json, merged, path.join(folder, 'tokenizer.json'));
  const vocabFile = path.join(folder, 'vocab.txt');
  let vocabText: string;
  try {
    vocabText = await fs.readFile(vocabFile, 'utf8');
  } catch {
    throw new FineTuneError('tokenizer-not-found', `${folder} has no tokenizer.json or vocab.txt`, {
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

/** A BERT WordPiece tokenizer from a vocabulary (vocab.txt lines, in id order). */
export function tokenizerFromVocab(vocab: readonly string[], options: BertVocabOptions = {}): Tokenizer {
  const { json, config } = bertTokenizerFiles(vocab, options);
  return fromTokenizerJson(json, config, 'vocab.txt');
}

/** The tokenizer.json and tokenizer_config.json that Python's `BertTokenizerFast` writes for this vocabulary. */
export function bertTokenizerFiles(
  vocab: readonly string[],
  options: BertVocabOptions = {},
): { json: Json; config: Json } {
  const ids = new Map<string, number>();
  vocab.forEach((t, i) => {
    if (!ids.has(t)) ids.set(t, i);
  });
  const specials = {
    unk_token: options.unkToken ?? DEFAULT_SPECIALS.unk_token,
    sep_token: options.sepToken ?? DEFAULT_SPECIALS.sep_token,
    pad_token: options.padToken ?? DEFAULT_SPECIALS.pad_token,
    cls_token: options.clsToken ?? DEFAULT_SPECIALS.cls_token,
    mask_token: options.maskToken ?? DEFAULT_SPECIALS.mask_token,
  };
  const missing = Object.entries(specials).filter(([, token]) => !ids.has(token));
  if (missing.length > 0) {
    const list = missing.map(([key, token]) => `${token} (${key})`).join(', ');
    throw new FineTuneError('tokenizer-missing-special', `the vocabulary has no ${list}`, {
      file: 'vocab.txt',
      fix: 'Add the tokens to vocab.txt, or set cls_token, sep_token, ... in tokenizer_config.json to the tokens the vocabulary uses.',
    });
  }
  const cls = specials.cls_token;
  const sep = specials.sep_token;
  const doLowerCase = options.doLowerCase ?? true;
  const addedTokens = [...new Set(Object.values(specials))]
    .map((t) => ({
      id: ids.get(t) as number,
      content: t,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    }))
    .sort((a, b) => a.id - b.id);
  const json: Json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: options.tokenizeChineseChars ?? true,
      strip_accents: options.stripAccents ?? null,
      lowercase: doLowerCase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: cls, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: sep, type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: cls, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: sep, type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: sep, type_id: 1 } },
      ],
      special_tokens: {
        [cls]: { id: cls, ids: [ids.get(cls)], tokens: [cls] },
        [sep]: { id: sep, ids: [ids.get(sep)], tokens: [sep] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: specials.unk_token,
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(ids),
    },
  };
  const config: Json = {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: doLowerCase,
    strip_accents: options.stripAccents ?? null,
    tokenize_chinese_chars: options.tokenizeChineseChars ?? true,
    clean_up_tokenization_spaces: true,
    model_max_length: options.modelMaxLength ?? 512,
    ...specials,
  };
  return { json, config };
}

/** A fix for a vocabulary that cannot be used as it is. */
const VOCAB_FIX = 'Restore the tokenizer files from the original model (save_pretrained writes them).';

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

function fromTokenizerJson(json: Json, config: Json, source: string): Tokenizer {
  checkVocabIds(json, source);
  const cfg: Json = { ...config };
  for (const k of SPECIAL_KEYS) if (typeof cfg[k] !== 'string') cfg[k] = DEFAULT_SPECIALS[k];
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
  const clsId = idOf('cls_token');
  const sepId = idOf('sep_token');
  const padId = idOf('pad_token');
  const maskId = idOf('mask_token');
  const unkId = idOf('unk_token');
  const specialIds = new Set<number>([clsId, sepId, padId, maskId, unkId, ...inner.all_special_ids]);
  let vocabSize = 0;
  for (const id of vocab.values()) vocabSize = Math.max(vocabSize, id + 1);
  const tokens: string[] = new Array<string>(vocabSize);
  for (const [t, id] of vocab) if (tokens[id] === undefined) tokens[id] = t;
  let contiguous = true;
  for (let i = 0; i < vocabSize; i++) if (tokens[i] === undefined) contiguous = false;
  const modelMaxLength =
    typeof cfg.model_max_length === 'number' && cfg.model_max_length < 1e9 ? cfg.model_max_length : 512;

  const segment = (text: string): number[] => inner.encode(text, { add_special_tokens: false });

  return {
    vocabSize,
    padId,
    clsId,
    sepId,
    maskId,
    unkId,
    specialIds,
    ...(contiguous ? { tokens } : {}),
    modelMaxLength,
    encode(text: string, textPair: string | undefined, maxLength: number): EncodedText {
      const a = segment(text);
      if (textPair === undefined) {
        if (maxLength < 2) throw new RangeError(`max_length ${maxLength} leaves no room for [CLS] and [SEP]`);
        const ids = [clsId, ...a.slice(0, maxLength - 2), sepId];
        return { inputIds: ids, tokenTypeIds: new Array<number>(ids.length).fill(0) };
      }
      if (maxLength < 3) throw new RangeError(`max_length ${maxLength} leaves no room for [CLS] [SEP] [SEP]`);
      const b = segment(textPair);
      const [na, nb] = longestFirst(a.length, b.length, maxLength - 3);
      const first = [clsId, ...a.slice(0, na), sepId];
      const second = [...b.slice(0, nb), sepId];
      return {
        inputIds: [...first, ...second],
        tokenTypeIds: [...new Array<number>(first.length).fill(0), ...new Array<number>(second.length).fill(1)],
      };
    },
    async save(dir: string): Promise<void> {
      await fs.mkdir(dir, { recursive: true });
      const specials: Json = {};
      for (const k of SPECIAL_KEYS) specials[k] = cfg[k];
      const addedDecoder: Json = {};
      for (const t of (json.added_tokens as Json[] | undefined) ?? []) {
        const { id, ...rest } = t;
        addedDecoder[String(id)] = rest;
      }
      const outConfig: Json = { ...cfg, added_tokens_decoder: addedDecoder };
      if (typeof outConfig.tokenizer_class !== 'string') outConfig.tokenizer_class = 'BertTokenizer';
      await writeFileAtomic(path.join(dir, 'tokenizer.json'), JSON.stringify(json, null, 2));
      await writeFileAtomic(path.join(dir, 'tokenizer_config.json'), JSON.stringify(outConfig, null, 2));
      await writeFileAtomic(path.join(dir, 'special_tokens_map.json'), JSON.stringify(specials, null, 2));
      if (contiguous) await writeFileAtomic(path.join(dir, 'vocab.txt'), tokens.join('\n') + '\n');
    },
  };
}

/**
 * How many tokens each segment keeps, exactly as the `tokenizers` library's LongestFirst truncation
 * (which Python's fast tokenizers use): the shorter segment is kept whole when it fits in half,
 * otherwise both get half, the odd token going to the longer one (or to the second when they tie).
 */
export function longestFirst(lenA: number, lenB: number, budget: number): [number, number] {
  if (lenA + lenB <= budget) return [lenA, lenB];
  let n1 = lenA;
  let n2 = lenB;
  const swap = n1 > n2;
  if (swap) [n1, n2] = [n2, n1];
  n2 = n1 > budget ? n1 : Math.max(n1, budget - n1);
  if (n1 + n2 > budget) {
    n1 = Math.floor(budget / 2);
    n2 = n1 + (budget % 2);
  }
  if (swap) [n1, n2] = [n2, n1];
  return [Math.min(n1, lenA), Math.min(n2, lenB)];
}

function parseVocab(text: string, file: string): string[] {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length > LIMITS.vocabSize) {
    const message = `${file} has ${lines.length} tokens, above the limit of ${LIMITS.vocabSize}`;
    throw new FineTuneError('tokenizer-invalid', message, { file, fix: VOCAB_FIX });
  }
  return lines;
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

function specialOptions(cfg: Json): Partial<BertVocabOptions> {
  const s = (k: string): string | undefined => (typeof cfg[k] === 'string' ? (cfg[k] as string) : undefined);
  const out: Partial<BertVocabOptions> = {};
  const unk = s('unk_token');
  if (unk !== undefined) out.unkToken = unk;
  const cls = s('cls_token');
  if (cls !== undefined) out.clsToken = cls;
  const sep = s('sep_token');
  if (sep !== undefined) out.sepToken = sep;
  const pad = s('pad_token');
  if (pad !== undefined) out.padToken = pad;
  const mask = s('mask_token');
  if (mask !== undefined) out.maskToken = mask;
  return out;
}

function bool(v: unknown): boolean | undefined {
  return typeof v === 'boolean' ? v : undefined;
}

/** The largest tokenizer.json known is about 20 MB (multilingual vocabularies); anything far above is not one. */
const MAX_TOKENIZER_FILE_BYTES = 128 * 1024 * 1024;

async function readJsonIfExists(file: string): Promise<Json | undefined> {
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat) return undefined;
  if (!stat.isFile() || stat.size > MAX_TOKENIZER_FILE_BYTES) {
    const limit = MAX_TOKENIZER_FILE_BYTES;
    const why = stat.isFile() ? `is ${stat.size} bytes, above the ${limit} limit` : 'is not a regular file';
    throw new FineTuneError('tokenizer-invalid', `${file} ${why}`, { file, fix: VOCAB_FIX });
  }
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
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
