/**
 * Issue 17, item 3: `data.dataset_name` loads a Hub data set from its Parquet conversion through the models'
 * client, cache, token and offline rules. Against the fake Hub on 127.0.0.1, serving Parquet files written here.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { hubTestbed } from '../fixtures/hubTestbed';
import { glueParquet, mrpcFiles, pairRows } from '../fixtures/parquetFixtures';
import { listFiles } from '../fixtures/sandbox';
import { validateConfigText } from '../../common/config/validate';
import { FineTuneError } from '../../common/errors';
import { readRows, chooseLabels } from '../../trainer/engine/setup';
import { MAX_LIST_PAGES, nextLink } from '../../trainer/hf/hubClient';

const bed = hubTestbed('hub-ds-');
const sb = bed.sb;

function config(dataset: string, extra = '') {
  const r = validateConfigText(`mode: from-scratch
model:
  tokenizer: tok
  architecture: {hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64}
data:
  dataset_name: ${dataset}
  dataset_config_name: mrpc
  text_column: sentence1
  text_pair_column: sentence2
${extra}`);
  assert.deepEqual(
    r.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  return r.config;
}

function rejectsWith(code: string, pattern?: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof FineTuneError, String(e));
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(`${e.message} ${e.detail ?? ''} ${e.fix ?? ''}`, pattern);
    return true;
  };
}

const cacheDir = (id: string) => path.join(sb.hfHome, 'hub', `datasets--${id.replace('/', '--')}`);

test('the first run downloads the splits into datasets--org--name; ClassLabel names and ids come from the metadata', async () => {
  const sha = bed.hub.addDataset('glue-org/glue', mrpcFiles({ train: 12, validation: 4 }));
  const rows = await readRows(config('glue-org/glue'), sb.root);
  assert.equal(rows.train.length, 12);
  assert.equal(rows.validation.length, 4);
  assert.deepEqual(rows.labelNames, ['not_equivalent', 'equivalent']);
  assert.deepEqual(
    rows.train.slice(0, 2).map((r) => [r.text, r.textPair, r.label]),
    [
      ['the cat on', 'sat the', 'not_equivalent'],
      ['cat sat a', 'on cat', 'equivalent'],
    ],
  );
  // The dataset's ids: not_equivalent is 0 although 'equivalent' sorts first.
  assert.deepEqual(chooseLabels(rows.train, undefined, undefined, rows.labelNames).labels, [
    'not_equivalent',
    'equivalent',
  ]);
  // GLUE's test labels are -1: the test split is left out, with a word in the warnings.
  assert.equal(rows.test.length, 0);
  assert.match(rows.warnings.join('\n'), /test split .* has no labels/);
  const dir = cacheDir('glue-org/glue');
  assert.equal(readFileSync(path.join(dir, 'refs', 'refs', 'convert', 'parquet'), 'utf8'), sha);
  const cached = path.join(dir, 'snapshots', sha, 'mrpc', 'train', '0000.parquet');
  assert.deepEqual(
    new Uint8Array(readFileSync(cached)),
    bed.hub.file('datasets/glue-org/glue', 'mrpc/train/0000.parquet', 'refs/convert/parquet').data,
  );
  assert.equal(rows.files.train, cached);
});

test('a cached data set is used with no request at all, online or offline', async () => {
  bed.hub.addDataset('glue-org/cached', mrpcFiles());
  await readRows(config('glue-org/cached'), sb.root);
  const before = bed.hub.requests.length;
  assert.equal((await readRows(config('glue-org/cached'), sb.root)).train.length, 12);
  process.env.HF_HUB_OFFLINE = '1';
  assert.equal((await readRows(config('glue-org/cached'), sb.root)).validation.length, 4);
  delete process.env.HF_HUB_OFFLINE;
  process.env.HF_DATASETS_OFFLINE = '1';
  assert.equal((await readRows(config('glue-org/cached'), sb.root)).train.length, 12);
  assert.equal(bed.hub.requests.length, before, 'no request once the splits are cached');
});

test('offline without the data set in the cache: a clear error, and no request', async () => {
  bed.hub.addDataset('glue-org/uncached', mrpcFiles());
  for (const variable of ['HF_HUB_OFFLINE', 'HF_DATASETS_OFFLINE']) {
    process.env[variable] = '1';
    const before = bed.hub.requests.length;
    await assert.rejects(
      readRows(config('glue-org/uncached'), sb.root),
      rejectsWith('dataset-not-cached', /glue-org\/uncached.*mrpc.*train.*HF_DATASETS_OFFLINE/s),
    );
    assert.equal(bed.hub.requests.length, before);
    delete process.env[variable];
  }
});

test('a gated data set asks for a token and the licence; a private one without access reads as not found', async () => {
  bed.hub.addDataset('glue-org/gated', mrpcFiles(), { gated: true });
  await assert.rejects(
    readRows(config('glue-org/gated'), sb.root),
    rejectsWith('hub-gated', /gated data set.*HF_TOKEN/s),
  );
  bed.hub.grant('datasets/glue-org/gated', 'hf_good');
  process.env.HF_TOKEN = 'hf_good';
  assert.equal((await readRows(config('glue-org/gated'), sb.root)).train.length, 12);
  delete process.env.HF_TOKEN;
  bed.hub.addDataset('glue-org/private', mrpcFiles(), { private: true });
  await assert.rejects(
    readRows(config('glue-org/private'), sb.root),
    rejectsWith('dataset-not-found', /no data set 'glue-org\/private'.*dataset_name/s),
  );
});

test('a split or configuration the data set lacks is named, with the ones it has', async () => {
  bed.hub.addDataset('glue-org/splits', mrpcFiles());
  await assert.rejects(
    readRows(config('glue-org/splits', '  validation_split_name: dev\n'), sb.root),
    rejectsWith('dataset-split-not-found', /no split 'dev'; its splits: test, train, validation/),
  );
  const cola = config('glue-org/splits').data;
  await assert.rejects(
    readRows({ ...config('glue-org/splits'), data: { ...cola, dataset_config_name: 'cola' } }, sb.root),
    rejectsWith('dataset-config-not-found', /no configuration 'cola'.*Its configurations: mrpc/s),
  );
  // Without a validation split (and not named in the config), validation_split holds part of train out.
  bed.hub.addDataset('glue-org/train-only', { 'mrpc/train/0000.parquet': glueParquet(pairRows(20)) });
  const rows = await readRows(config('glue-org/train-only', '  validation_split: 0.25\n'), sb.root);
  assert.equal(rows.train.length + rows.validation.length, 20);
  assert.ok(rows.validation.length >= 4 && rows.validation.length <= 6, `${rows.validation.length} held out`);
});

test('older and push_to_hub layouts: <config>/<dataset>-<split>.parquet and sharded <split>-NNNNN-of-NNNNN', async () => {
  bed.hub.addDataset('glue-org/old', {
    'mrpc/old-train.parquet': glueParquet(pairRows(6)),
    'mrpc/old-validation.parquet': glueParquet(pairRows(2)),
  });
  assert.equal((await readRows(config('glue-org/old'), sb.root)).validation.length, 2);
  bed.hub.addDataset(
    'glue-org/sharded',
    {
      'mrpc/train-00000-of-00002.parquet': glueParquet(pairRows(5)),
      'mrpc/train-00001-of-00002.parquet': glueParquet(pairRows(3, 1)),
    },
    {},
    'main',
  );
  const rows = await readRows(config('glue-org/sharded', '  revision: main\n'), sb.root);
  assert.equal(rows.train.length, 8);
  assert.deepEqual(
    rows.train.slice(5).map((r) => r.label),
    ['equivalent', 'equivalent', 'equivalent'],
  );
});

test('a hostile file name in the listing is refused before anything is downloaded or written outside the cache', async () => {
  bed.hub.addDataset('glue-org/hostile', mrpcFiles());
  const outside = listFiles(sb.root, [path.join(sb.hfHome, 'hub')]);
  for (const evil of [
    'mrpc/../../../../../../.bashrc',
    '/etc/passwd',
    'mrpc/train/..\\..\\x.parquet',
    'mrpc/train/a\u0000.parquet',
  ]) {
    bed.hub.intercept = (req, res) => {
      if (!req.url?.includes('/tree/')) return false;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify([{ type: 'file', path: evil, size: 10, oid: 'x' }]));
      return true;
    };
    const before = bed.hub.count(/\/resolve\//);
    await assert.rejects(readRows(config('glue-org/hostile'), sb.root), rejectsWith('unsafe-file-name'));
    assert.equal(bed.hub.count(/\/resolve\//), before, `nothing fetched after ${JSON.stringify(evil)}`);
  }
  assert.deepEqual(listFiles(sb.root, [path.join(sb.hfHome, 'hub')]), outside);
  assert.equal(existsSync(path.join(cacheDir('glue-org/hostile'), 'refs')), false, 'no ref: nothing complete');
});

test('a missing text column is named with the columns the split has', async () => {
  bed.hub.addDataset('glue-org/columns', mrpcFiles());
  const c = config('glue-org/columns');
  await assert.rejects(
    readRows({ ...c, data: { ...c.data, text_column: 'sentence' } }, sb.root),
    rejectsWith('data-missing-column', /no column 'sentence'; did you mean 'sentence1'/),
  );
});

test('a listing the Hub pages is followed through every Link rel="next", with the token, on the Hub\'s host', async () => {
  const shards = Array.from({ length: 5 }, (_, i) => i);
  const files: Record<string, Uint8Array> = { 'mrpc/validation/0000.parquet': glueParquet(pairRows(4)) };
  for (const i of shards) files[`mrpc/train/000${i}.parquet`] = glueParquet(pairRows(3, i % 2));
  bed.hub.addDataset('glue-org/paged', files, { private: true });
  bed.hub.grant('datasets/glue-org/paged', 'hf_paged');
  process.env.HF_TOKEN = 'hf_paged';
  bed.hub.treePageSize = 2;
  const rows = await readRows(config('glue-org/paged'), sb.root);
  // Six files in pages of two: three pages, every shard read (the first page alone holds two of the five).
  assert.equal(bed.hub.count(/glue-org\/paged\/tree\//), 3);
  assert.equal(bed.hub.count(/glue-org\/paged\/tree\/.*cursor=/), 2);
  assert.equal(rows.train.length, 15);
  assert.equal(rows.validation.length, 4);
  const pages = bed.hub.requests.filter((r) => r.url.includes('glue-org/paged/tree/'));
  assert.ok(
    pages.every((r) => r.authorization === 'Bearer hf_paged'),
    'each page is asked with the token',
  );
});

test('a listing that pages on without end stops at the page limit with an error that says so', async () => {
  bed.hub.addDataset('glue-org/endless', mrpcFiles());
  let served = 0;
  bed.hub.intercept = (req, res) => {
    if (!req.url?.includes('/tree/')) return false;
    served++;
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Link', `<${bed.hub.endpoint}${req.url.split('?')[0]}?recursive=true&cursor=${served}>; rel="next"`);
    res.end(JSON.stringify([]));
    return true;
  };
  await assert.rejects(
    readRows(config('glue-org/endless'), sb.root),
    rejectsWith('hub-list-too-long', new RegExp(`past ${MAX_LIST_PAGES} pages`)),
  );
  assert.equal(served, MAX_LIST_PAGES);
});

test('a next page on another host is refused: the listing and the token stay on the Hub', async () => {
  bed.hub.addDataset('glue-org/elsewhere', mrpcFiles());
  bed.hub.intercept = (req, res) => {
    if (!req.url?.includes('/tree/')) return false;
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Link', `<${bed.hub.cdnEndpoint}/api/next?cursor=1>; rel="next"`);
    res.end(JSON.stringify([]));
    return true;
  };
  const before = bed.hub.requests.length;
  await assert.rejects(
    readRows(config('glue-org/elsewhere'), sb.root),
    rejectsWith('hub-bad-response', /another host/),
  );
  assert.ok(bed.hub.requests.slice(before).every((r) => !r.url.startsWith('/api/next')));
});

test('nextLink reads the rel="next" target of a Link header in its RFC 8288 forms', () => {
  assert.equal(nextLink('<https://h/a?cursor=x>; rel="next"'), 'https://h/a?cursor=x');
  assert.equal(nextLink('<https://h/1>; rel="prev", <https://h/3>; rel=next'), 'https://h/3');
  assert.equal(nextLink('<https://h/3>; title="a, b"; rel="last next"'), 'https://h/3');
  assert.equal(nextLink('<https://h/9>; rel="last"'), undefined);
  assert.equal(nextLink(null), undefined);
});
