/**
 * CSV (RFC 4180) and TSV parsing that keeps the source line of every record, so errors can point at it.
 * CSV: fields may be quoted with `"`, quotes inside are doubled, quoted fields may hold the delimiter and
 * newlines. TSV follows the IANA definition: no quoting (fields cannot hold tabs or newlines), which is also how
 * GLUE-style TSVs with stray quotes in the text must be read. Records end with CRLF, LF or a lone CR (old Mac
 * files; Python's csv module and pandas accept all three), and each of them counts as one line, as in editors.
 */
import { FineTuneError } from '../../common/errors';

export interface DelimitedRecord {
  readonly fields: string[];
  /** 1-based line where the record starts. */
  readonly line: number;
}

export type Dialect = 'csv' | 'tsv';

export interface DelimitedOptions {
  /** Stop after this many records. */
  limit?: number;
  /**
   * The text is a prefix of the file, cut anywhere: only records ended by a line break are returned, and a quote
   * still open at the end of the text is not an error (its closing quote lies past the cut).
   */
  partial?: boolean;
}

/** Parses the text; blank lines are skipped. A leading BOM must already be removed. */
export function parseDelimited(
  text: string,
  dialect: Dialect,
  file: string,
  o: DelimitedOptions = {},
): DelimitedRecord[] {
  const limit = o.limit ?? Infinity;
  return dialect === 'tsv'
    ? parseTsv(text, limit, o.partial ?? false)
    : new CsvParser(text, file, o.partial ?? false).run(limit);
}

const LINE_BREAK = /\r\n|\r|\n/;

function parseTsv(text: string, limit: number, partial: boolean): DelimitedRecord[] {
  const out: DelimitedRecord[] = [];
  const lines = text.split(LINE_BREAK);
  // In a prefix the last piece has no line break after it yet, so it may be cut.
  const usable = partial ? lines.length - 1 : lines.length;
  for (let i = 0; i < usable && out.length < limit; i++) {
    const l = lines[i] as string;
    if (l === '') continue;
    out.push({ fields: l.split('\t'), line: i + 1 });
  }
  return out;
}

class CsvParser {
  private readonly out: DelimitedRecord[] = [];
  private fields: string[] = [];
  private field = '';
  private line = 1;
  private recordLine = 1;
  private i = 0;
  private atFieldStart = true;
  private recordEmpty = true;

  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly partial: boolean,
  ) {}

  run(limit: number): DelimitedRecord[] {
    const { text } = this;
    while (this.i < text.length && this.out.length < limit) {
      const c = text.charCodeAt(this.i);
      if (this.atFieldStart && c === QUOTE) {
        if (!this.quoted()) return this.out;
      } else if (c === COMMA) {
        this.fields.push(this.field);
        this.field = '';
        this.atFieldStart = true;
        this.recordEmpty = false;
        this.i++;
      } else if (c === LF || c === CR) {
        this.i += c === CR && text.charCodeAt(this.i + 1) === LF ? 2 : 1;
        this.endRecord();
        this.line++;
        this.recordLine = this.line;
      } else this.unquoted();
    }
    if (
      !this.partial &&
      this.out.length < limit &&
      (this.field !== '' || this.fields.length > 0 || !this.recordEmpty)
    ) {
      this.endRecord();
    }
    return this.out;
  }

  /** Characters up to the next delimiter or line break, kept literally (a stray quote too, as Python's csv does). */
  private unquoted(): void {
    const { text } = this;
    let j = this.i;
    while (j < text.length) {
      const c = text.charCodeAt(j);
      if (c === COMMA || c === LF || c === CR) break;
      j++;
    }
    this.field += text.slice(this.i, j);
    this.i = j;
    this.atFieldStart = false;
    this.recordEmpty = false;
  }

  /** A quoted field: runs to the next quote that is not doubled. False when the text ends first in a prefix. */
  private quoted(): boolean {
    const { text } = this;
    const openLine = this.line;
    let j = this.i + 1;
    for (;;) {
      const q = text.indexOf('"', j);
      if (q < 0) {
        if (this.partial) return false;
        throw new FineTuneError(
          'data-unterminated-quote',
          `the quoted field opened on line ${openLine} is never closed`,
          {
            file: this.file,
            line: openLine,
            fix: 'Close the quote, or double any quote character inside a quoted field ("" stands for ").',
          },
        );
      }
      this.field += text.slice(j, q);
      this.line += countLineBreaks(text, j, q);
      if (text.charCodeAt(q + 1) === QUOTE) {
        this.field += '"';
        j = q + 2;
        continue;
      }
      // In a prefix, a quote that is the last character may be the first half of a doubled one.
      if (this.partial && q + 1 >= text.length) return false;
      this.i = q + 1;
      this.atFieldStart = false;
      this.recordEmpty = false;
      return true;
    }
  }

  private endRecord(): void {
    this.fields.push(this.field);
    // A record that is one empty unquoted field is a blank line.
    if (!(this.recordEmpty && this.fields.length === 1 && this.field === '')) {
      this.out.push({ fields: this.fields, line: this.recordLine });
    }
    this.fields = [];
    this.field = '';
    this.atFieldStart = true;
    this.recordEmpty = true;
  }
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/** Line breaks (CRLF, LF, lone CR) in text[from, to). */
export function countLineBreaks(text: string, from: number, to: number): number {
  let n = 0;
  for (let k = from; k < to; k++) {
    const c = text.charCodeAt(k);
    if (c === LF || (c === CR && text.charCodeAt(k + 1) !== LF)) n++;
  }
  return n;
}
