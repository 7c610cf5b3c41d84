/**
 * Freezing and unfreezing a module by editing the `freeze` / `unfreeze` lists of a `*.finetune.yaml`, as the
 * freezing panel's checkboxes and shortcuts do. The change is computed on the lists first (what must go, what
 * must come), then written into the user's text item by item, and returned as one edit covering only the part
 * that changed: comments, order, quoting style and everything else in the file stay as the user wrote them.
 */
import { isMap, isScalar, isSeq } from 'yaml';
import type { Node, Scalar, YAMLSeq } from 'yaml';
import type { TextEdit } from './config/diagnostic';
import { ConfigDocument } from './config/yamlDoc';
import { isFrozen, matchesPattern } from './freeze';

export type ListKey = 'freeze' | 'unfreeze';

export interface FreezeLists {
  freeze: string[];
  unfreeze: string[];
}

export interface FreezeEditResult {
  /** One replacement turning the old text into `text`; undefined when nothing changes. */
  edit: TextEdit | undefined;
  text: string;
  lists: FreezeLists;
}

/** The lists as written (non-string items are skipped: the validator reports them). */
export function readFreezeLists(doc: ConfigDocument): FreezeLists {
  const read = (key: ListKey) => {
    const n = doc.node([key]);
    if (!isSeq(n)) return [];
    return n.items.flatMap((it) => (isScalar(it) && typeof it.value === 'string' ? [it.value] : []));
  };
  return { freeze: read('freeze'), unfreeze: read('unfreeze') };
}

