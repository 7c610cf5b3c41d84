/**
 * How deeply a YAML text nests, measured on the `yaml` package's own lexer tokens before anything is parsed.
 * The parser and composer recurse once per level (and slow down long before the stack runs out), so a config
 * nested deeper than any real one is refused up front. Using the lexer's tokens rather than a hand-written
 * character scan means quotes, comments, block scalars and plain scalars such as `it's [x` are read exactly
 * as the parser reads them: an apostrophe cannot hide a million `[` from the count.
 */
import { Lexer } from 'yaml';

export interface ScanLimits {
  maxDepth: number;
  /** Keys and values together: the parser's work (and its memory) grows with them. */
  maxScalars: number;
}

export interface ScanProblem {
  limit: 'depth' | 'scalars';
  /** Offset of the token that went past the limit. */
  offset: number;
  /** The depth or the scalar count reached there. */
  value: number;
}

/** Tokens the lexer emits as markers: they take no characters of the source. */
const MARKERS = new Set(['\u0002', '\u001f', '\u0018']);
const OPEN = new Set(['[', '{']);
const CLOSE = new Set([']', '}']);
/** Block indicators that open a nested collection on the same line (`- - x`, `? key`, `: value`). */
const COMPACT = new Set(['-', '?', ':']);

/** Block nesting of the current line: an indentation stack plus the compact indicators that start the line. */
class BlockDepth {
  private readonly indents: number[] = [];
  private pendingIndent = 0;
  private atLineStart = true;
  private compact = 0;
  /** Once a line has content, a later `:` is a mapping's value indicator, not a new level. */
  private content = false;

  get levels(): number {
    return this.indents.length + this.compact;
  }

  /** Feeds one token that is outside flow collections. */
  take(token: string): void {
    if (token === '\n' || token === '\r\n') {
      this.atLineStart = true;
      this.pendingIndent = 0;
      this.compact = 0;
      this.content = false;
      return;
    }
    if (token === '---' || token === '...') {
      this.indents.length = 0;
      return;
    }
    const blank = token.startsWith(' ') || token.startsWith('\t');
    if (this.atLineStart) {
      if (blank) {
        this.pendingIndent = token.length;
        return;
      }
      if (token.startsWith('#') || MARKERS.has(token)) return;
      this.startLine(this.pendingIndent);
    }
    if (blank || MARKERS.has(token)) return;
    if (COMPACT.has(token) && !this.content) this.compact++;
    else this.content = true;
  }

  private startLine(indent: number): void {
    this.atLineStart = false;
    while (this.indents.length && this.indents[this.indents.length - 1]! > indent) this.indents.pop();
    if (!this.indents.length || this.indents[this.indents.length - 1]! < indent) this.indents.push(indent);
  }
}

/** A scalar token: the lexer marks plain and block scalars with U+001F; quoted ones start with their quote. */
const isScalarStart = (token: string) => token === '\u001f' || token.startsWith('"') || token.startsWith("'");

/**
 * The first place where block plus flow nesting, or the number of scalars, goes past its limit; undefined when
 * the text is within both. Stops lexing there, so a huge input costs no more than its first offending token.
 */
export function scanYaml(text: string, limits: ScanLimits): ScanProblem | undefined {
  const block = new BlockDepth();
  let flow = 0;
  let offset = 0;
  let scalars = 0;
  for (const token of new Lexer().lex(text)) {
    if (OPEN.has(token)) flow++;
    else if (CLOSE.has(token)) flow = Math.max(0, flow - 1);
    else if (flow === 0) block.take(token);
    const depth = block.levels + flow;
    const at = Math.min(offset, text.length);
    if (depth > limits.maxDepth) return { limit: 'depth', offset: at, value: depth };
    if (isScalarStart(token) && ++scalars > limits.maxScalars) return { limit: 'scalars', offset: at, value: scalars };
    if (!MARKERS.has(token)) offset += token.length;
  }
  return undefined;
}

/** The first place where nesting goes past `max`, or undefined. */
export function findTooDeep(text: string, max: number): { offset: number; depth: number } | undefined {
  const p = scanYaml(text, { maxDepth: max, maxScalars: Infinity });
  return p && { offset: p.offset, depth: p.value };
}
