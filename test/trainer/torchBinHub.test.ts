/**
 * Issue 16, item 6, on the Hub side: a repo whose only weights are `pytorch_model.bin` (single or sharded) is
 * downloaded into the shared cache and loads; a repo with safetensors too never has its `.bin` requested; a
 * cached `.bin` snapshot is used offline without a request. Against the fake Hub of test/fixtures/fakeHub.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { hubTestbed } from '../fixtures/hubTestbed';
import { loadStateDict, resolveModelFolder } from '../../trainer/hf/modelFolder';
import { parseSafetensors } from '../../files/hf/safetensors';
import { Pickle, bytesOf, checkpointZip } from '../fixtures/torchFiles';

const bed = hubTestbed('hub-torchbin-');
const FIXTURE = path.join(__dirname, 'fixtures', 'torchBin', 'cls');
const file = (f: string) => readFileSync(path.join(FIXTURE, f));
const REFERENCE = parseSafetensors(file('model.safetensors.reference')).tensors;
const MODEL = { 'config.json': file('config.json'), 'vocab.txt': file('vocab.txt') };

test('a repo with only pytorch_model.bin is downloaded into the cache and loads', async () => {
  bed.hub.addRepo('org/old-bert', { ...MODEL, 'pytorch_model.bin': file('pytorch_model.bin') });
  const m = await resolveModelFolder('org/old-bert');
  assert.equal(m.weights.kind === 'single' && m.weights.format, 'pytorch');
  const sd = await loadStateDict(m);
  assert.deepEqual(sd.get('bert.pooler.dense.weight'), REFERENCE.get('bert.pooler.dense.weight'));
  // Complete in the cache now: offline, with no request at all.
  const before = bed.hub.requests.length;
  process.env.HF_HUB_OFFLINE = '1';
  await resolveModelFolder('org/old-bert');
  assert.equal(bed.hub.requests.length, before);
});

test('with safetensors in the repo, the .bin is never requested', async () => {
  bed.hub.addRepo('org/both', {
    ...MODEL,
    'model.safetensors': file('model.safetensors.reference'),
    'pytorch_model.bin': file('pytorch_model.bin'),
  });
  const m = await resolveModelFolder('org/both');
  assert.equal(path.basename(m.weights.kind === 'single' ? m.weights.file : ''), 'model.safetensors');
  assert.equal(bed.hub.count(/\/org\/both\/.*pytorch_model/), 0);
});

test('a sharded .bin (pytorch_model.bin.index.json) is fetched shard by shard and merged', async () => {
  const shard = (name: string, values: number[]) => {
    const p = new Pickle().proto().global('collections', 'OrderedDict').tuple(0).reduce().mark();
    p.str(name).tensor('0', values.length, [values.length]).op('u').stop();
    return checkpointZip(p.bytes(), { '0': bytesOf(Float32Array.from(values)) });
  };
  const index = {
    metadata: { total_size: 24 },
    weight_map: { 'classifier.bias': 'pytorch_model-00001-of-00002.bin', 'x.y': 'pytorch_model-00002-of-00002.bin' },
  };
  bed.hub.addRepo('org/sharded-bin', {
    ...MODEL,
    'pytorch_model.bin.index.json': JSON.stringify(index),
    'pytorch_model-00001-of-00002.bin': shard('classifier.bias', [1, 2]),
    'pytorch_model-00002-of-00002.bin': shard('x.y', [3, 4, 5, 6]),
  });
  const m = await resolveModelFolder('org/sharded-bin');
  assert.equal(m.weights.kind, 'sharded');
  const sd = await loadStateDict(m);
  assert.deepEqual([...sd.get('classifier.bias')!.data], [1, 2]);
  assert.deepEqual([...sd.get('x.y')!.data], [3, 4, 5, 6]);
});
