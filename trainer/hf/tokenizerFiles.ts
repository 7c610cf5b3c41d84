/**
 * The tokenizer.json that Python's fast tokenizers build from a classic tokenizer folder: WordPiece from vocab.txt
 * (`BertTokenizerFast`: BERT, DistilBERT, ELECTRA) and byte-level BPE from vocab.json + merges.txt
 * (`RobertaTokenizerFast`). XLM-RoBERTa's SentencePiece model has no such path: it needs its tokenizer.json.
 */
import { FineTuneError } from '../../common/errors';
import { LIMITS } from '../../common/config/schema';

type Json = Record<string, unknown>;

/** A fix for a vocabulary that cannot be used as it is. */
export const VOCAB_FIX = 'Restore the tokenizer files from the original model (save_pretrained writes them).';

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

export const SPECIAL_KEYS = ['unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'] as const;
export const DEFAULT_SPECIALS: Record<(typeof SPECIAL_KEYS)[number], string> = {
  unk_token: '[UNK]',
  sep_token: '[SEP]',
  pad_token: '[PAD]',
  cls_token: '[CLS]',
  mask_token: '[MASK]',
};

/** RoBERTa's and XLM-RoBERTa's special tokens (RobertaTokenizer's and XLMRobertaTokenizer's defaults). */
export const ROBERTA_SPECIALS: Record<(typeof SPECIAL_KEYS)[number], string> = {
  unk_token: '<unk>',
  sep_token: '</s>',
  pad_token: '<pad>',
  cls_token: '<s>',
  mask_token: '<mask>',
};

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

export interface BpeOptions {
  /** tokenizer_config.json's add_prefix_space (RoBERTa: false). */
  addPrefixSpace?: boolean;
  modelMaxLength?: number;
  specials?: Partial<Record<(typeof SPECIAL_KEYS)[number], string>>;
}

/** The tokenizer.json and tokenizer_config.json `RobertaTokenizerFast` builds from vocab.json and merges.txt. */
export function bpeTokenizerFiles(
  vocab: ReadonlyMap<string, number>,
  merges: readonly string[],
  options: BpeOptions = {},
): { json: Json; config: Json } {
  const specials = { ...ROBERTA_SPECIALS, ...options.specials };
  const missing = Object.entries(specials).filter(([, token]) => !vocab.has(token));
  if (missing.length > 0) {
    const list = missing.map(([key, token]) => `${token} (${key})`).join(', ');
    throw new FineTuneError('tokenizer-missing-special', `vocab.json has no ${list}`, {
      file: 'vocab.json',
      fix: 'Add the tokens to vocab.json, or set cls_token, sep_token, ... in tokenizer_config.json to the tokens the vocabulary uses.',
    });
  }
  const addPrefixSpace = options.addPrefixSpace ?? false;
  const addedTokens = [...new Set(Object.values(specials))]
    .map((t) => ({
      id: vocab.get(t) as number,
      content: t,
      single_word: false,
      // RoBERTa's <mask> swallows the space before it, so that "a <mask>" masks the word " x", not "x".
      lstrip: t === specials.mask_token,
      rstrip: false,
      normalized: false,
      special: true,
    }))
    .sort((a, b) => a.id - b.id);
  const byteLevel = { add_prefix_space: addPrefixSpace, trim_offsets: true, use_regex: true };
  const json: Json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', ...byteLevel },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [specials.sep_token, vocab.get(specials.sep_token)],
      cls: [specials.cls_token, vocab.get(specials.cls_token)],
      trim_offsets: true,
      add_prefix_space: addPrefixSpace,
    },
    decoder: { type: 'ByteLevel', ...byteLevel },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab: Object.fromEntries(vocab),
      merges: [...merges],
    },
  };
  const config: Json = {
    tokenizer_class: 'RobertaTokenizer',
    add_prefix_space: addPrefixSpace,
    errors: 'replace',
    model_max_length: options.modelMaxLength ?? 512,
    bos_token: specials.cls_token,
    eos_token: specials.sep_token,
    ...specials,
  };
  return { json, config };
}

/** vocab.json (token → id) as a Map: its keys are data, `__proto__` included. */
export function parseBpeVocab(text: string, file: string): Map<string, number> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new FineTuneError('tokenizer-invalid', `${file} is not valid JSON`, {
      file,
      detail: e instanceof Error ? e.message : String(e),
      fix: VOCAB_FIX,
    });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new FineTuneError('tokenizer-invalid', `${file} is not a JSON object of token → id`, {
      file,
      fix: VOCAB_FIX,
    });
  }
  const entries = Object.entries(raw);
  if (entries.length > LIMITS.vocabSize) {
    const message = `${file} has ${entries.length} tokens, above the limit of ${LIMITS.vocabSize}`;
    throw new FineTuneError('tokenizer-invalid', message, { file, fix: VOCAB_FIX });
  }
  return new Map(entries as [string, number][]);
}

/** merges.txt: one "a b" pair per line, after an optional `#version` header. */
export function parseMerges(text: string): string[] {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  return lines.filter((l, i) => l !== '' && !(i === 0 && l.startsWith('#version')));
}

export function parseVocab(text: string, file: string): string[] {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length > LIMITS.vocabSize) {
    const message = `${file} has ${lines.length} tokens, above the limit of ${LIMITS.vocabSize}`;
    throw new FineTuneError('tokenizer-invalid', message, { file, fix: VOCAB_FIX });
  }
  return lines;
}

export function specialOptions(cfg: Json): Partial<BertVocabOptions> {
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
