import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { readDataset } from '../../files/data/readDataset';
import { toCsv } from '../../scripts/demo/csvFile';
import { prepareData, readFixture } from '../../scripts/demo/prepareData';
import {
  checkSplits,
  cleanRows,
  countBy,
  normaliseText,
  SPLIT_NAMES,
  stratifiedSplit,
  type LabelledText,
} from '../../scripts/demo/splitData';

/** A synthetic set: 3 sources x 2 labels with uneven sizes, every text distinct. */
function synthetic(): LabelledText[] {
  const rows: LabelledText[] = [];
  const sizes: Record<string, number> = { amazon: 103, imdb: 61, yelp: 40 };
  for (const [source, n] of Object.entries(sizes)) {
    for (let i = 0; i < n; i++)
      rows.push({
        text: `${source} sentence ${i} is ${i % 3 ? 'good' : 'bad'}`,
        label: i % 4 === 0 ? 'negative' : 'positive',
        source,
      });
  }
  return rows;
}

test('the split is stratified by label and source, with the asked proportions', () => {
  const rows = synthetic();
  const s = stratifiedSplit(rows, { train: 0.7, validation: 0.1, test: 0.2 }, 7);
  assert.equal(s.train.length + s.validation.length + s.test.length, rows.length);
  const strata = countBy(rows, (r) => `${r.label}/${r.source}`);
  for (const [stratum, n] of Object.entries(strata)) {
    for (const [name, ratio] of [
      ['train', 0.7],
      ['validation', 0.1],
      ['test', 0.2],
    ] as const) {
      const got = s[name].filter((r) => `${r.label}/${r.source}` === stratum).length;
      assert.ok(Math.abs(got - n * ratio) <= 1, `${stratum} in ${name}: ${got} for ${n} x ${ratio}`);
    }
  }
});

test('the split is reproducible from the seed, independent of input order, and changes with the seed', () => {
  const rows = synthetic();
  const a = stratifiedSplit(rows, { train: 0.7, validation: 0.1, test: 0.2 }, 42);
  const b = stratifiedSplit(rows, { train: 0.7, validation: 0.1, test: 0.2 }, 42);
  assert.deepEqual(a, b);
  const c = stratifiedSplit(rows, { train: 0.7, validation: 0.1, test: 0.2 }, 43);
  assert.notDeepEqual(new Set(a.test.map((r) => r.text)), new Set(c.test.map((r) => r.text)));
  // Moving a whole label's rows to the front (as another export might) keeps each row in the same split.
  const reordered = [...rows.filter((r) => r.label === 'positive'), ...rows.filter((r) => r.label === 'negative')];
  const d = stratifiedSplit(reordered, { train: 0.7, validation: 0.1, test: 0.2 }, 42);
  for (const name of SPLIT_NAMES)
    assert.deepEqual(new Set(d[name].map((r) => r.text)), new Set(a[name].map((r) => r.text)));
});

test('cleaning drops empty, undecodable and duplicate texts, and both copies of a text with two labels', () => {
  const rows: LabelledText[] = [
    { text: 'Great phone.', label: 'positive', source: 'amazon' },
    { text: '  great   PHONE. ', label: 'positive', source: 'yelp' },
    { text: '', label: 'negative', source: 'amazon' },
    { text: '   ', label: 'negative', source: 'amazon' },
    { text: 'caf\ufffd was fine', label: 'positive', source: 'yelp' },
    { text: 'It is ok', label: 'positive', source: 'imdb' },
    { text: 'it is OK', label: 'negative', source: 'imdb' },
    { text: 'Terrible.', label: 'negative', source: 'imdb' },
  ];
  const { rows: kept, report } = cleanRows(rows);
  assert.deepEqual(
    kept.map((r) => r.text),
    ['Great phone.', 'Terrible.'],
  );
  assert.deepEqual(report, { input: 8, empty: 2, undecodable: 1, duplicates: 1, conflicting: 2, kept: 2 });
});

test('checkSplits drops cross-split duplicates and labels training never sees, with a message per kind', () => {
  const splits = {
    train: [
      { text: 'good', label: 'pos' },
      { text: 'bad', label: 'neg' },
    ],
    validation: [
      { text: 'GOOD', label: 'pos' },
      { text: 'fine', label: 'pos' },
    ],
    test: [
      { text: 'fine ', label: 'pos' },
      { text: 'meh', label: 'neutral' },
      { text: '', label: 'neg' },
      { text: 'awful', label: 'neg' },
    ],
  };
  const { splits: out, problems } = checkSplits(splits);
  assert.deepEqual(
    out.validation.map((r) => r.text),
    ['fine'],
  );
  assert.deepEqual(
    out.test.map((r) => r.text),
    ['awful'],
  );
  assert.deepEqual(
    problems.map((p) => [p.code, p.split, p.count]),
    [
      ['split-duplicate-across', 'validation', 1],
      ['split-empty-text', 'test', 1],
      ['split-duplicate-across', 'test', 1],
      ['split-label-unseen', 'test', 1],
    ],
  );
  assert.match(problems.find((p) => p.code === 'split-label-unseen')?.message ?? '', /label 'neutral'/);
});

