/**
 * Issue 16, item 1: one Hub cache shared with Python. What huggingface_hub wrote is used without a request, and
 * what we download is laid out as huggingface_hub reads it; the environment variables it reads are honoured.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import { hubTestbed, TINY_BERT_CONFIG, TINY_WEIGHTS } from '../fixtures/hubTestbed';
import { fetchHubModel } from '../../trainer/hf/hub';
import { loadStateDict, resolveModelFolder } from '../../trainer/hf/modelFolder';
import { FineTuneError } from '../../common/errors';

const bed = hubTestbed('hub-cache-');
const sb = bed.sb;
const CONFIG = TINY_BERT_CONFIG;
const WEIGHTS = TINY_WEIGHTS;
const VOCAB = '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n';
const MODEL = { 'config.json': CONFIG, 'model.safetensors': WEIGHTS, 'vocab.txt': VOCAB };

function code(c: string, text?: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof FineTuneError, String(e));
    assert.equal(e.code, c, `${e.code}: ${e.message}`);
    if (text) assert.match(`${e.message}\n${e.detail ?? ''}\n${e.fix ?? ''}`, text);
    return true;
  };
}

/** A cache as huggingface_hub writes it: blobs named by ETag, relative links, refs/main. */
function writePythonCache(cacheDir: string, id: string, sha: string, files: Record<string, string | Uint8Array>): void {
  const repo = path.join(cacheDir, `models--${id.replace('/', '--')}`);
  mkdirSync(path.join(repo, 'blobs'), { recursive: true });
  mkdirSync(path.join(repo, 'refs'), { recursive: true });
  mkdirSync(path.join(repo, 'snapshots', sha), { recursive: true });
  writeFileSync(path.join(repo, 'refs', 'main'), sha);
  for (const [name, body] of Object.entries(files)) {
    const etag = createHash('sha256').update(body).digest('hex');
    writeFileSync(path.join(repo, 'blobs', etag), body);
    symlinkSync(`../../blobs/${etag}`, path.join(repo, 'snapshots', sha, name));
  }
}

test('a model that Python downloaded is used without any request', async () => {
  const sha = 'a'.repeat(40);
  writePythonCache(path.join(sb.hfHome, 'hub'), 'org/from-python', sha, MODEL);
  const before = bed.hub.requests.length;
  const m = await resolveModelFolder('org/from-python');
  assert.equal(m.dir, path.join(sb.hfHome, 'hub', 'models--org--from-python', 'snapshots', sha));
  assert.deepEqual([...((await loadStateDict(m)).get('classifier.bias')?.data ?? [])], [1, 2]);
  assert.equal(bed.hub.requests.length, before);
});

test('what we download is laid out as huggingface_hub reads it, and is then used offline', async () => {
  const sha = bed.hub.addRepo('org/tiny-bert', MODEL);
  const dir = await fetchHubModel('org/tiny-bert');
  const repo = path.join(sb.hfHome, 'hub', 'models--org--tiny-bert');
  assert.equal(dir, path.join(repo, 'snapshots', sha));
  assert.equal(readFileSync(path.join(repo, 'refs', 'main'), 'utf8'), sha);
  for (const name of ['config.json', 'model.safetensors', 'vocab.txt']) {
    const pointer = path.join(dir, name);
    assert.ok(lstatSync(pointer).isSymbolicLink(), `${name} is not a link`);
    const { etag, data } = bed.hub.file('org/tiny-bert', name);
    assert.equal(readlinkSync(pointer), `../../blobs/${etag}`);
    assert.deepEqual(new Uint8Array(readFileSync(path.join(repo, 'blobs', etag))), data);
  }
  // The weights' blob is named by its sha256 (the LFS oid, X-Linked-Etag), as Python names it.
  assert.equal(
    bed.hub.file('org/tiny-bert', 'model.safetensors').etag,
    createHash('sha256').update(WEIGHTS).digest('hex'),
  );
  // Files the Hub does not have are remembered as Python remembers them.
  assert.ok(existsSync(path.join(repo, '.no_exist', sha, 'tokenizer.json')));
  assert.ok(!existsSync(path.join(repo, 'blobs', `${bed.hub.file('org/tiny-bert', 'config.json').etag}.incomplete`)));

  const before = bed.hub.requests.length;
  assert.equal(await fetchHubModel('org/tiny-bert'), dir);
  process.env.HF_HUB_OFFLINE = '1';
  assert.equal(await fetchHubModel('org/tiny-bert'), dir);
  assert.equal(bed.hub.requests.length, before, 'a complete snapshot needs no request');
});

test('HF_HUB_CACHE moves the cache; HF_HUB_OFFLINE and TRANSFORMERS_OFFLINE forbid downloads', async () => {
  bed.hub.addRepo('org/elsewhere', MODEL);
  process.env.HF_HUB_CACHE = path.join(sb.root, 'other-cache');
  const dir = await fetchHubModel('org/elsewhere');
  assert.ok(dir.startsWith(path.join(sb.root, 'other-cache', 'models--org--elsewhere', 'snapshots')));
  delete process.env.HF_HUB_CACHE;
  for (const v of ['HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE']) {
    process.env[v] = 'YES';
    const before = bed.hub.requests.length;
    await assert.rejects(fetchHubModel('org/elsewhere'), code('model-not-cached', /HF_HUB_OFFLINE/));
    assert.equal(bed.hub.requests.length, before);
    delete process.env[v];
  }
});

