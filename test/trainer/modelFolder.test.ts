import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadStateDict, readParameterInfo, resolveModelFolder } from '../../trainer/hf/modelFolder';
import { serializeSafetensors } from '../../files/hf/safetensors';
import { validateBertConfig } from '../../files/hf/bertConfig';
import { FineTuneError, formatUserError } from '../../common/errors';
import { TINY_BERT } from '../fixtures/hubTestbed';

const root = mkdtempSync(path.join(tmpdir(), 'mf-'));
// Keep the real ~/.cache/huggingface out of the tests.
process.env.HF_HOME = path.join(root, 'hf-home');
delete process.env.HF_TOKEN;

const CONFIG = TINY_BERT;
const WEIGHTS = serializeSafetensors({
  'bert.embeddings.word_embeddings.weight': { shape: [30, 8], data: new Float32Array(240).fill(0.5) },
  'classifier.bias': { shape: [2], data: new Float32Array([1, 2]) },
});

function folder(name: string, files: Record<string, string | Uint8Array>): string {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, c] of Object.entries(files)) writeFileSync(path.join(dir, f), c);
  return dir;
}
function code(c: string, message?: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof FineTuneError, String(e));
    assert.equal(e.code, c, e.message);
    if (message) assert.match(`${e.message}\n${e.detail ?? ''}\n${e.fix ?? ''}`, message);
    return true;
  };
}

test('a local folder with config.json and model.safetensors', async () => {
  const dir = folder('local', { 'config.json': JSON.stringify(CONFIG), 'model.safetensors': WEIGHTS });
  const m = await resolveModelFolder('local', { baseDir: root });
  assert.equal(m.dir, dir);
  assert.equal(m.source, 'local');
  assert.equal(m.config.type_vocab_size, 2);
  assert.equal(m.config.layer_norm_eps, 1e-12);
  assert.deepEqual(m.weights, { kind: 'single', file: path.join(dir, 'model.safetensors') });
  const sd = await loadStateDict(m);
  assert.deepEqual([...(sd.get('classifier.bias')?.data ?? [])], [1, 2]);
  assert.deepEqual((await readParameterInfo(m)).get('bert.embeddings.word_embeddings.weight')?.shape, [30, 8]);
});

test('sharded weights are merged', async () => {
  const a = serializeSafetensors({ x: { shape: [1], data: new Float32Array([1]) } });
  const b = serializeSafetensors({ y: { shape: [1], data: new Float32Array([2]) } });
  const index = {
    metadata: { total_size: 8 },
    weight_map: { x: 'model-00001-of-00002.safetensors', y: 'model-00002-of-00002.safetensors' },
  };
  folder('sharded', {
    'config.json': JSON.stringify(CONFIG),
    'model.safetensors.index.json': JSON.stringify(index),
    'model-00001-of-00002.safetensors': a,
    'model-00002-of-00002.safetensors': b,
  });
  const m = await resolveModelFolder(path.join(root, 'sharded'));
  assert.equal(m.weights.kind, 'sharded');
  const sd = await loadStateDict(m);
  assert.deepEqual([...sd.keys()].sort(), ['x', 'y']);
  folder('sharded-missing', {
    'config.json': JSON.stringify(CONFIG),
    'model.safetensors.index.json': JSON.stringify(index),
    'model-00001-of-00002.safetensors': a,
  });
  await assert.rejects(resolveModelFolder(path.join(root, 'sharded-missing')), code('model-missing-shard', /00002/));
});

test('folders that are not usable are explained', async () => {
  folder('tf', { 'config.json': JSON.stringify(CONFIG), 'tf_model.h5': 'x' });
  await assert.rejects(resolveModelFolder(path.join(root, 'tf')), code('model-unsupported-weights', /from_tf=True/));
  // A .bin is now read (files/hf/torchBin), so one that is not a checkpoint fails when it is loaded, by name.
  folder('pickle', { 'config.json': JSON.stringify(CONFIG), 'pytorch_model.bin': 'x' });
  const pickle = await resolveModelFolder(path.join(root, 'pickle'));
  await assert.rejects(loadStateDict(pickle), code('torch-corrupt', /pytorch_model\.bin is not a PyTorch checkpoint/));
  folder('noweights', { 'config.json': JSON.stringify(CONFIG) });
  await assert.rejects(resolveModelFolder(path.join(root, 'noweights')), code('model-missing-weights'));
  assert.equal(
    (await resolveModelFolder(path.join(root, 'noweights'), { requireWeights: false })).weights.kind,
    'none',
  );
  folder('noconfig', { 'model.safetensors': WEIGHTS });
  await assert.rejects(resolveModelFolder(path.join(root, 'noconfig')), code('model-missing-config'));
  await assert.rejects(
    resolveModelFolder('./does/not/exist', { baseDir: root }),
    code('model-not-found', /no such folder: .\/does\/not\/exist \(/),
  );
  folder('gpt2', {
    'config.json': JSON.stringify({ ...CONFIG, model_type: 'gpt2' }, null, 2),
    'model.safetensors': WEIGHTS,
  });
  await assert.rejects(resolveModelFolder(path.join(root, 'gpt2')), (e: unknown) => {
    code('model-unsupported-type', /'gpt2'/)(e);
    assert.equal((e as FineTuneError).line, 2);
    assert.equal((e as FineTuneError).file, path.join(root, 'gpt2', 'config.json'));
    return true;
  });
  assert.throws(
    () => validateBertConfig({ ...CONFIG, hidden_size: 9 }, 'c.json'),
    code('model-bad-config', /not a multiple/),
  );
  assert.throws(
    () => validateBertConfig({ ...CONFIG, vocab_size: undefined }, 'c.json'),
    code('model-bad-config', /no 'vocab_size'/),
  );
});

test('a Hub id while offline gives hub-offline, saying how to fix it', async () => {
  const offline = (async () => {
    throw new TypeError('fetch failed', {
      cause: Object.assign(new Error('getaddrinfo ENOTFOUND huggingface.co'), { code: 'ENOTFOUND' }),
    });
  }) as typeof fetch;
  await assert.rejects(
    resolveModelFolder('bert-base-uncased', { cacheDir: path.join(root, 'cache-off'), fetch: offline }),
    (e: unknown) => {
      code('hub-offline', /not in the cache[\s\S]*ENOTFOUND[\s\S]*set name_or_path to that folder/)(e);
      const text = formatUserError((e as FineTuneError).toUserError());
      assert.match(text, /^error: cannot download 'bert-base-uncased'/);
      assert.match(text, /\n  fix: Connect to the internet/);
      return true;
    },
  );
  // An unreachable host, for real.
  await assert.rejects(
    resolveModelFolder('org/model', { cacheDir: path.join(root, 'cache-off2'), endpoint: 'http://127.0.0.1:9' }),
    code('hub-offline'),
  );
  await assert.rejects(
    resolveModelFolder('org/model', { cacheDir: path.join(root, 'cache-off3'), allowRemote: false }),
    code('model-not-cached'),
  );
});

// Downloads, the cache shared with Python, tokens and the Hub's errors: test/trainer/hubCache.test.ts (fake Hub).