const GLOB = /[*?[]/;
const under = (name: string, path: string) => name === path || name.startsWith(path + '.');
/** A pattern naming one module by its path (no glob), so we know exactly what it covers. */
const literalUnder = (pattern: string, path: string) => !GLOB.test(pattern) && under(pattern, path);

/**
 * The fewest module paths that together name exactly `selected` among `names` (a module whose parameters are
 * all selected is written once instead of parameter by parameter).
 */
export function coverPaths(names: readonly string[], selected: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const visit = (prefix: string, group: readonly string[]) => {
    const inside = group.filter((n) => selected.has(n));
    if (inside.length === 0) return;
    if (prefix && inside.length === group.length) {
      out.push(prefix);
      return;
    }
    const byChild = new Map<string, string[]>();
    for (const n of group) {
      const rest = prefix ? n.slice(prefix.length + 1) : n;
      const head = rest.split('.')[0]!;
      const child = prefix ? `${prefix}.${head}` : head;
      if (child === n && !selected.has(n)) continue;
      (byChild.get(child) ?? byChild.set(child, []).get(child)!).push(n);
    }
    for (const [child, g] of byChild) visit(child, g);
  };
  visit('', names);
  return out;
}

/** How the lists must change so that every parameter under `path` is frozen (or trainable), nothing else moving. */
export function planSetFrozen(
  lists: FreezeLists,
  names: readonly string[],
  path: string,
  frozen: boolean,
): FreezeLists {
  let { freeze, unfreeze } = lists;
  const targets = names.filter((n) => under(n, path));
  if (frozen) {
    unfreeze = unfreeze.filter((u) => !literalUnder(u, path));
    // A broader `unfreeze` (a parent, or a glob) still re-opens part of the module: narrow it to what it covers
    // outside the module.
    const broad = unfreeze.filter((u) => targets.some((t) => matchesPattern(t, u)));
    for (const u of broad) {
      const keep = new Set(names.filter((n) => matchesPattern(n, u) && !under(n, path)));
      const at = unfreeze.indexOf(u);
      unfreeze = [
        ...unfreeze.slice(0, at),
        ...coverPaths(names, keep).filter((p) => !unfreeze.includes(p)),
        ...unfreeze.slice(at + 1),
      ];
    }
    if (targets.some((t) => !isFrozen(t, freeze, unfreeze))) {
      freeze = [
        ...freeze.filter((f) => !(literalUnder(f, path) && f !== path)),
        ...(freeze.includes(path) ? [] : [path]),
      ];
    }
  } else {
    freeze = freeze.filter((f) => !literalUnder(f, path));
    if (targets.some((t) => isFrozen(t, freeze, unfreeze))) {
      unfreeze = [
        ...unfreeze.filter((u) => !(literalUnder(u, path) && u !== path)),
        ...(unfreeze.includes(path) ? [] : [path]),
      ];
    }
  }
  return { freeze, unfreeze };
}

export type Shortcut =
  | { kind: 'freeze-embeddings' }
  | { kind: 'top-n'; n: number; numLayers: number }
  | { kind: 'head-only' }
  | { kind: 'unfreeze-all' };

export function planShortcut(lists: FreezeLists, names: readonly string[], s: Shortcut): FreezeLists {
  switch (s.kind) {
    case 'freeze-embeddings':
      return planSetFrozen(lists, names, 'bert.embeddings', true);
    case 'unfreeze-all':
      return { freeze: [], unfreeze: [] };
    case 'head-only':
      // Everything under `bert` (pooler included) is the encoder; the task head (`classifier`, `cls.*`) trains.
      return planSetFrozen({ freeze: [], unfreeze: [] }, names, 'bert', true);
    case 'top-n': {
      let l: FreezeLists = planSetFrozen({ freeze: [], unfreeze: [] }, names, 'bert.embeddings', true);
      for (let i = 0; i < s.numLayers - Math.max(0, s.n); i++)
        l = planSetFrozen(l, names, `bert.encoder.layer.${i}`, true);
      return l;
    }
  }
}

/** Writes `next` into the text, touching only the items that differ from what is there. */
export function applyFreezeLists(text: string, next: FreezeLists): FreezeEditResult {
  let cur = text;
  for (const key of ['freeze', 'unfreeze'] as const) {
    // Append first, then remove from the end: a list that stays non-empty keeps its block or flow style.
    const have = readFreezeLists(new ConfigDocument(cur))[key];
    for (const p of next[key]) if (!have.includes(p)) cur = appendItem(cur, key, p);
    const now = readFreezeLists(new ConfigDocument(cur))[key];
    for (let i = now.length - 1; i >= 0; i--) {
      if (!next[key].includes(now[i]!)) cur = removeItem(cur, key, i);
    }
  }
  return { edit: diffEdit(text, cur), text: cur, lists: readFreezeLists(new ConfigDocument(cur)) };
}

export function setFrozenEdit(text: string, names: readonly string[], path: string, frozen: boolean): FreezeEditResult {
  const lists = readFreezeLists(new ConfigDocument(text));
  return applyFreezeLists(text, planSetFrozen(lists, names, path, frozen));
}

export function shortcutEdit(text: string, names: readonly string[], s: Shortcut): FreezeEditResult {
  const lists = readFreezeLists(new ConfigDocument(text));
  return applyFreezeLists(text, planShortcut(lists, names, s));
}

/** The smallest single replacement from `a` to `b` (common prefix and suffix left alone). */
export function diffEdit(a: string, b: string): TextEdit | undefined {
  if (a === b) return undefined;
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  let s = 0;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  return { range: { start: p, end: a.length - s }, newText: b.slice(p, b.length - s) };
}

// ---- item edits on the text ------------------------------------------------------------------------------------

function yamlString(v: string): string {
  return /^[A-Za-z_][\w.\-]*$/.test(v) ? v : JSON.stringify(v);
}
const lineStart = (t: string, o: number) => t.lastIndexOf('\n', o - 1) + 1;
const lineEnd = (t: string, o: number) => {
  const nl = t.indexOf('\n', o);
  return nl < 0 ? t.length : nl;
};
const splice = (t: string, start: number, end: number, s: string) => t.slice(0, start) + s + t.slice(end);

function seqAt(doc: ConfigDocument, key: ListKey): { seq?: YAMLSeq<Node>; keyEnd?: number; value?: Node | null } {
  const pair = doc.pair([key]);
  if (!pair) return {};
  const keyEnd = (pair.key as Scalar).range![1];
  if (isSeq(pair.value)) return { seq: pair.value as YAMLSeq<Node>, keyEnd, value: pair.value };
  return { keyEnd, value: pair.value };
}

function appendItem(text: string, key: ListKey, value: string): string {
  const doc = new ConfigDocument(text);
  const v = yamlString(value);
  const { seq, keyEnd, value: node } = seqAt(doc, key);
  if (keyEnd === undefined) {
    if (!isMap(doc.doc.contents) && doc.doc.contents !== null)
      throw new Error(`the config is not a mapping; cannot add "${key}"`);
    const sep = text === '' || text.endsWith('\n') ? '' : '\n';
    return `${text}${sep}${key}:\n  - ${v}\n`;
  }
  if (!seq) {
    // `freeze:` with no value, or an explicit null: a block list under the key.
    if (node && node.range && isScalar(node) && node.value === null && node.range[1] > node.range[0]) {
      return splice(text, node.range[0], node.range[1], `[${v}]`);
    }
    const at = lineEnd(text, keyEnd);
    return splice(text, at, at, `\n  - ${v}`);
  }
  if (seq.flow) {
    const last = seq.items[seq.items.length - 1];
    if (last?.range) return splice(text, last.range[1], last.range[1], `, ${v}`);
    const close = text.lastIndexOf(']', seq.range![1]);
    return splice(text, close, close, v);
  }
  const last = seq.items[seq.items.length - 1]!;
  const dash = text.lastIndexOf('-', last.range![0]);
  const indent = text.slice(lineStart(text, dash), dash);
  const at = lineEnd(text, last.range![1]);
  return splice(text, at, at, `\n${indent}- ${v}`);
}

function removeItem(text: string, key: ListKey, index: number): string {
  const doc = new ConfigDocument(text);
  const { seq, keyEnd } = seqAt(doc, key);
  const item = seq?.items[index];
  if (!seq || !item?.range || keyEnd === undefined) return text;
  if (seq.flow) {
    const next = seq.items[index + 1];
    const prev = seq.items[index - 1];
    if (next?.range) return splice(text, item.range[0], next.range[0], '');
    if (prev?.range) return splice(text, prev.range[1], item.range[1], '');
    return splice(text, item.range[0], item.range[1], '');
  }
  const dash = text.lastIndexOf('-', item.range[0]);
  const end = lineEnd(text, item.range[1]);
  let out = splice(text, lineStart(text, dash), Math.min(text.length, end + 1), '');
  if (seq.items.length === 1) {
    // The list is now empty: say so explicitly (an empty key reads as null, which is not a list).
    const colon = out.indexOf(':', keyEnd) + 1;
    out = splice(out, colon, colon, ' []');
  }
  return out;
}
