/**
 * Issue 17, item 5: `npm run demo -- --task mrpc` draws the sample-efficiency curve for a Hub data set. Against the
 * fake Hub (google-bert/bert-base-uncased served as a tiny BERT, nyu-mll/glue as tiny MRPC-shaped Parquet files),
 * the quick demo reads the data set through the engine's loader once, writes the curve's pair subsets with the
 * data set's class ids, trains on them, reports the curve, and runs again offline from the cache.
 */
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { hubTestbed } from '../fixtures/hubTestbed';
import { glueParquet, type PairRow } from '../fixtures/parquetFixtures';
import { readDataset } from '../../files/data/readDataset';
import { readManifest } from '../../scripts/demo/report';
import { wasmBackend } from './engineRunner';
import { tinyBertFiles } from './tinyHubBert';

const bed = hubTestbed('demo-hub-curve-');
before(async () => {
  await wasmBackend();
});
const root = path.resolve(import.meta.dirname, '..', '..');
const WORDS = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'dog', 'ran'];

/** Pairs with distinct texts (the digits of `from + i` in base 8), a third of them paraphrases (label 1). */
function distinctPairs(n: number, from: number): PairRow[] {
  return Array.from({ length: n }, (_, i) => {
    const k = from + i;
    const [a, b, c] = [k % 8, Math.floor(k / 8) % 8, Math.floor(k / 64) % 8].map((d) => WORDS[d] as string);
    return { sentence1: `${a} ${b} ${c}`, sentence2: `${c} ${a}`, label: k % 3 === 0 ? 1 : 0 };
  });
}

const TRAIN = distinctPairs(48, 0);
const VALIDATION = distinctPairs(12, 100);

function runDemo(out: string, args: string[]): Promise<{ code: number | null; output: string }> {
  const argv = ['--import', 'tsx', path.join(root, 'scripts', 'demo', 'runDemo.ts'), '--out', out, ...args];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { cwd: root, env: { ...process.env, CI: '1' } });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

const QUICK = ['--model', 'google-bert/bert-base-uncased', '--task', 'mrpc', '--quick', '--quick-steps', '4'];

/** Each (sentence1, sentence2) of a written split file with its label, read by the engine's own CSV reader. */
async function pairsOf(file: string): Promise<string[]> {
  const ds = await readDataset(file, { textColumn: 'sentence1', textPairColumn: 'sentence2', labelColumn: 'label' });
  return ds.rows.map((r) => `${r.text} | ${r.textPair} -> ${r.label}`);
}
const expected = (rows: readonly PairRow[]) => rows.map((r) => `${r.sentence1} | ${r.sentence2} -> ${r.label}`);

async function configOf(out: string, name: string): Promise<{ data: Record<string, unknown> }> {
  return parse(await fs.readFile(path.join(out, 'configs', `${name}.finetune.yaml`), 'utf8')) as {
    data: Record<string, unknown>;
  };
}

