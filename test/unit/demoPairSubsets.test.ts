/**
 * The curve's data for a pair task (issue 17, MRPC): subset files with both texts, read back by the engine's CSV
 * reader; a size too small to hold every label left out with the reason; the split checks keyed on the pair.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { readDataset } from '../../files/data/readDataset';
import { writeSubsets, type LabelledRow } from '../../scripts/demo/demoData';
import { checkSplits } from '../../scripts/demo/splitData';
import { findTask } from '../../scripts/demo/tasks';

const mrpc = findTask('mrpc');

/** `n` pairs, every tenth a paraphrase ('1'); texts with commas and quotes, as MRPC's news sentences have. */
function pairs(n: number): LabelledRow[] {
  return Array.from({ length: n }, (_, i) => ({
    text: `Sentence ${i}, "quoted"`,
    pair: `Its pair ${i}`,
    label: i % 10 === 3 ? '1' : '0',
    source: '',
  }));
}

test('pair subsets hold both texts and the label, and a size without every label is left out, saying why', async () => {
  const out = await fs.mkdtemp(path.join(os.tmpdir(), 'demo-pairs-'));
  try {
    const train = pairs(100);
    const logged: string[] = [];
    const written = await writeSubsets(train, [5, 40], 42, mrpc, out, (s) => logged.push(s));
    assert.deepEqual(
      written.map((w) => w.size),
      [40],
    );
    assert.equal(logged.length, 1);
    assert.match(logged[0]!, /no point at 5 examples: too few to hold every label \(none with '1'\)/);
    const header = (await fs.readFile(written[0]!.file, 'utf8')).split('\n')[0];
    assert.equal(header, 'sentence1,sentence2,label');
    const ds = await readDataset(written[0]!.file, {
      textColumn: 'sentence1',
      textPairColumn: 'sentence2',
      labelColumn: 'label',
    });
    assert.equal(ds.rows.length, 40);
    const byText = new Map(train.map((r) => [r.text, r]));
    for (const r of ds.rows) {
      const source = byText.get(r.text);
      assert.ok(source, `a train row: ${r.text}`);
      assert.deepEqual([r.textPair, r.label], [source.pair, source.label]);
    }
    assert.equal(ds.rows.filter((r) => r.label === '1').length, 4, 'stratified: a tenth are paraphrases');
  } finally {
    await fs.rm(out, { recursive: true, force: true });
  }
});

test('the split checks take a pair as one example: the same first sentence with another second is no duplicate', () => {
  const row = (text: string, pair: string) => ({ text, pair, label: '0' });
  const { splits, problems } = checkSplits({
    train: [row('A cat sat.', 'It sat.')],
    validation: [row('A cat sat.', 'It ran.'), row('a  cat sat.', 'it sat.')],
    test: [],
  });
  assert.deepEqual(
    splits.validation.map((r) => r.pair),
    ['It ran.'],
  );
  assert.deepEqual(
    problems.map((p) => [p.code, p.split, p.count]),
    [['split-duplicate-across', 'validation', 1]],
  );
});
