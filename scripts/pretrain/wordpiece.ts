/**
 * A WordPiece vocabulary trainer, as Hugging Face `tokenizers`' WordPieceTrainer does it: BERT's normaliser and
 * pre-tokeniser split text into words, then byte-pair merges over characters (continuations prefixed `##`) run
 * until the vocabulary has the wanted size. Merge counts are kept incrementally with a lazy max-heap, so an
 * 8k vocabulary on a 1.5M-word corpus trains in seconds.
 */

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

function isPunctuation(ch: string): boolean {
  const c = ch.codePointAt(0) as number;
  // BERT treats every non-alphanumeric ASCII symbol as punctuation, plus Unicode P* categories.
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  return /\p{P}/u.test(ch);
}

/** BertNormalizer (clean text, lowercase, strip accents) + BertPreTokenizer (whitespace and punctuation). */
export function basicTokenize(text: string): string[] {
  const cleaned = text
    .replace(/[\u0000\ufffd]/g, '')
    .replace(/\p{Cc}/gu, (c) => (c === '\t' || c === '\n' || c === '\r' ? ' ' : ''))
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{Mn}/gu, '');
  const words: string[] = [];
  for (const chunk of cleaned.split(/\s+/)) {
    let current = '';
    for (const ch of chunk) {
      if (isPunctuation(ch)) {
        if (current) words.push(current);
        words.push(ch);
        current = '';
      } else current += ch;
    }
    if (current) words.push(current);
  }
  return words;
}

export interface WordPieceOptions {
  vocabSize: number;
  /** Characters seen fewer times than this are left out of the alphabet (they become [UNK]). */
  minCharFrequency: number;
  /** At most this many distinct characters, the most frequent first (HF's limit_alphabet). */
  limitAlphabet: number;
}

type Entry = [count: number, pair: string];

/** Max-heap on count, ties broken by the pair text so the result is the same on every run. */
class PairHeap {
  private readonly items: Entry[] = [];
  get size(): number {
    return this.items.length;
  }
  private better(a: Entry, b: Entry): boolean {
    return a[0] > b[0] || (a[0] === b[0] && a[1] < b[1]);
  }
  push(e: Entry): void {
    const h = this.items;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.better(h[i] as Entry, h[p] as Entry)) break;
      [h[i], h[p]] = [h[p] as Entry, h[i] as Entry];
      i = p;
    }
  }
  pop(): Entry | undefined {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.better(h[l] as Entry, h[m] as Entry)) m = l;
        if (r < h.length && this.better(h[r] as Entry, h[m] as Entry)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as Entry, h[i] as Entry];
        i = m;
      }
    }
    return top;
  }
}

const SEP = '\u0001';

function merged(a: string, b: string): string {
  return a + (b.startsWith('##') ? b.slice(2) : b);
}

/** Trains a vocabulary (vocab.txt order: special tokens, alphabet, then merges in the order learnt). */
export function trainWordPiece(texts: Iterable<string>, options: WordPieceOptions): string[] {
  const wordCounts = new Map<string, number>();
  for (const t of texts) for (const w of basicTokenize(t)) wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);

  const charCounts = new Map<string, number>();
  for (const [w, n] of wordCounts) for (const ch of w) charCounts.set(ch, (charCounts.get(ch) ?? 0) + n);
  const alphabet = [...charCounts]
    .filter(([, n]) => n >= options.minCharFrequency)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, options.limitAlphabet)
    .map(([ch]) => ch)
    .sort();
  const inAlphabet = new Set(alphabet);

  const vocab: string[] = [...SPECIAL_TOKENS];
  const have = new Set<string>(vocab);
  const add = (t: string): void => {
    if (!have.has(t)) {
      have.add(t);
      vocab.push(t);
    }
  };
  for (const ch of alphabet) add(ch);
  for (const ch of alphabet) if (!isPunctuation(ch)) add(`##${ch}`);

  // Words whose characters are all in the alphabet, as symbol sequences; the others would be [UNK] anyway.
  const words: string[][] = [];
  const counts: number[] = [];
  for (const [w, n] of [...wordCounts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const chars = [...w];
    if (chars.length > 100 || !chars.every((c) => inAlphabet.has(c))) continue;
    words.push(chars.map((c, i) => (i === 0 ? c : `##${c}`)));
    counts.push(n);
  }

  const pairCount = new Map<string, number>();
  const pairWords = new Map<string, Set<number>>();
  const heap = new PairHeap();
  const addPairs = (wi: number, sign: 1 | -1): void => {
    const sym = words[wi] as string[];
    const n = counts[wi] as number;
    for (let i = 0; i + 1 < sym.length; i++) {
      const key = `${sym[i]}${SEP}${sym[i + 1]}`;
      pairCount.set(key, (pairCount.get(key) ?? 0) + sign * n);
      if (sign > 0) {
        const set = pairWords.get(key) ?? new Set<number>();
        set.add(wi);
        pairWords.set(key, set);
      }
    }
  };
  words.forEach((_, wi) => addPairs(wi, 1));
  for (const [key, n] of pairCount) heap.push([n, key]);

  while (vocab.length < options.vocabSize && heap.size > 0) {
    const top = heap.pop() as Entry;
    const [n, key] = top;
    if (pairCount.get(key) !== n || n <= 0) continue; // stale entry
    const [a, b] = key.split(SEP) as [string, string];
    const token = merged(a, b);
    add(token);
    const touched = new Set<string>();
    for (const wi of pairWords.get(key) ?? []) {
      const sym = words[wi] as string[];
      // Pairs that lose counts need a fresh heap entry too, or their stale (higher) entry is all there is.
      for (let i = 0; i + 1 < sym.length; i++) touched.add(`${sym[i]}${SEP}${sym[i + 1]}`);
      addPairs(wi, -1);
      const next: string[] = [];
      for (let i = 0; i < sym.length; i++) {
        if (i + 1 < sym.length && sym[i] === a && sym[i + 1] === b) {
          next.push(token);
          i++;
        } else next.push(sym[i] as string);
      }
      words[wi] = next;
      addPairs(wi, 1);
      for (let i = 0; i + 1 < next.length; i++) touched.add(`${next[i]}${SEP}${next[i + 1]}`);
    }
    pairCount.delete(key);
    pairWords.delete(key);
    touched.delete(key);
    for (const t of touched) {
      const c = pairCount.get(t) ?? 0;
      if (c > 0) heap.push([c, t]);
    }
  }
  return vocab;
}

/** Greedy longest-match-first WordPiece of one pre-tokenised word, as BERT does it (for measuring only). */
export function wordPiece(word: string, vocab: ReadonlySet<string>, unk = '[UNK]'): string[] {
  const chars = [...word];
  if (chars.length > 100) return [unk];
  const out: string[] = [];
  let start = 0;
  while (start < chars.length) {
    let end = chars.length;
    let found: string | undefined;
    while (start < end) {
      const piece = (start > 0 ? '##' : '') + chars.slice(start, end).join('');
      if (vocab.has(piece)) {
        found = piece;
        break;
      }
      end--;
    }
    if (found === undefined) return [unk];
    out.push(found);
    start = end;
  }
  return out;
}
