/**
 * Where the cursor is in YAML terms: typing a key of some section, the value of a key, or an item of a list.
 * Read from the lines around the cursor by indentation rather than from the parsed document, because while the
 * user types the document is usually not valid YAML (`learning_r|` has no colon yet).
 */

export interface CursorContext {
  /** `key`: a key of the mapping at `path`; `value`: the value of the key `path`; `item`: an item of the list `path`. */
  kind: 'key' | 'value' | 'item';
  path: string[];
  /** What is typed so far (quotes removed) and the offsets it spans, to be replaced by the completion. */
  prefix: string;
  replaceStart: number;
  replaceEnd: number;
  /** For `key`: the keys already written in that mapping (the cursor's own line excluded). */
  siblings: Set<string>;
  /** For `key`: the column keys of that mapping start at, and whether the line already has a colon after the cursor. */
  indent: number;
  hasColon: boolean;
}

interface Line {
  text: string;
  start: number;
}

const KEY_LINE = /^(\s*)(?:-\s+)?("[^"]*"|'[^']*'|[^\s#'"][^#]*?)\s*:(?:\s+(.*))?$/;

function splitLines(text: string): Line[] {
  const out: Line[] = [];
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    const end = nl < 0 ? text.length : nl;
    const raw = text.slice(start, end);
    out.push({ text: raw.endsWith('\r') ? raw.slice(0, -1) : raw, start });
    if (nl < 0) return out;
    start = nl + 1;
  }
}

function indentOf(s: string): number {
  return s.length - s.trimStart().length;
}

function isBlankOrComment(s: string): boolean {
  const t = s.trim();
  return t === '' || t.startsWith('#') || t === '---';
}

function unquote(s: string): string {
  return s.replace(/^["']|["']$/g, '');
}

/** True when the value part holds nothing but an optional comment: the key opens a block. */
function opensBlock(valuePart: string | undefined): boolean {
  return valuePart === undefined || valuePart.trim() === '' || valuePart.trim().startsWith('#');
}

/**
 * The chain of keys that encloses a line at `indent`, read upwards from line `from` (exclusive), or undefined
 * when the lines above do not form nested mappings (a list of mappings, a broken structure). A list item's
 * owner may sit at the same indent as the item (`freeze:\n- a`).
 */
function enclosingPath(
  lines: Line[],
  from: number,
  indent: number,
  listItem: boolean,
): { path: string[]; parentLine: number } | undefined {
  const path: string[] = [];
  let limit = indent;
  let parentLine = -1;
  for (let i = from - 1; i >= 0; i--) {
    const findingOwner = listItem && path.length === 0;
    if (limit === 0 && !findingOwner) break;
    const text = lines[i]!.text;
    if (isBlankOrComment(text)) continue;
    const ind = indentOf(text);
    const isItem = /^\s*-(\s|$)/.test(text);
    if (findingOwner ? ind > indent || (ind === indent && isItem) : ind >= limit) continue;
    const m = KEY_LINE.exec(text);
    if (!m || !opensBlock(m[3]) || isItem) return undefined;
    path.unshift(unquote(m[2]!));
    if (parentLine < 0) parentLine = i;
    limit = ind;
  }
  return { path, parentLine };
}

function keysAt(lines: Line[], parentLine: number, indent: number, skip: number): Set<string> {
  const out = new Set<string>();
  for (let i = parentLine + 1; i < lines.length; i++) {
    if (i === skip) continue;
    const text = lines[i]!.text;
    if (isBlankOrComment(text)) continue;
    const ind = indentOf(text);
    if (ind < indent && parentLine >= 0) break;
    if (ind !== indent) continue;
    const m = KEY_LINE.exec(text);
    if (m && !/^\s*-/.test(text)) out.add(unquote(m[2]!));
  }
  return out;
}

/** The word around the cursor inside a value or list item: stops at spaces, commas, brackets and quotes. */
function tokenEnd(line: string, from: number): number {
  let i = from;
  while (i < line.length && !/[\s,\]}"'#]/.test(line[i]!)) i++;
  return i;
}

export function cursorContext(text: string, offset: number): CursorContext | undefined {
  const lines = splitLines(text);
  let li = lines.length - 1;
  while (li > 0 && lines[li]!.start > offset) li--;
  const line = lines[li]!;
  const col = offset - line.start;
  if (col > line.text.length) return undefined;
  const before = line.text.slice(0, col);
  // Inside a comment: nothing to complete.
  if (/(^|\s)#/.test(before.replace(/"[^"]*"|'[^']*'/g, ''))) return undefined;

  const item = /^(\s*)-\s+["']?([^"']*)$/.exec(before);
  if (item) {
    const encl = enclosingPath(lines, li, item[1]!.length, true);
    if (!encl || !encl.path.length) return undefined;
    return ctx('item', encl.path, item[2]!, offset - item[2]!.length, line.start + tokenEnd(line.text, col));
  }

  const keyed = /^(\s*)("[^"]*"|'[^']*'|[^\s#'"][^#:]*?)\s*:(\s*)(.*)$/.exec(before);
  if (keyed) {
    const indent = keyed[1]!.length;
    const encl = enclosingPath(lines, li, indent, false);
    if (!encl) return undefined;
    const path = [...encl.path, unquote(keyed[2]!)];
    if (keyed[3] === '' && keyed[4] === '' && col === line.text.length && before.endsWith(':')) {
      // `key:|` with no space: nothing to offer until the user types a space.
      return undefined;
    }
    const value = keyed[4]!;
    const flow = value.lastIndexOf('[');
    if (flow >= 0) {
      const inner = value.slice(flow + 1);
      const lastSep = Math.max(inner.lastIndexOf(','), -1);
      const raw = inner.slice(lastSep + 1);
      const prefix = raw.trimStart().replace(/^["']/, '');
      return ctx('item', path, prefix, offset - prefix.length, line.start + tokenEnd(line.text, col));
    }
    const prefix = value.replace(/^["']/, '');
    return ctx('value', path, prefix, offset - prefix.length, line.start + tokenEnd(line.text, col));
  }

  const key = /^(\s*)([^\s:#'"]*)$/.exec(before);
  if (key) {
    const indent = key[1]!.length;
    const encl = enclosingPath(lines, li, indent, false);
    if (!encl) return undefined;
    const rest = line.text.slice(col);
    const wordEnd = col + (/^[^\s:#]*/.exec(rest)?.[0].length ?? 0);
    const c = ctx('key', encl.path, key[2]!, line.start + indent, line.start + wordEnd);
    c.siblings = keysAt(lines, encl.parentLine, indent, li);
    c.indent = indent;
    c.hasColon = /^\s*:/.test(line.text.slice(wordEnd));
    return c;
  }
  return undefined;
}

function ctx(
  kind: CursorContext['kind'],
  path: string[],
  prefix: string,
  replaceStart: number,
  replaceEnd: number,
): CursorContext {
  return { kind, path, prefix, replaceStart, replaceEnd, siblings: new Set(), indent: 0, hasColon: false };
}
