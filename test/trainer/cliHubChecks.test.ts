/**
 * Issue 16, Deliver 2 and 5, on the command line: `finetune train` runs the language server's Hub checks before
 * anything starts. Offline, a revision that is not in the Hub cache stops it (exit 2, naming the key and how to
 * get the revision); a cached Hub id gets the max_length check of a model folder. No request is made.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { cacheModel, hubCacheTestbed, TINY_HUB_CONFIG, tinyHubWeights } from '../fixtures/hubCacheFixture';
import { cli } from './cliProcess';
import { makeWorkspace } from './engineFixtures';

const MAIN = 'd'.repeat(40);
// The CLI inherits this process's environment, which the testbed resets before each test.
const bed = hubCacheTestbed('cli-hub-checks-', (cacheDir) =>
  cacheModel(
    cacheDir,
    'org/tiny',
    { main: MAIN },
    { [MAIN]: { 'config.json': TINY_HUB_CONFIG, 'model.safetensors': tinyHubWeights() } },
  ),
);

/** A fine-tuning workspace on the Hub id, with the base config's data and local tokenizer. */
function hubWorkspace(model: Record<string, string>, maxLength: number) {
  return makeWorkspace({
    mode: 'fine-tune',
    model: { architecture: undefined, ...model },
    data: { max_length: maxLength },
  });
}

describe('finetune train: Hub checks before anything starts', () => {
  it('offline, a revision that is not cached exits 2 on model.revision, with the way to get it', async () => {
    process.env.HF_HUB_OFFLINE = '1';
    const ws = hubWorkspace({ name_or_path: 'org/tiny', revision: 'v9' }, 16);
    const before = readdirSync(ws.dir).sort();
    const r = await cli(['train', ws.configFile], ws.dir);
    const out = r.stdout + r.stderr;
    assert.equal(r.code, 2, out);
    assert.match(
      out,
      /tiny\.finetune\.yaml:\d+:\d+: error: `model\.revision`: `org\/tiny` at revision `v9` is not in the cache/,
    );
    assert.match(out, /hf download org\/tiny --revision v9/);
    assert.deepEqual(readdirSync(ws.dir).sort(), before, 'no run folder');
    rmSync(ws.dir, { recursive: true, force: true });
  });

  it('a cached Hub id: max_length above its max_position_embeddings exits 2, naming the snapshot', async () => {
    const ws = hubWorkspace({ name_or_path: 'org/tiny' }, 64);
    const r = await cli(['train', ws.configFile], ws.dir);
    const out = r.stdout + r.stderr;
    assert.equal(r.code, 2, out);
    assert.match(
      out,
      /\(64\) is above the `max_position_embeddings` \(32\) of org\/tiny \(cached at revision main = ddddddd\)/,
    );
    rmSync(ws.dir, { recursive: true, force: true });
  });

  it('made no request', () => {
    assert.deepEqual(bed.hub.hits, []);
  });
});
