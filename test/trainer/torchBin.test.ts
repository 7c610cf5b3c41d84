/**
 * Issue 16, item 6: `pytorch_model.bin` loads through the same path as safetensors. The committed fixtures
 * (test/trainer/fixtures/torchBin, written by make_fixtures.py with torch 1.13 from torch_bert.py's modules) run
 * everywhere: the zip and the legacy format, a tied decoder (one storage, two names), the int64 position_ids
 * buffer (an expanded view). The logits of a model loaded from `.bin` equal those of the same weights as
 * safetensors and PyTorch's own; a model folder with only `.bin` fine-tunes and saves safetensors checkpoints.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseSafetensors } from '../../files/hf/safetensors';
import { readTorchCheckpoint, readTorchCheckpointInfo } from '../../files/hf/torchBin/torchBin';
import { inspectModelFolder } from '../../files/configHost';
import { loadStateDict, resolveModelFolder } from '../../trainer/hf/modelFolder';
import { loadModelFolder } from '../../trainer/engine/inference';
import type { Batch } from '../../trainer/data/batch';
import { makeWorkspace, writeConfig, withOverrides } from './engineFixtures';
import { runEngine, wasmBackend } from './engineRunner';
import { pythonWith, requirePython, skipUnless } from './hfParityCases';

const FIXTURES = path.join(__dirname, 'fixtures', 'torchBin');
const root = mkdtempSync(path.join(os.tmpdir(), 'torchbin-'));
after(() => rmSync(root, { recursive: true, force: true }));
before(async () => {
  await wasmBackend();
});

interface Expected {
  input_ids: number[][];
  attention_mask: number[][];
  logits: number[][] | number[][][];
}

/** A copy of a fixture folder; `safetensors` adds the reference weights as model.safetensors. */
function fixture(name: string, o: { safetensors?: boolean; bin?: boolean } = {}): string {
  const dir = mkdtempSync(path.join(root, `${name}-`));
  cpSync(path.join(FIXTURES, name), dir, { recursive: true });
  const reference = path.join(dir, 'model.safetensors.reference');
  if (o.safetensors) copyFileSync(reference, path.join(dir, 'model.safetensors'));
  if (o.bin === false) rmSync(path.join(dir, 'pytorch_model.bin'));
  rmSync(reference);
  return dir;
}

function reference(name: string) {
  return parseSafetensors(readFileSync(path.join(FIXTURES, name, 'model.safetensors.reference'))).tensors;
}

function expected(name: string): Expected {
  return JSON.parse(readFileSync(path.join(FIXTURES, name, 'expected.json'), 'utf8')) as Expected;
}

function batchOf(e: Expected): Batch {
  const size = e.input_ids.length;
  const seqLen = e.input_ids[0]!.length;
  return {
    size,
    seqLen,
    inputIds: Int32Array.from(e.input_ids.flat()),
    attentionMask: Int32Array.from(e.attention_mask.flat()),
    tokenTypeIds: new Int32Array(size * seqLen),
    labels: new Int32Array(size),
  };
}

async function logitsOf(dir: string, e: Expected): Promise<Float32Array> {
  const m = await loadModelFolder(dir);
  try {
    // Masked LM scores every position: label each with its own id.
    const batch = batchOf(e);
    const b = m.model.head === 'masked-lm' ? { ...batch, labels: batch.inputIds.slice() } : batch;
    return (await m.model.predict(b)).logits;
  } finally {
    m.model.dispose();
  }
}

for (const name of ['cls', 'cls-legacy', 'mlm']) {
  test(`${name}: every tensor of pytorch_model.bin equals the same weights as safetensors`, async () => {
    const bin = await readTorchCheckpoint(path.join(FIXTURES, name, 'pytorch_model.bin'));
    assert.equal(bin.format, name === 'cls-legacy' ? 'legacy' : 'zip');
    const ref = reference(name);
    for (const [key, t] of ref) {
      assert.deepEqual(bin.tensors.get(key)?.shape, t.shape, key);
      assert.deepEqual(bin.tensors.get(key)?.data, t.data, key);
    }
    assert.deepEqual([...bin.tensors.get('bert.embeddings.position_ids')!.data], [...Array(16).keys()]);
    assert.equal(bin.sourceDtypes.get('bert.embeddings.position_ids'), 'I64');
    const info = await readTorchCheckpointInfo(path.join(FIXTURES, name, 'pytorch_model.bin'));
    assert.deepEqual([...info.keys()], [...bin.tensors.keys()]);
  });
}

test('a tied decoder weight (one storage, two names) reads as two equal tensors that do not share memory', async () => {
  const bin = await readTorchCheckpoint(path.join(FIXTURES, 'mlm', 'pytorch_model.bin'));
  const emb = bin.tensors.get('bert.embeddings.word_embeddings.weight')!;
  const dec = bin.tensors.get('cls.predictions.decoder.weight')!;
  assert.deepEqual(dec, emb);
  assert.notEqual(dec.data.buffer, emb.data.buffer);
});