test(
  '--task mrpc --quick draws the curve from the Hub data set, read once, then again offline',
  { timeout: 10 * 60_000 },
  async () => {
    bed.hub.addRepo('google-bert/bert-base-uncased', await tinyBertFiles(path.join(bed.sb.root, 'tiny-bert')));
    bed.hub.addDataset('nyu-mll/glue', {
      'mrpc/train/0000.parquet': glueParquet(TRAIN),
      'mrpc/validation/0000.parquet': glueParquet(VALIDATION),
      'mrpc/test/0000.parquet': glueParquet(distinctPairs(6, 200).map((r) => ({ ...r, label: -1 }))),
    });
    const out = path.join(bed.sb.root, 'demo');
    const first = await runDemo(out, [...QUICK, '--variants', 'scratch,finetune', '--sizes', '12']);
    assert.equal(first.code, 0, first.output.slice(-3000));

    const manifest = await readManifest(out);
    assert.deepEqual(manifest.curve?.sizes, [12]);
    assert.equal(manifest.curve?.trainRows, 48, 'drawn from the train split as the engine reads it');
    const runs = manifest.runs.map((r) => `${r.variant}@${r.trainExamples ?? 'all'}`).sort();
    assert.deepEqual(runs, ['finetune@12', 'finetune@all', 'scratch@12', 'scratch@all']);
    const report = await fs.readFile(path.join(out, 'report.md'), 'utf8');
    assert.match(report, /^## Sample efficiency/m);
    for (const size of ['12', '48'])
      assert.match(
        report,
        new RegExp(`^\\| ${size} \\| \\d+\\.\\d ± \\d+\\.\\d \\(1\\) \\| \\d+\\.\\d ± \\d+\\.\\d \\(1\\) \\|`, 'm'),
      );

    assert.match(
      report,
      /the model at the end of training is scored, as in the comparison above/,
      'MRPC keeps the last model',
    );

    // The subset: 12 of the train split's pairs, each with its own class id, stratified (4 of 12 are paraphrases).
    const subset = await pairsOf(path.join(out, 'data', 'train-12.csv'));
    assert.equal(subset.length, 12);
    const train = new Set(expected(TRAIN));
    for (const row of subset) assert.ok(train.has(row), `a train pair with its label: ${row}`);
    assert.equal(subset.filter((r) => r.endsWith('-> 1')).length, 4);
    // Its runs score exactly the examples the full-split runs score (MRPC's test split is its validation split).
    assert.deepEqual(await pairsOf(path.join(out, 'data', 'validation.csv')), expected(VALIDATION));
    assert.deepEqual(await pairsOf(path.join(out, 'data', 'test.csv')), expected(VALIDATION));
    const curveRun = (await configOf(out, 'finetune-n12-seed1')).data;
    assert.equal(curveRun.train_file, path.join(out, 'data', 'train-12.csv'));
    assert.equal(curveRun.validation_file, path.join(out, 'data', 'validation.csv'));
    assert.equal(curveRun.dataset_name, undefined, 'a curve run reads files, not the data set');
    const fullRun = (await configOf(out, 'finetune-seed1')).data;
    assert.deepEqual([fullRun.dataset_name, fullRun.train_file], ['nyu-mll/glue', undefined]);

    // The demo fetched the model and the data set once, before the runs; its four runs found both in the cache.
    const requests = bed.hub.requests.map((r) => `${r.method} ${r.url}`);
    assert.equal(new Set(requests).size, requests.length, `no request twice: ${requests.join(', ')}`);
    const parquet = requests.filter((r) => /^GET \/cdn\/.*\.parquet$/.test(r));
    assert.equal(parquet.length, 2, 'the train and validation files (the test split is not read)');
    assert.equal(bed.hub.count(/^\/api\/datasets\/nyu-mll\/glue\/revision\//), 1, 'one look at the Hub');

    // Offline, from the cache: the same curve, and not one request.
    const before = bed.hub.requests.length;
    process.env.HF_HUB_OFFLINE = '1';
    const offline = path.join(bed.sb.root, 'demo-offline');
    const second = await runDemo(offline, [...QUICK, '--variants', 'finetune', '--sizes', '12']);
    assert.equal(second.code, 0, second.output.slice(-3000));
    assert.deepEqual((await readManifest(offline)).curve?.sizes, [12]);
    const alone = await fs.readFile(path.join(offline, 'report.md'), 'utf8');
    assert.match(alone, /^\| 12 \| n\/a \| \d+\.\d ± \d+\.\d \(1\) \| n\/a \| n\/a \|$/m, 'one arm: no gain to state');
    assert.doesNotMatch(alone, /Fine-tuning is clearly ahead/);
    assert.deepEqual(await pairsOf(path.join(offline, 'data', 'train-12.csv')), subset, 'the same subset (seed 42)');
    assert.equal(bed.hub.requests.length, before, 'offline: no request');
  },
);
