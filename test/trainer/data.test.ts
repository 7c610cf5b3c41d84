import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readDataset } from '../../files/data/readDataset';
import { readHeader } from '../../files/data/sample';
import { buildLabelMap, encodeLabels } from '../../trainer/data/labels';
import { splitTrainValidation } from '../../trainer/data/split';
import { FineTuneError, formatUserError } from '../../common/errors';
import { mulberry32, shuffleInPlace } from '../../common/random';

const dir = mkdtempSync(path.join(tmpdir(), 'data-'));
function file(name: string, content: string | Uint8Array): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}
function fails(code: string, line?: number, message?: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof FineTuneError, String(e));
    assert.equal(e.code, code);
    if (line !== undefined) assert.equal(e.line, line);
    if (message) assert.match(e.message + '\n' + (e.detail ?? ''), message);
    return true;
  };
}

test('CSV: BOM, quotes, doubled quotes, embedded newlines, CRLF, line numbers', async () => {
  const p = file(
    'a.csv',
    '\ufefftext,label\r\n"hello, world",pos\r\n"multi\nline ""quoted""",neg\r\n\r\nplain,pos\r\n',
  );
  const d = await readDataset(p, { textColumn: 'text', labelColumn: 'label' });
  assert.deepEqual(d.columns, ['text', 'label']);
  assert.deepEqual(
    d.rows.map((r) => [r.text, r.label, r.line]),
    [
      ['hello, world', 'pos', 2],
      ['multi\nline "quoted"', 'neg', 3],
      ['plain', 'pos', 6],
    ],
  );
  assert.deepEqual(await readHeader(p), ['text', 'label']);
});

test('CSV: last line without newline, empty quoted field, unterminated quote', async () => {
  const d = await readDataset(file('b.csv', 'text,pair,label\na,"",1\nb,c,2'), {
    textColumn: 'text',
    textPairColumn: 'pair',
    labelColumn: 'label',
  });
  assert.deepEqual(d.rows, [
    { text: 'a', textPair: '', label: '1', line: 2 },
    { text: 'b', textPair: 'c', label: '2', line: 3 },
  ]);
  await assert.rejects(
    readDataset(file('c.csv', 'text,label\nok,1\n"open,1\nmore,2\n'), { textColumn: 'text' }),
    fails('data-unterminated-quote', 3),
  );
  await assert.rejects(
    readDataset(file('d.csv', 'text,label\nok,1\na, b, c\n'), { textColumn: 'text' }),
    fails('data-field-count', 3, /3 fields but the header has 2/),
  );
});

test('TSV has no quoting; JSONL and JSON keep lines', async () => {
  const t = await readDataset(file('a.tsv', 'sentence\tlabel\nit\'s "great\t1\n'), {
    textColumn: 'sentence',
    labelColumn: 'label',
  });
  assert.deepEqual(t.rows, [{ text: 'it\'s "great', label: '1', line: 2 }]);
  assert.deepEqual(await readHeader(path.join(dir, 'a.tsv')), ['sentence', 'label']);

  const j = await readDataset(file('a.jsonl', '{"text":"x","label":1}\n\n{"text":"y","label":0}\n'), {
    textColumn: 'text',
    labelColumn: 'label',
  });
  assert.deepEqual(j.rows, [
    { text: 'x', label: '1', line: 1 },
    { text: 'y', label: '0', line: 3 },
  ]);
  assert.deepEqual(await readHeader(path.join(dir, 'a.jsonl')), ['text', 'label']);
  await assert.rejects(
    readDataset(file('bad.jsonl', '{"text":"x"}\n{"text":\n'), { textColumn: 'text' }),
    fails('data-bad-json', 2),
  );

  const arr = await readDataset(
    file('a.json', '[\n  {"text": "a {[", "label": "x"},\n  {\n    "text": "b", "label": "y"}\n]'),
    { textColumn: 'text', labelColumn: 'label' },
  );
  assert.deepEqual(
    arr.rows.map((r) => r.line),
    [2, 3],
  );
  const nested = await readDataset(
    file(
      'b.json',
      '{"version": 1, "meta": {"a": [{"x": 1}]},\n "data": [\n{"text": "a", "label": "x"},\n{"text": "b", "label": "y"}]}',
    ),
    { textColumn: 'text', labelColumn: 'label' },
  );
  assert.deepEqual(
    nested.rows.map((r) => [r.text, r.line]),
    [
      ['a', 3],
      ['b', 4],
    ],
  );
  assert.deepEqual(await readHeader(path.join(dir, 'b.json')), ['text', 'label']);
});

test('a missing column lists the columns and guesses', async () => {
  const p = file('m.csv', 'Text,label\na,1\n');
  await assert.rejects(
    readDataset(p, { textColumn: 'text' }),
    fails('data-missing-column', 1, /did you mean 'Text'\?[\s\S]*'Text', 'label'/),
  );
  await assert.rejects(readDataset(p, { textColumn: 'Text', labelColumn: 'category' }), (e: unknown) => {
    assert.ok(e instanceof FineTuneError);
    assert.doesNotMatch(e.message, /did you mean/);
    const text = formatUserError(e.toUserError());
    assert.ok(text.startsWith(`${p}:1: error: there is no column 'category' [data-missing-column]`), text);
    assert.match(text, /\n  fix: /);
    return true;
  });
  // JSONL rows may lack a key the first row had.
  await assert.rejects(
    readDataset(file('m.jsonl', '{"text":"a","label":1}\n{"txt":"b","label":1}\n'), { textColumn: 'text' }),
    fails('data-missing-column', 2),
  );
});

