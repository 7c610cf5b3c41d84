/**
 * CSV (RFC 4180) and TSV parsing that keeps the source line of every record, so errors can point at it.
 * CSV: fields may be quoted with `"`, quotes inside are doubled, quoted fields may hold the delimiter and
 * newlines; CRLF and LF both end records. TSV follows the IANA definition: no quoting (fields cannot hold
 * tabs or newlines), which is also how GLUE-style TSVs with stray quotes in the text must be read.
 */
import { FineTuneError } from '../../common/errors';

export interface DelimitedRecord {
  readonly fields: string[];
  /** 1-based line where the record starts. */
  readonly line: number;
}

export type Dialect = 'csv' | 'tsv';

/** Parses the whole text; blank lines are skipped. A leading BOM must already be removed. */
export function parseDelimited(text: string, dialect: Dialect, file: string, limit = Infinity): DelimitedRecord[] {
  return dialect === 'tsv' ? parseTsv(text, limit) : parseCsv(text, file, limit);
}

function parseTsv(text: string, limit: number): DelimitedRecord[] {
  const out: DelimitedRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length && out.length < limit; i++) {
    let l = lines[i] as string;
    if (l.endsWith('\r')) l = l.slice(0, -1);
    if (l === '') continue;
    out.push({ fields: l.split('\t'), line: i + 1 });
  }
  return out;
}

function parseCsv(text: string, file: string, limit: number): DelimitedRecord[] {
  const out: DelimitedRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let i = 0;
  const n = text.length;
  let atFieldStart = true;
  let recordEmpty = true;

  const endRecord = (): void => {
    fields.push(field);
    // A record that is one empty unquoted field is a blank line.
    if (!(recordEmpty && fields.length === 1 && field === '')) out.push({ fields, line: recordLine });
    fields = [];
    field = '';
    atFieldStart = true;
    recordEmpty = true;
  };

  while (i < n && out.length < limit) {
    const c = text[i] as string;
    if (atFieldStart && c === '"') {
      // Quoted field: runs to the next quote that is not doubled.
      const openLine = line;
      i++;
      let closed = false;
      while (i < n) {
        const q = text[i] as string;
        if (q === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          closed = true;
          break;
        }
        if (q === '\n') line++;
        field += q;
        i++;
      }
      if (!closed) {
        throw new FineTuneError('data-unterminated-quote', `the quoted field opened on line ${openLine} is never closed`, {
          file,
          line: openLine,
          fix: 'Close the quote, or double any quote character inside a quoted field ("" stands for ").',
        });
      }
      atFieldStart = false;
      recordEmpty = false;
      continue;
    }
    if (c === ',') {
      fields.push(field);
      field = '';
      atFieldStart = true;
      recordEmpty = false;
      i++;
      continue;
    }
    if (c === '\r' && text[i + 1] === '\n') {
      i++;
      continue;
    }
    if (c === '\n') {
      endRecord();
      line++;
      recordLine = line;
      i++;
      continue;
    }
    // Characters after a closing quote, or a quote inside an unquoted field, are kept literally (as Python's csv does).
    field += c;
    atFieldStart = false;
    recordEmpty = false;
    i++;
  }
  if (out.length < limit && (field !== '' || fields.length > 0 || !recordEmpty)) endRecord();
  return out;
}
