/**
 * Issue 13, defect 1: a Hub repo (or a model folder someone shared) names files; those names must never make us
 * request, write or read anything outside the model's folder. Runs against the fake Hub on 127.0.0.1.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { hubTestbed, TINY_BERT_CONFIG, TINY_WEIGHTS } from '../fixtures/hubTestbed';
import { listFiles } from '../fixtures/sandbox';
import { fetchHubModel } from '../../trainer/hf/hub';
import { resolveModelFolder } from '../../trainer/hf/modelFolder';
import { inspectModelFolder } from '../../files/configHost';
import { FineTuneError, formatUserError } from '../../common/errors';

const bed = hubTestbed('hub-sec-');
const sb = bed.sb;
const CONFIG = TINY_BERT_CONFIG;
const WEIGHTS = TINY_WEIGHTS;
const GOOD_SHARD = 'model-00001-of-00002.safetensors';

function unsafe(name: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof FineTuneError, `expected a FineTuneError, got ${String(e)}`);
    assert.equal(e.code, 'unsafe-file-name', e.message);
    assert.ok(e.message.includes(JSON.stringify(name).slice(0, 60)), e.message);
    assert.doesNotMatch(formatUserError(e.toUserError()), /\[internal\]/);
    assert.match(e.fix ?? '', /rename/);
    return true;
  };
}

/** Nothing outside HF_HOME changed, and no planted file landed anywhere. */
function assertNothingEscaped(outsideBefore: Map<string, string>): void {
  assert.deepEqual(listFiles(sb.root, [sb.hfHome]), outsideBefore);
  const planted = [...listFiles(sb.root).keys()].filter((f) => /pwned/.test(f));
  assert.deepEqual(planted, []);
  assert.equal(readFileSync(path.join(sb.home, '.bashrc'), 'utf8'), "# the user's own\n");
}

let repoCount = 0;
/** A repo whose index lists `names` next to a good shard; the planted files are what the URLs resolve to. */
function hostileRepo(names: readonly string[]): string {
  const id = `evil/model-${++repoCount}`;
  const weightMap: Record<string, string> = { 'classifier.bias': GOOD_SHARD };
  names.forEach((n, i) => (weightMap[`t${i}`] = n));
  const files: Record<string, string | Uint8Array> = {
    'config.json': CONFIG,
    'model.safetensors.index.json': JSON.stringify({ metadata: {}, weight_map: weightMap }),
    [GOOD_SHARD]: WEIGHTS,
  };
  // `fetch` reads `\` as `/` and folds `..`, so `a\b/../../pwned-1` is requested as `pwned-1`: serve it.
  for (let k = 1; k <= 7; k++) files[`pwned-${k}`] = `# pwned ${k}\n`;
  bed.hub.addRepo(id, files);
  return id;
}

async function assertRefused(names: readonly string[], shown: string): Promise<void> {
  const id = hostileRepo(names);
  const outside = listFiles(sb.root, [sb.hfHome]);
  await assert.rejects(fetchHubModel(id), unsafe(shown));
  assertNothingEscaped(outside);
  // Checked before anything was requested: not even the good shard, nor anything the hostile names resolve to.
  assert.equal(bed.hub.count(new RegExp(`^/${id}/resolve/[^/]+/(model-0|pwned)`)), 0);
  assert.equal(bed.hub.count(/pwned/), 0);
  // And the cache is not marked complete: offline, the model is still missing.
  await assert.rejects(fetchHubModel(id, { allowRemote: false }), (e: unknown) => {
    assert.ok(e instanceof FineTuneError);
    assert.equal(e.code, 'model-not-cached');
    return true;
  });
}

test('shard names that climb out with backslashes and ".." are refused before any download', async () => {
  // path.join on POSIX keeps `a\b` as one name, so each `a\b/../..` climbs one folder; 4 or 5 reach the home
  // folder. No more than 7 here, so that even a client with the bug writes only inside the test's sandbox.
  const names = [1, 2, 3, 4, 5, 6, 7].map((k) => `${'a\\b/../../'.repeat(k)}pwned-${k}`);
  await assertRefused(names, names[0] as string);
});

test('each kind of unsafe name in an index is refused with a clear error', async () => {
  const cases = [
    '../pwned-1',
    '/etc/pwned-1',
    'C:\\pwned-1',
    'C:pwned-1',
    'a/\u0000',
    '\\\\host\\share\\pwned-1',
    'a//pwned-1',
    './pwned-1',
    'sub/../pwned-1',
    '..',
    '',
    '.. /pwned-1',
    'NUL',
    'con.txt',
  ];
  for (const name of cases) await assertRefused([name], name);
});

