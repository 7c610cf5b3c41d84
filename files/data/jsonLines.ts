/**
 * A JSON dataset is an array of objects, or `{"data": [...]}`. JSON.parse loses positions, so a small scanner
 * finds where each record starts (and ends), so that errors can point at its line and a prefix of a large file
 * can be read record by record. Records come back as Maps: their keys are the user's column names, which may be
 * `__proto__` or `constructor`.
 */
import { FineTuneError } from '../../common/errors';
import { countLineBreaks } from './delimited';

export interface LocatedRecord {
  values: Map<string, unknown>;
  line: number;
}

const FORMAT_FIX = 'Write the records as [{"text": "...", "label": "pos"}, ...]; for one object per line use .jsonl.';

export function locateJsonRecords(text: string, file: string): LocatedRecord[] {
  const parsed = parseJson(text, file, 0);
  let items: unknown[];
  if (Array.isArray(parsed)) items = parsed;
  else if (isObject(parsed) && Object.hasOwn(parsed, 'data') && Array.isArray(parsed.data)) items = parsed.data;
  else {
    throw new FineTuneError('data-bad-json', `${file} is neither an array of objects nor {"data": [...]}`, {
      file,
      line: 1,
      fix: FORMAT_FIX,
    });
  }
  const spans = recordSpans(text);
  const lines =
    spans.length === items.length
      ? linesAt(
          text,
          spans.map((s) => s.start),
        )
      : undefined;
  return items.map((v, i) => toRecord(v, i, lines?.[i] ?? 1, file));
}

/**
 * The records that lie wholly inside `text`, a prefix of a JSON dataset cut anywhere: the language server reads
 * the first megabyte of a file for its columns and label samples, never the whole file.
 */
export function jsonRecordsInPrefix(text: string, file: string): LocatedRecord[] {
  const spans = recordSpans(text).filter((s) => s.end !== undefined);
  const lines = linesAt(
    text,
    spans.map((s) => s.start),
  );
  return spans.map((s, i) => {
    const line = lines[i] as number;
    return toRecord(parseJson(text.slice(s.start, s.end), file, line - 1), i, line, file);
  });
}

function toRecord(v: unknown, i: number, line: number, file: string): LocatedRecord {
  if (!isObject(v)) {
    throw new FineTuneError('data-bad-json', `record ${i + 1} is not a JSON object`, {
      file,
      line,
      fix: 'Each record must be an object such as {"text": "...", "label": "pos"}.',
    });
  }
  return { values: new Map(Object.entries(v)), line };
}

function parseJson(text: string, file: string, lineOffset: number): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const pos = /position (\d+)/.exec(message);
    const line = pos ? lineOffset + (linesAt(text, [Number(pos[1])])[0] as number) : undefined;
    throw new FineTuneError('data-bad-json', `${file} is not valid JSON`, {
      file,
      ...(line !== undefined ? { line } : {}),
      detail: message,
      fix: FORMAT_FIX,
    });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface Span {
  start: number;
  /** One past the record's last character; undefined when the text ends inside it. */
  end?: number;
}

/**
 * Where the elements of the records array lie (the top-level array, or the root object's "data"). One pass,
 * no recursion: a file of a million nested brackets costs a million steps, not a stack overflow.
 */
function recordSpans(text: string): Span[] {
  const spans: Span[] = [];
  const stack: number[] = [];
  let nested = false;
  let rootKey: string | undefined;
  let open: Span | undefined;
  const atRecords = () =>
    nested ? stack.length === 2 && stack[1] === BRACKET && rootKey === 'data' : stack.length === 1;
  const begin = (at: number) => {
    open = { start: at };
    spans.push(open);
  };
  let expectValue = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const start = i;
      i = stringEnd(text, i);
      if (stack.length === 1 && nested) rootKey = keyAt(text, start, i) ?? rootKey;
      if (atRecords() && expectValue) begin(start);
      expectValue = false;
      continue;
    }
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (stack.length === 0 && (c === BRACE || c === BRACKET)) nested = c === BRACE;
    if (atRecords() && expectValue) begin(i);
    expectValue = false;
    if (c === BRACE || c === BRACKET) {
      stack.push(c);
      expectValue = atRecords();
    } else if (c === 0x7d || c === 0x5d) {
      if (atRecords() && open && open.end === undefined) open.end = i;
      stack.pop();
      if (atRecords() && open && open.end === undefined) open.end = i + 1;
    } else if (c === 0x2c) {
      if (atRecords() && open && open.end === undefined) open.end = i;
      expectValue = atRecords();
    }
  }
  return spans;
}

const BRACE = 0x7b;
const BRACKET = 0x5b;

/** Index of the closing quote of the string opening at `i` (or the text's end). */
function stringEnd(text: string, i: number): number {
  let j = i + 1;
  while (j < text.length && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
  return j;
}

/** The string at [start, end] when a `:` follows it (an object key), else undefined. */
function keyAt(text: string, start: number, end: number): string | undefined {
  let j = end + 1;
  while (j < text.length && /\s/.test(text[j] as string)) j++;
  if (text[j] !== ':') return undefined;
  try {
    return JSON.parse(text.slice(start, end + 1)) as string;
  } catch {
    return undefined;
  }
}

/** 1-based lines of ascending offsets, in one pass over the text. */
function linesAt(text: string, offsets: readonly number[]): number[] {
  const out: number[] = [];
  let line = 1;
  let at = 0;
  for (const o of offsets) {
    const to = Math.min(Math.max(o, at), text.length);
    line += countLineBreaks(text, at, to);
    at = to;
    out.push(line);
  }
  return out;
}
