/**
 * Where a tokenizer puts its special tokens and segment ids around one or two texts, read from tokenizer.json's
 * post-processor as the `tokenizers` library applies it: BERT's `[CLS] A [SEP] B [SEP]` (B's segment 1),
 * RoBERTa's and XLM-R's `<s> A </s></s> B </s>` (all segment 0), or any TemplateProcessing.
 */
import { FineTuneError } from '../../common/errors';

type Json = Record<string, unknown>;

/** One piece of a template: special token ids, or the text A or B, each with its segment (token type) id. */
export type Piece = { special: readonly number[]; type: number } | { sequence: 'A' | 'B'; type: number };

export interface SpecialTemplate {
  single: readonly Piece[];
  pair: readonly Piece[];
}

/** The ids of a tokenizer's cls and sep tokens, for the processors that name them (and for the fallback). */
export interface TemplateTokens {
  clsId: number;
  sepId: number;
}

/** `cls A sep` and `cls A <between> B sep`, B and its closing sep in segment `typeB`. */
function clsSepTemplate({ clsId, sepId }: TemplateTokens, between: number[], typeB: number): SpecialTemplate {
  const a: Piece[] = [
    { special: [clsId], type: 0 },
    { sequence: 'A', type: 0 },
  ];
  return {
    single: [...a, { special: [sepId], type: 0 }],
    pair: [...a, { special: between, type: 0 }, { sequence: 'B', type: typeB }, { special: [sepId], type: typeB }],
  };
}

/** BERT's template (BertProcessing); also what a tokenizer without a post-processor gets, unless RoBERTa's. */
export const bertTemplate = (t: TemplateTokens) => clsSepTemplate(t, [t.sepId], 1);

/** RobertaProcessing: `<s> A </s>` and `<s> A </s></s> B </s>`, every token in segment 0. */
export const robertaTemplate = (t: TemplateTokens) => clsSepTemplate(t, [t.sepId, t.sepId], 0);

/**
 * The template of tokenizer.json's post-processor (inside a `Sequence` of processors too); `fallback` when it
 * has none that places special tokens (a hand-made tokenizer.json).
 */
export function templateOf(json: Json, tokens: TemplateTokens, fallback: SpecialTemplate, source: string) {
  const processor = placingProcessor(json.post_processor);
  if (processor === undefined) return fallback;
  if (processor.type === 'RobertaProcessing') return robertaTemplate(tokens);
  if (processor.type === 'BertProcessing') return bertTemplate(tokens);
  const specials = processor.special_tokens as Json | undefined;
  const parse = (list: unknown) => parsePieces(list, specials, source);
  return { single: parse(processor.single), pair: parse(processor.pair) };
}

const PLACING = new Set(['RobertaProcessing', 'BertProcessing', 'TemplateProcessing']);

function placingProcessor(p: unknown): Json | undefined {
  if (typeof p !== 'object' || p === null) return undefined;
  const j = p as Json;
  if (typeof j.type === 'string' && PLACING.has(j.type)) return j;
  if (j.type === 'Sequence' && Array.isArray(j.processors)) {
    for (const inner of j.processors) {
      const found = placingProcessor(inner);
      if (found) return found;
    }
  }
  return undefined;
}

function parsePieces(list: unknown, specials: Json | undefined, source: string): Piece[] {
  const bad = (why: string) =>
    new FineTuneError('tokenizer-invalid', `${source}: the post_processor's template ${why}`, {
      file: source,
      fix: 'Restore tokenizer.json from the original model (save_pretrained writes it).',
    });
  if (!Array.isArray(list)) throw bad('is not a list');
  const pieces = list.map((item): Piece => {
    const j = (typeof item === 'object' && item !== null ? item : {}) as Json;
    const seq = j.Sequence as Json | undefined;
    if (seq) {
      if (seq.id !== 'A' && seq.id !== 'B') throw bad(`names the sequence ${JSON.stringify(seq.id)}`);
      return { sequence: seq.id, type: typeId(seq.type_id) };
    }
    const sp = j.SpecialToken as Json | undefined;
    if (!sp || typeof sp.id !== 'string') throw bad('has a piece that is neither a Sequence nor a SpecialToken');
    const entry = specials && Object.hasOwn(specials, sp.id) ? (specials[sp.id] as Json) : undefined;
    const ids = entry?.ids;
    if (!Array.isArray(ids) || !ids.every((i) => Number.isInteger(i) && i >= 0)) {
      throw bad(`uses the special token ${JSON.stringify(sp.id.slice(0, 40))} without its ids`);
    }
    return { special: ids as number[], type: typeId(sp.type_id) };
  });
  return pieces;
}

function typeId(v: unknown): number {
  return Number.isInteger(v) && (v as number) >= 0 ? (v as number) : 0;
}

/** How many special token ids a template adds. */
export function specialCount(pieces: readonly Piece[]): number {
  return pieces.reduce((n, p) => n + ('special' in p ? p.special.length : 0), 0);
}

/** The template filled with the (already truncated) token ids of A and B, and each token's segment id. */
export function applyTemplate(
  pieces: readonly Piece[],
  a: readonly number[],
  b: readonly number[],
): { inputIds: number[]; tokenTypeIds: number[] } {
  const inputIds: number[] = [];
  const tokenTypeIds: number[] = [];
  for (const p of pieces) {
    const ids = 'special' in p ? p.special : p.sequence === 'A' ? a : b;
    for (const id of ids) {
      inputIds.push(id);
      tokenTypeIds.push(p.type);
    }
  }
  return { inputIds, tokenTypeIds };
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