test('a name that is not a string is refused, not crashed on', async () => {
  const id = `evil/model-${++repoCount}`;
  bed.hub.addRepo(id, {
    'config.json': CONFIG,
    'model.safetensors.index.json': JSON.stringify({ weight_map: { a: { toString: 'x' }, b: GOOD_SHARD } }),
    [GOOD_SHARD]: WEIGHTS,
  });
  await assert.rejects(fetchHubModel(id), (e: unknown) => e instanceof FineTuneError && e.code === 'unsafe-file-name');
});

test('a redirect or Content-Disposition naming another file cannot choose where the file goes', async () => {
  const id = `evil/model-${++repoCount}`;
  bed.hub.addRepo(id, { 'config.json': CONFIG, 'model.safetensors': WEIGHTS });
  const outside = listFiles(sb.root, [sb.hfHome]);
  const hostile = '..%2F..%2F..%2F..%2Fpwned-1';
  bed.hub.intercept = (req, res) => {
    if (req.url?.startsWith(`/${id}/resolve/main/model.safetensors`)) {
      const real = bed.hub.file(id, 'model.safetensors');
      res.writeHead(302, {
        Location: `${bed.hub.endpoint}/${id}/resolve/main/${hostile}`,
        'X-Repo-Commit': real.commit,
        ETag: `"${real.etag}"`,
        'X-Linked-Etag': `"${real.etag}"`,
        'X-Linked-Size': String(real.data.length),
      });
      res.end();
      return true;
    }
    if (req.url?.includes(hostile)) {
      const real = bed.hub.file(id, 'model.safetensors');
      res.writeHead(200, {
        'Content-Length': String(real.data.length),
        'Content-Disposition': 'attachment; filename="../../../../pwned-1"',
        ETag: `"${real.etag}"`,
      });
      res.end(req.method === 'HEAD' ? undefined : real.data);
      return true;
    }
    return false;
  };
  try {
    const dir = await fetchHubModel(id);
    assert.deepEqual(new Uint8Array(readFileSync(path.join(dir, 'model.safetensors'))), WEIGHTS);
    assert.ok(path.relative(sb.hfHome, dir).split(path.sep)[0] !== '..', `${dir} is outside HF_HOME`);
  } finally {
    bed.hub.intercept = undefined;
  }
  assertNothingEscaped(outside);
});

test('a revision that is a path is refused before anything is requested', async () => {
  const id = hostileRepo([]);
  const requests = bed.hub.requests.length;
  for (const revision of ['../../../home', 'main/../../x', '/etc', 'a\\b']) {
    await assert.rejects(
      fetchHubModel(id, { revision }),
      (e: unknown) => e instanceof FineTuneError && e.code === 'unsafe-file-name',
    );
  }
  assert.equal(bed.hub.requests.length, requests);
});

/** A local folder whose index points at a real safetensors file outside it. */
function localFolderWithIndex(shard: string): string {
  const dir = path.join(sb.root, `local-${++repoCount}`);
  mkdirSync(dir);
  writeFileSync(path.join(sb.root, 'outside.safetensors'), WEIGHTS);
  writeFileSync(path.join(dir, 'config.json'), CONFIG);
  writeFileSync(
    path.join(dir, 'model.safetensors.index.json'),
    JSON.stringify({ weight_map: { 'classifier.bias': shard } }),
  );
  return dir;
}

test("a local folder's index cannot make the trainer read outside the folder", async () => {
  for (const shard of [
    '../outside.safetensors',
    path.join(sb.root, 'outside.safetensors'),
    'x\\..\\..\\outside.safetensors',
  ]) {
    const dir = localFolderWithIndex(shard);
    await assert.rejects(resolveModelFolder(dir), unsafe(shard));
  }
});

test("a local folder's index cannot make the language server read outside the folder", async () => {
  for (const shard of ['../outside.safetensors', path.join(sb.root, 'outside.safetensors')]) {
    const found = await inspectModelFolder(localFolderWithIndex(shard));
    assert.equal(found.ok, false, `read ${shard}`);
    assert.match(found.ok ? '' : found.reason, /invalid file name .*outside\.safetensors.*(\.\.|absolute)/);
  }
});
