/**
 * Issue 13, defects 3 and 7 (the trainer's side): what a data path points at, and file shapes that used to be
 * read wrongly — CR-only line endings, a repeated header name, an empty JSONL file, a file too large to hold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FineTuneError } from '../../common/errors';
import { readDataset } from '../../files/data/readDataset';
import { readHeader } from '../../files/data/sample';

const dir = mkdtempSync(path.join(tmpdir(), 'data-shapes-'));
function file(name: string, content: string | Uint8Array): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}
function fails(code: string, message?: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof FineTuneError, String(e));
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  };
}
const opts = { textColumn: 'text', labelColumn: 'label' };

test('a symlink to /dev/zero, a FIFO or a folder is refused at once, naming what it is', async () => {
  const zero = path.join(dir, 'zero.csv');
  symlinkSync('/dev/zero', zero);
  const fifo = path.join(dir, 'pipe.csv');
  execFileSync('mkfifo', [fifo]);
  const t0 = performance.now();
  await assert.rejects(readDataset(zero, opts), fails('data-not-a-file', /zero\.csv is a device/));
  // Opening a FIFO with no writer would block for good; it must not even be opened in blocking mode.
  await assert.rejects(readDataset(fifo, opts), fails('data-not-a-file', /pipe\.csv is a named pipe/));
  await assert.rejects(readDataset(dir + '/', { ...opts, format: 'csv' }), fails('data-not-a-file', /is a folder/));
  await assert.rejects(readHeader(zero), fails('data-not-a-file'));
  await assert.rejects(readHeader(fifo), fails('data-not-a-file'));
  assert.ok(performance.now() - t0 < 1000, 'refusals are immediate');
});

test('a file over the size limit is refused with the sizes and a fix, before it is read', async () => {
  const p = file('big.csv', 'text,label\n' + 'some text,pos\n'.repeat(100_000));
  await assert.rejects(readDataset(p, { ...opts, maxBytes: 1024 * 1024 }), (e: unknown) => {
    assert.ok(e instanceof FineTuneError && e.code === 'data-too-large');
    assert.match(e.message, /big\.csv is 1\.3 MiB, over the 1\.0 MiB a data file may have/);
    assert.match(e.fix ?? '', /Split the file/);
    return true;
  });
  assert.equal((await readDataset(p, opts)).rows.length, 100_000);
});

test('CR-only line endings are line breaks, in CSV, TSV and JSONL, with editor line numbers', async () => {
  const csv = await readDataset(file('cr.csv', 'text,label\r"two\rlines",a\rb,b\r'), opts);
  assert.deepEqual(csv.columns, ['text', 'label']);
  assert.deepEqual(
    csv.rows.map((r) => [r.text, r.label, r.line]),
    [
      ['two\rlines', 'a', 2],
      ['b', 'b', 4],
    ],
  );
  const tsv = await readDataset(file('cr.tsv', 'text\tlabel\ra\tx\rb\ty'), opts);
  assert.deepEqual(
    tsv.rows.map((r) => [r.text, r.label, r.line]),
    [
      ['a', 'x', 2],
      ['b', 'y', 3],
    ],
  );
  const jsonl = await readDataset(file('cr.jsonl', '{"text":"a","label":"x"}\r{"text":"b","label":"y"}\r'), opts);
  assert.deepEqual(
    jsonl.rows.map((r) => [r.text, r.line]),
    [
      ['a', 1],
      ['b', 2],
    ],
  );
  assert.deepEqual(await readHeader(path.join(dir, 'cr.csv')), ['text', 'label']);
  // The old reader saw one long line and suggested the column 'labela'.
  await assert.rejects(
    readDataset(file('cr2.csv', 'text,label\ra,1\r'), { textColumn: 'text', labelColumn: 'lbl' }),
    (e: unknown) => {
      assert.ok(e instanceof FineTuneError && e.code === 'data-missing-column');
      assert.match(e.detail ?? '', /Columns in cr2\.csv: 'text', 'label'\./);
      return true;
    },
  );
});

test('a repeated header name reads the first column of that name, with a warning', async () => {
  const d = await readDataset(file('dup.csv', 'text,label,label\nhello,first,second\n'), opts);
  assert.deepEqual(
    d.rows.map((r) => r.label),
    ['first'],
  );
  assert.equal(d.warnings.length, 1);
  const w = d.warnings[0]!;
  assert.equal(w.code, 'data-duplicate-column');
  assert.equal(w.line, 1);
  assert.match(w.message, /names 'label' 2 times \(columns 2, 3\); column 2 is read/);
  // An unused repeated column reads fine, without a warning.
  const quiet = await readDataset(file('dup2.csv', 'x,text,x,label\n1,a,2,pos\n'), opts);
  assert.deepEqual(quiet.warnings, []);
  assert.deepEqual(await readHeader(path.join(dir, 'dup.csv')), ['text', 'label', 'label']);
});

test('an empty file is said to be empty, not to lack the text column', async () => {
  for (const [name, content] of [
    ['empty.jsonl', ''],
    ['blank.jsonl', '\n\n  \n'],
    ['empty.csv', ''],
    ['bom.csv', '\ufeff\n'],
    ['empty.tsv', '\r\n'],
  ] as const) {
    const p = file(name, content);
    await assert.rejects(
      readDataset(p, opts),
      fails('data-empty', new RegExp(`${name.replace('.', '\\.')} is empty`)),
      name,
    );
    await assert.rejects(readHeader(p), fails('data-empty'), name);
  }
  await assert.rejects(readDataset(file('zero.json', '[]'), opts), fails('data-empty', /is empty/));
});

test('a list or object where text is expected is a clear error, even nested 100,000 deep', async () => {
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  const p = file('deep.jsonl', `{"text":"ok","label":"a"}\n{"text":${deep},"label":"b"}\n`);
  await assert.rejects(readDataset(p, opts), (e: unknown) => {
    assert.ok(e instanceof FineTuneError && e.code === 'data-bad-value', String(e));
    assert.equal(e.line, 2);
    assert.match(e.message, /'text' holds a list, not text/);
    return true;
  });
});