test('empty texts are skipped and counted; missing labels are errors with lines', async () => {
  const d = await readDataset(file('e.csv', 'text,label\n,1\nok,1\n   ,2\n'), {
    textColumn: 'text',
    labelColumn: 'label',
  });
  assert.equal(d.rows.length, 1);
  assert.deepEqual(
    d.skipped.map((s) => s.line),
    [2, 4],
  );
  assert.equal(d.warnings[0]?.code, 'data-empty-text');
  assert.match(d.warnings[0]?.message ?? '', /skipped 2 rows/);
  await assert.rejects(
    readDataset(file('l.csv', 'text,label\na,1\nb,\nc,\n'), { textColumn: 'text', labelColumn: 'label' }),
    fails('data-missing-label', 3, /and 1 more: lines 4/),
  );
  await assert.rejects(readDataset(file('n.csv', 'text,label\n,1\n'), { textColumn: 'text' }), fails('data-empty'));
});

test('non-UTF-8 bytes are reported with their line', async () => {
  const bytes = new Uint8Array([
    ...new TextEncoder().encode('text,label\nok,1\ncaf'),
    0xe9,
    ...new TextEncoder().encode(',2\n'),
  ]);
  await assert.rejects(readDataset(file('latin1.csv', bytes), { textColumn: 'text' }), (e: unknown) => {
    assert.ok(e instanceof FineTuneError && e.code === 'data-not-utf8');
    assert.equal(e.line, 3);
    assert.equal(e.column, 4);
    return true;
  });
  await assert.rejects(readDataset(path.join(dir, 'none.csv'), { textColumn: 'text' }), fails('data-not-found'));
});

test('label maps: integers numerically, strings alphabetically, unknown labels name the line', () => {
  assert.deepEqual(buildLabelMap(['10', '2', '0', '2']).labels, ['0', '2', '10']);
  const m = buildLabelMap(['neg', 'pos', 'Neutral', 'neg']);
  assert.deepEqual(m.labels, ['Neutral', 'neg', 'pos']);
  assert.deepEqual(
    [...m.label2id],
    [
      ['Neutral', 0],
      ['neg', 1],
      ['pos', 2],
    ],
  );
  assert.deepEqual([...encodeLabels([{ text: 'a', label: 'pos', line: 2 }], m, 'v.csv')], [2]);
  assert.throws(
    () => encodeLabels([{ text: 'a', label: 'postive', line: 7 }], m, 'v.csv'),
    (e: unknown) => {
      assert.ok(e instanceof FineTuneError && e.code === 'data-unknown-label' && e.line === 7 && e.file === 'v.csv');
      assert.match(e.message, /'postive'/);
      return true;
    },
  );
});

test('split is stratified and reproducible', () => {
  const rows = Array.from({ length: 1000 }, (_, i) => ({
    text: `t${i}`,
    label: i % 10 === 0 ? 'rare' : 'common',
    line: i + 2,
  }));
  const a = splitTrainValidation(rows, 0.2, 42);
  const b = splitTrainValidation(rows, 0.2, 42);
  const c = splitTrainValidation(rows, 0.2, 43);
  assert.deepEqual(
    a.validation.map((r) => r.line),
    b.validation.map((r) => r.line),
  );
  assert.notDeepEqual(
    a.validation.map((r) => r.line),
    c.validation.map((r) => r.line),
  );
  assert.equal(a.validation.length, 200);
  assert.equal(a.validation.filter((r) => r.label === 'rare').length, 20);
  assert.equal(a.train.length + a.validation.length, 1000);
  assert.equal(new Set([...a.train, ...a.validation]).size, 1000);
  // File order is kept within each part.
  assert.ok(a.train.every((r, i) => i === 0 || (a.train[i - 1]?.line ?? 0) < r.line));
  // A label with two rows still gets one into validation; with one row, none.
  const tiny = splitTrainValidation([{ label: 'x' }, { label: 'x' }, { label: 'y' }], 0.1, 1);
  assert.deepEqual(tiny.validation, [{ label: 'x' }]);
});

test('mulberry32 is deterministic and shuffle is a permutation', () => {
  const r1 = mulberry32(7);
  const r2 = mulberry32(7);
  const xs = Array.from({ length: 5 }, () => r1());
  assert.deepEqual(
    xs,
    Array.from({ length: 5 }, () => r2()),
  );
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const arr = shuffleInPlace(
    Array.from({ length: 100 }, (_, i) => i),
    mulberry32(1),
  );
  assert.deepEqual(
    [...arr].sort((a, b) => a - b),
    Array.from({ length: 100 }, (_, i) => i),
  );
});
