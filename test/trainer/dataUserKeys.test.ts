/**
 * Issue 13, defect 2: labels and column names are the user's text, so names of Object.prototype members
 * (`constructor`, `__proto__`, `toString`) must behave like any other name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FineTuneError } from '../../common/errors';
import { classificationMetrics } from '../../common/metrics';
import { readDataset } from '../../files/data/readDataset';
import { readSample, summarizeSample } from '../../files/data/sample';
import { id2labelList } from '../../files/hf/bertConfig';
import { buildLabelMap, encodeLabels } from '../../trainer/data/labels';
import { chooseLabels } from '../../trainer/engine/setup';

const dir = mkdtempSync(path.join(tmpdir(), 'data-keys-'));
function file(name: string, content: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}
const row = (label: string, line = 2) => ({ text: 'x', label, line });

test('a validation label `constructor` that training never saw is an unknown label, not class 0', () => {
  const map = buildLabelMap(['neg', 'pos']);
  for (const label of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
    assert.throws(
      () => encodeLabels([row(label, 9)], map, 'val.csv'),
      (e: unknown) => e instanceof FineTuneError && e.code === 'data-unknown-label' && e.line === 9,
      label,
    );
  }
});

test('training rows labelled `__proto__` or `constructor` get classes of their own', () => {
  const rows = [row('__proto__'), row('A'), row('constructor'), row('__proto__')];
  const map = buildLabelMap(rows.map((r) => r.label));
  assert.deepEqual(map.labels, ['A', '__proto__', 'constructor']);
  assert.deepEqual([...encodeLabels(rows, map, 'train.csv')], [1, 0, 2, 1]);
  assert.equal(map.label2id.get('__proto__'), 1);
  assert.equal(map.label2id.get('toString'), undefined);
});

test('a `__proto__` header column is read as a column, in CSV, TSV, JSONL and JSON', async () => {
  const want = [
    ['hello', 'pos'],
    ['world', 'neg'],
  ];
  const files = [
    file('p.csv', '__proto__,label\nhello,pos\nworld,neg\n'),
    file('p.tsv', '__proto__\tlabel\nhello\tpos\nworld\tneg\n'),
    file('p.jsonl', '{"__proto__":"hello","label":"pos"}\n{"__proto__":"world","label":"neg"}\n'),
    file('p.json', '[{"__proto__":"hello","label":"pos"},{"__proto__":"world","label":"neg"}]'),
  ];
  for (const f of files) {
    const d = await readDataset(f, { textColumn: '__proto__', labelColumn: 'label' });
    assert.deepEqual(d.columns, ['__proto__', 'label'], f);
    assert.deepEqual(
      d.rows.map((r) => [r.text, r.label]),
      want,
      f,
    );
  }
  const labelled = await readDataset(file('l.csv', 'text,constructor\nhello,toString\nworld,__proto__\n'), {
    textColumn: 'text',
    labelColumn: 'constructor',
  });
  assert.deepEqual(
    labelled.rows.map((r) => r.label),
    ['toString', '__proto__'],
  );
});

test('a JSONL column named `toString` missing from a row is a missing-column error on that line', async () => {
  const p = file('t.jsonl', '{"toString":"a","label":1}\n{"label":2}\n');
  await assert.rejects(readDataset(p, { textColumn: 'toString', labelColumn: 'label' }), (e: unknown) => {
    assert.ok(e instanceof FineTuneError, String(e));
    assert.equal(e.code, 'data-missing-column');
    assert.equal(e.line, 2);
    return true;
  });
  // Not in the file at all: the column list says so, rather than finding Object.prototype.toString.
  await assert.rejects(
    readDataset(file('u.jsonl', '{"text":"a","label":1}\n'), { textColumn: 'text', labelColumn: 'constructor' }),
    (e: unknown) => e instanceof FineTuneError && e.code === 'data-missing-column' && e.line === 1,
  );
});

test("the server's label sample counts `__proto__` and `constructor` columns like any other", async () => {
  const p = file('s.csv', 'text,__proto__,constructor\na,x,1\nb,y,1\nc,x,1\n');
  const s = summarizeSample(await readSample(p));
  assert.deepEqual(s.columns.get('__proto__'), { distinct: 2, examples: ['x', 'y'] });
  assert.deepEqual(s.columns.get('constructor'), { distinct: 1, examples: ['1'] });
  assert.equal(s.columns.get('toString'), undefined);
});

test("config.json's id2label is read as data: prototype names are labels, bad keys are clear errors", () => {
  const parsed = JSON.parse('{"id2label": {"1": "__proto__", "0": "constructor"}}') as { id2label: unknown };
  assert.deepEqual(id2labelList(parsed, 'config.json'), ['constructor', '__proto__']);
  const bad = [
    '{"id2label": {"0": "a", "__proto__": "b"}}',
    '{"id2label": {"0": "a", "2": "b"}}',
    '{"id2label": {"0": "a", "01": "b"}}',
    '{"id2label": {"0": "a", "1": "a"}}',
    '{"id2label": {"0": 5}}',
    '{"id2label": ["a", "b"]}',
  ];
  for (const text of bad) {
    assert.throws(
      () => id2labelList(JSON.parse(text) as { id2label: unknown }, 'm/config.json'),
      (e: unknown) => e instanceof FineTuneError && e.code === 'model-bad-config' && /id2label/.test(e.message),
      text,
    );
  }
  // A run reuses a pre-trained head only when its labels are the data's; prototype names included.
  const rows = [row('constructor'), row('__proto__')];
  const pretrained = JSON.parse('{"0": "__proto__", "1": "constructor"}') as Record<string, string>;
  assert.deepEqual(chooseLabels(rows, pretrained).labels, ['__proto__', 'constructor']);
});

test('per-class metrics keep labels named like prototype members', () => {
  const m = classificationMetrics([0, 1, 1], [0, 1, 0], ['__proto__', 'constructor']);
  assert.deepEqual(
    m.perClass.map((p) => [p.label, p.support]),
    [
      ['__proto__', 1],
      ['constructor', 2],
    ],
  );
});
