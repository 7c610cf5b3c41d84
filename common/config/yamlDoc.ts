/**
 * A parsed config document with positions: wraps the `yaml` package's CST-backed document so that every check
 * can ask "where is this key / value?" and get offsets, and so that edits can be computed without re-serialising
 * the user's file (comments and order are kept).
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, YAMLParseError } from 'yaml';
import type { Document, Node, Pair, YAMLMap } from 'yaml';
import type { OffsetRange, TextEdit } from './diagnostic';

export type KeyPath = readonly (string | number)[];

export class ConfigDocument {
  readonly doc: Document.Parsed;
  readonly lines = new LineCounter();

  /** `maxDuplicateReports` caps the duplicate-key errors added: past a few hundred they help nobody. */
  constructor(
    readonly text: string,
    options: { maxDuplicateReports?: number } = {},
  ) {
    // A duplicated key is an error, not a silent "last one wins". The parser's own check (`uniqueKeys`) compares
    // every key with every other, which takes seconds on a 10,000-line file; ours uses a set per mapping.
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: false, strict: true });
    this.reportDuplicateKeys(options.maxDuplicateReports ?? Infinity);
  }

  /** Each mapping's pairs by key (the first one for duplicated keys), built on first use: lookups stay O(1). */
  private readonly index = new WeakMap<object, Map<unknown, Pair<Node, Node | null>>>();
  private pairsOf(map: YAMLMap<Node, Node | null>): Map<unknown, Pair<Node, Node | null>> {
    let m = this.index.get(map);
    if (!m) {
      m = new Map();
      for (const p of map.items) if (isScalar(p.key) && !m.has(p.key.value)) m.set(p.key.value, p);
      this.index.set(map, m);
    }
    return m;
  }

  private reportDuplicateKeys(max: number): void {
    const stack: unknown[] = [this.doc.contents];
    let reported = 0;
    while (stack.length) {
      const node = stack.pop();
      if (isMap(node)) {
        const first = this.pairsOf(node as YAMLMap<Node, Node | null>);
        for (const p of node.items) {
          if (isScalar(p.key) && first.get(p.key.value) !== p && p.key.range && reported++ < max) {
            const message = `Map keys must be unique: \`${String(p.key.value)}\` appears twice.`;
            this.doc.errors.push(new YAMLParseError([p.key.range[0], p.key.range[1]], 'DUPLICATE_KEY', message));
          }
          stack.push(p.value);
        }
      } else if (isSeq(node)) stack.push(...node.items);
    }
  }

  /** Whether `pair` is the first of its key in `map` (a later duplicate is reported, then ignored). */
  isFirstOfKey(map: YAMLMap<Node, Node | null>, pair: Pair<Node, Node | null>): boolean {
    return !isScalar(pair.key) || this.pairsOf(map).get(pair.key.value) === pair;
  }

  /** The map pair at `path`, if present. */
  pair(path: KeyPath): Pair<Node, Node | null> | undefined {
    let node: unknown = this.doc.contents;
    let found: Pair<Node, Node | null> | undefined;
    for (const key of path) {
      if (isMap(node)) {
        found = this.pairsOf(node as YAMLMap<Node, Node | null>).get(key);
        if (!found) return undefined;
        node = found.value;
      } else if (isSeq(node) && typeof key === 'number') {
        node = node.items[key];
        found = undefined;
      } else return undefined;
    }
    return found;
  }

  node(path: KeyPath): Node | undefined {
    let node: unknown = this.doc.contents;
    for (const key of path) {
      if (isMap(node)) {
        const p = this.pairsOf(node as YAMLMap<Node, Node | null>).get(key);
        node = p?.value ?? undefined;
      } else if (isSeq(node) && typeof key === 'number') node = node.items[key];
      else return undefined;
    }
    return (node as Node | null) ?? undefined;
  }

  /** Range of the key at `path`, falling back to its nearest present parent, then to the first line. */
  keyRange(path: KeyPath): OffsetRange {
    for (let n = path.length; n > 0; n--) {
      const pair = this.pair(path.slice(0, n));
      const r = pair && isScalar(pair.key) ? pair.key.range : undefined;
      if (r) return { start: r[0], end: r[1] };
      const node = this.node(path.slice(0, n));
      if (node?.range) return { start: node.range[0], end: node.range[1] };
    }
    const firstLineEnd = this.text.indexOf('\n');
    return { start: 0, end: firstLineEnd < 0 ? this.text.length : firstLineEnd };
  }

  /** Range of the value at `path` (or of its key when the value is empty). */
  valueRange(path: KeyPath): OffsetRange {
    const node = this.node(path);
    if (node?.range) return { start: node.range[0], end: node.range[1] };
    return this.keyRange(path);
  }

  lineOf(offset: number): { line: number; col: number } {
    return this.lines.linePos(offset);
  }

  /**
   * An edit that inserts `key: value` into the mapping at `sectionPath` (creating the section when absent),
   * indented like its siblings.
   */
  insertKeyEdit(sectionPath: readonly string[], key: string, value: string): TextEdit {
    const edit = this.insertKeyEditLf(sectionPath, key, value);
    // Keep the file's line endings.
    return this.text.includes('\r\n') ? { range: edit.range, newText: edit.newText.replace(/\r?\n/g, '\r\n') } : edit;
  }

  private insertKeyEditLf(sectionPath: readonly string[], key: string, value: string): TextEdit {
    const section = sectionPath.length ? this.node(sectionPath) : this.doc.contents;
    if (isMap(section) && section.flow && section.range) {
      // `training: {seed: 1}`: add inside the braces rather than on a line of its own, which would end the map.
      const close = this.text.lastIndexOf('}', section.range[1]);
      if (close >= section.range[0])
        return { range: { start: close, end: close }, newText: `${section.items.length ? ', ' : ''}${key}: ${value}` };
    }
    if (isMap(section) && section.items.length > 0) {
      const first = section.items[0]!;
      const last = section.items[section.items.length - 1]!;
      const keyStart = (first.key as Node).range![0];
      const indent = keyStart - this.lineStart(keyStart);
      const end = this.lineEnd(((last.value as Node | null)?.range ?? (last.key as Node).range!)[1]);
      return { range: { start: end, end }, newText: `\n${' '.repeat(indent)}${key}: ${value}` };
    }
    if (sectionPath.length === 0) {
      return {
        range: { start: this.text.length, end: this.text.length },
        newText: `${this.text.endsWith('\n') || !this.text ? '' : '\n'}${key}: ${value}\n`,
      };
    }
    // Section missing or empty: write the whole chain at the end of the file.
    const parentPath = sectionPath.slice(0, -1);
    const name = sectionPath[sectionPath.length - 1]!;
    if (parentPath.length === 0 || isMap(this.node(parentPath))) {
      const pair = this.pair(sectionPath);
      if (pair && isScalar(pair.key)) {
        const keyStart = pair.key.range![0];
        const indent = keyStart - this.lineStart(keyStart);
        const end = this.lineEnd(pair.key.range![1]);
        return { range: { start: end, end }, newText: `\n${' '.repeat(indent + 2)}${key}: ${value}` };
      }
      const inner = this.insertKeyEditLf(parentPath, name, '');
      const indent = (inner.newText.match(/\n( *)/)?.[1]?.length ?? 0) + 2;
      return {
        range: inner.range,
        newText: `${inner.newText.replace(/: $/, ':')}\n${' '.repeat(indent)}${key}: ${value}`,
      };
    }
    return { range: { start: this.text.length, end: this.text.length }, newText: `\n${key}: ${value}\n` };
  }

  private lineStart(offset: number): number {
    return this.text.lastIndexOf('\n', offset - 1) + 1;
  }
  private lineEnd(offset: number): number {
    const nl = this.text.indexOf('\n', Math.max(0, offset - 1));
    if (nl < 0) return this.text.length;
    return nl > 0 && this.text[nl - 1] === '\r' ? nl - 1 : nl;
  }
}

export { isMap, isPair, isScalar, isSeq };