test('the token comes from HF_TOKEN or the token file, and goes to the Hub only, never to the CDN', async () => {
  bed.hub.addRepo('org/private', MODEL, { private: true });
  bed.hub.grant('org/private', 'hf_file_token');
  writeFileSync(path.join(sb.hfHome, 'token'), 'hf_file_token\n');
  await fetchHubModel('org/private');
  const sent = bed.hub.requests.filter((r) => r.url.includes('/org/private/'));
  assert.ok(sent.length > 0 && sent.every((r) => r.authorization === 'Bearer hf_file_token'), JSON.stringify(sent));
  assert.ok(bed.hub.requests.filter((r) => r.url.startsWith('/cdn/')).every((r) => r.authorization === undefined));
  rmSync(path.join(sb.hfHome, 'token'));

  bed.hub.addRepo('org/private2', MODEL, { private: true });
  bed.hub.grant('org/private2', 'hf_env_token');
  process.env.HF_TOKEN_PATH = path.join(sb.root, 'nowhere');
  process.env.HF_TOKEN = 'hf_env_token';
  await fetchHubModel('org/private2');
});

test('gated, private, missing repo, bad token, missing revision: each its own error and fix', async () => {
  bed.hub.addRepo('org/gated', MODEL, { gated: true });
  await assert.rejects(fetchHubModel('org/gated'), code('hub-gated', /accept the licence[\s\S]*HF_TOKEN/));
  bed.hub.tokens.add('hf_other');
  process.env.HF_TOKEN = 'hf_other';
  await assert.rejects(fetchHubModel('org/gated'), code('hub-gated', /accept the conditions with the account/));
  await assert.rejects(fetchHubModel('org/nothing'), code('hub-no-access', /does not exist, or the token cannot/));
  process.env.HF_TOKEN = 'hf_typo';
  await assert.rejects(fetchHubModel('org/gated'), code('hub-bad-token', /refused the token from HF_TOKEN/));
  delete process.env.HF_TOKEN;
  bed.hub.addRepo('org/secret', MODEL, { private: true });
  await assert.rejects(fetchHubModel('org/secret'), code('model-not-found', /or it is private[\s\S]*hf auth login/));
  await assert.rejects(fetchHubModel('org/nothing'), code('model-not-found', /no model 'org\/nothing'/));
  bed.hub.addRepo('org/revs', MODEL);
  await assert.rejects(
    fetchHubModel('org/revs', { revision: 'v9' }),
    code('hub-revision-not-found', /no revision 'v9'/),
  );
});

test('a revision (tag, refs/pr/N, commit) is downloaded as its own snapshot and ref', async () => {
  const main = bed.hub.addRepo('org/old-bert', { 'config.json': CONFIG, 'vocab.txt': VOCAB });
  const pr = bed.hub.commit('org/old-bert', MODEL, 'refs/pr/1');
  await assert.rejects(fetchHubModel('org/old-bert'), code('model-missing-weights', /Pick a revision/));
  const repo = path.join(sb.hfHome, 'hub', 'models--org--old-bert');
  assert.ok(!existsSync(path.join(repo, 'refs', 'main')), 'a refused download is not marked complete');
  const dir = await fetchHubModel('org/old-bert', { revision: 'refs/pr/1' });
  assert.equal(dir, path.join(repo, 'snapshots', pr));
  assert.equal(readFileSync(path.join(repo, 'refs', 'refs', 'pr', '1'), 'utf8'), pr);
  // A commit sha needs no ref, and is served from the cache once there.
  const before = bed.hub.requests.length;
  assert.equal(await fetchHubModel('org/old-bert', { revision: pr }), dir);
  assert.equal(bed.hub.requests.length, before);
  assert.notEqual(main, pr);
});

test('config.json is checked before any weights are requested', async () => {
  const cdnBefore = bed.hub.count(/^\/cdn\//);
  bed.hub.addRepo('org/gpt2', { ...MODEL, 'config.json': CONFIG.replace('"bert"', '"gpt2"') });
  await assert.rejects(fetchHubModel('org/gpt2'), code('model-unsupported-type', /'gpt2'/));
  bed.hub.addRepo('org/silu', { ...MODEL, 'config.json': CONFIG.replace('{', '{"hidden_act": "silu", ') });
  await assert.rejects(fetchHubModel('org/silu'), code('model-unsupported-activation', /'silu'/));
  bed.hub.addRepo('org/huge', { ...MODEL, 'config.json': CONFIG.replace('"hidden_size":8', '"hidden_size":7.5') });
  await assert.rejects(fetchHubModel('org/huge'), code('model-bad-config', /hidden_size/));
  assert.equal(bed.hub.count(/\/org\/(gpt2|silu|huge)\/resolve\/[^/]+\/model\.safetensors/), 0);
  assert.equal(bed.hub.count(/^\/cdn\//), cdnBefore, 'no weights request reached the Hub');
});