test('prepareData writes disjoint CSV splits the trainer reads back, from fixture files with bad records', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'demo-data-'));
  try {
    const fixtures = path.join(dir, 'fixtures');
    await fs.mkdir(fixtures);
    for (const source of ['amazon', 'imdb', 'yelp']) {
      const records: unknown[] = [];
      for (let i = 0; i < 30; i++)
        records.push({ text: `The ${source} item ${i}, "quoted", was ${i % 2 ? 'great' : 'awful'}`, class: i % 2 });
      records.push({ text: `The ${source} item 3, "quoted", was great`, class: 1 }); // duplicate of item 3
      records.push({ text: '', class: null });
      // Latin-1 bytes inside a JSON string: not UTF-8.
      const json = Buffer.from(JSON.stringify(records).replace(/]$/, ',{"text":"caf\u0000","class":1}]'), 'utf8');
      const bad = Buffer.from(json);
      bad[bad.lastIndexOf(0x00)] = 0xe9;
      await fs.writeFile(
        path.join(fixtures, `${source}.json`),
        source === 'yelp' ? bad : Buffer.from(JSON.stringify(records)),
      );
    }
    const out = path.join(dir, 'out');
    const result = await prepareData(fixtures, out, 42);
    assert.match(result.lines.join('\n'), /dropped 0 empty, 1 with undecodable bytes, 3 exact duplicates/);
    const seen = new Map<string, string>();
    let total = 0;
    for (const name of SPLIT_NAMES) {
      const ds = await readDataset(path.join(out, `${name}.csv`), { textColumn: 'text', labelColumn: 'label' });
      assert.deepEqual(ds.columns, ['text', 'label', 'source']);
      total += ds.rows.length;
      for (const r of ds.rows) {
        const key = normaliseText(r.text);
        assert.ok(!seen.has(key), `"${r.text}" is in ${seen.get(key)} and ${name}`);
        seen.set(key, name);
      }
      assert.deepEqual(Object.keys(result.counts[name]?.byLabel ?? {}), ['negative', 'positive']);
    }
    assert.equal(total, 90);
    assert.ok(result.counts.test && result.counts.test.total >= 15 && result.counts.test.total <= 21);
    const again = path.join(dir, 'again');
    await prepareData(fixtures, again, 42);
    for (const name of SPLIT_NAMES)
      assert.equal(
        await fs.readFile(path.join(again, `${name}.csv`), 'utf8'),
        await fs.readFile(path.join(out, `${name}.csv`), 'utf8'),
      );
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a fixture that is not a JSON array is refused with the file name', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'demo-fixture-'));
  try {
    const file = path.join(dir, 'amazon.json');
    await fs.writeFile(file, '{"text": "x"}');
    await assert.rejects(
      readFixture(file, 'amazon'),
      (e: Error) => e.message.includes(file) && /JSON array/.test(e.message),
    );
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('the shipped split files are disjoint, balanced and keep the source mix', async () => {
  const root = path.resolve(import.meta.dirname, '..', '..');
  const seen = new Set<string>();
  const sizes: Record<string, number> = {};
  for (const name of SPLIT_NAMES) {
    const file = path.join(root, 'examples', 'sentiment', `${name}.csv`);
    const ds = await readDataset(file, { textColumn: 'text', labelColumn: 'label' });
    sizes[name] = ds.rows.length;
    const sources = countBy((await readDataset(file, { textColumn: 'source' })).rows, (r) => r.text);
    assert.deepEqual(Object.keys(sources), ['amazon', 'imdb', 'yelp']);
    for (const n of Object.values(sources))
      assert.ok(Math.abs(n / ds.rows.length - 1 / 3) < 0.01, `${name} sources ${JSON.stringify(sources)}`);
    const labels = countBy(ds.rows, (r) => r.label ?? '');
    assert.ok(
      Math.abs((labels.positive ?? 0) - (labels.negative ?? 0)) <= 3,
      `${name} labels ${JSON.stringify(labels)}`,
    );
    for (const r of ds.rows) {
      const key = normaliseText(r.text);
      assert.ok(!seen.has(key), `${name}: "${r.text}" also in an earlier split`);
      seen.add(key);
    }
  }
  const total = Object.values(sizes).reduce((a, b) => a + b, 0);
  assert.ok(total > 2900 && total <= 3000, `total ${total}`);
  assert.ok(Math.abs((sizes.test ?? 0) / total - 0.2) < 0.01);
  assert.equal(toCsv(['a'], [{ a: 'x,"y"' }]), 'a\n"x,""y"""\n');
});