for (const name of ['cls', 'cls-legacy', 'mlm']) {
  test(`${name}: logits from pytorch_model.bin equal safetensors' and PyTorch's`, async () => {
    const e = expected(name);
    const fromBin = await logitsOf(fixture(name), e);
    const fromSafetensors = await logitsOf(fixture(name, { safetensors: true, bin: false }), e);
    assert.deepEqual(fromBin, fromSafetensors);
    const torch = e.logits.flat(2) as number[];
    assert.equal(fromBin.length, torch.length);
    const worst = Math.max(...torch.map((x, i) => Math.abs(x - fromBin[i]!)));
    assert.ok(worst < 1e-4, `largest difference from PyTorch ${worst}`);
    assert.ok(Math.max(...torch.map(Math.abs)) > 0.1, 'the logits are far from zero, so a mistake would show');
  });
}

test('safetensors are preferred when a folder has both; the .bin is used when it is alone', async () => {
  const both = await resolveModelFolder(fixture('cls', { safetensors: true }));
  assert.deepEqual(both.weights, { kind: 'single', file: path.join(both.dir, 'model.safetensors') });
  const bin = await resolveModelFolder(fixture('cls'));
  assert.deepEqual(bin.weights, { kind: 'single', file: path.join(bin.dir, 'pytorch_model.bin'), format: 'pytorch' });
  assert.deepEqual((await loadStateDict(bin)).get('classifier.bias'), reference('cls').get('classifier.bias'));
});

test('the language server and the CLI checks read a .bin folder: names and shapes, no weights', async () => {
  const found = await inspectModelFolder(fixture('cls'));
  assert.ok(found.ok, found.ok ? '' : found.reason);
  const names = found.value.parameters.map((p) => p.name);
  assert.ok(names.includes('bert.encoder.layer.0.attention.self.query.weight'), names.join(', '));
  assert.ok(!names.includes('bert.embeddings.position_ids'), 'buffers are not parameters');
  const dense = found.value.parameters.find((p) => p.name === 'bert.pooler.dense.weight');
  assert.deepEqual(dense?.shape, [8, 8]);
});

test('a model folder with only pytorch_model.bin fine-tunes, and its checkpoints are safetensors', async () => {
  const ws = makeWorkspace();
  const model = fixture('cls');
  const config = path.join(ws.dir, 'frombin.finetune.yaml');
  writeConfig(
    config,
    withOverrides({
      mode: 'fine-tune',
      model: { tokenizer: undefined, architecture: undefined, name_or_path: model },
      data: { max_length: 16 },
      training: { max_steps: 2, save_strategy: 'steps', save_steps: 2 },
    }),
  );
  try {
    const run = await runEngine(config);
    assert.equal(run.done.status, 'completed');
    assert.deepEqual(run.of('model')[0]!.newlyInitialized, []);
    const ckpt = run.done.lastCheckpoint!;
    const files = readdirSync(ckpt);
    assert.ok(files.includes('model.safetensors'), files.join(', '));
    assert.ok(!files.some((f) => f.endsWith('.bin')), files.join(', '));
    // The checkpoint loads back, through the safetensors path, with every parameter.
    const m = await loadModelFolder(ckpt);
    m.model.dispose();
  } finally {
    rmSync(ws.dir, { recursive: true, force: true });
  }
  assert.ok(existsSync(path.join(model, 'pytorch_model.bin')), 'the user’s .bin is left as it was');
});

const withTorch = pythonWith('torch');

test(
  'files torch.save writes now: float16, bfloat16, int64, shared, transposed, sliced and expanded views, both formats',
  { skip: skipUnless(withTorch, 'torch', { requiredInCi: true }) },
  async () => {
    const python = requirePython(withTorch, 'torch');
    const dir = mkdtempSync(path.join(root, 'made-'));
    const script = `
import json, os, sys, torch
from collections import OrderedDict
torch.manual_seed(0)
emb = torch.randn(10, 4)
sd = OrderedDict()
sd['w'] = emb; sd['tied'] = emb; sd['t'] = torch.randn(4, 3).t(); sd['slice'] = emb[2:5, 1:3]
sd['pos'] = torch.arange(8).expand((1, -1)); sd['h'] = torch.randn(3).half(); sd['bf'] = torch.randn(5).bfloat16()
sd['p'] = torch.nn.Parameter(torch.randn(2, 2)); sd['scalar'] = torch.tensor(3.5); sd['empty'] = torch.zeros(0, 4)
torch.save(sd, os.path.join(sys.argv[1], 'zip.bin'))
torch.save(sd, os.path.join(sys.argv[1], 'legacy.bin'), _use_new_zipfile_serialization=False)
json.dump({k: {'shape': list(v.shape), 'values': v.detach().float().flatten().tolist()} for k, v in sd.items()},
          open(os.path.join(sys.argv[1], 'expected.json'), 'w'))
`;
    const r = spawnSync(python, ['-c', script, dir], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const want = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Record<
      string,
      { shape: number[]; values: number[] }
    >;
    for (const file of ['zip.bin', 'legacy.bin']) {
      const got = await readTorchCheckpoint(path.join(dir, file));
      assert.deepEqual([...got.tensors.keys()], Object.keys(want), file);
      for (const [name, t] of got.tensors) {
        assert.deepEqual(t.shape, want[name]!.shape, `${file} ${name}`);
        // float32 values go through JSON as doubles: compare at float32.
        assert.deepEqual([...t.data], want[name]!.values.map(Math.fround), `${file} ${name}`);
      }
      assert.equal(got.sourceDtypes.get('h'), 'F16');
      assert.equal(got.sourceDtypes.get('bf'), 'BF16');
    }
  },
);
