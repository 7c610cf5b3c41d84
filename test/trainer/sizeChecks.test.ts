/** Defect 6 of issue 13: absurd sizes are refused with the file, the field and the fix, before any allocation. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { bertParameters } from '../../common/bertParams';
import type { FineTuneError } from '../../common/errors';
import { validateConfig } from '../../common/modelConfig';
import { readBertConfig } from '../../files/hf/bertConfig';
import { serializeSafetensors } from '../../files/hf/safetensors';
import { resolveModelFolder } from '../../trainer/hf/modelFolder';
import { checkVocabIds } from '../../trainer/hf/tokenizer';
import { checkTrainingMemory, checkWeightShapes, modelConfigFrom } from '../../trainer/engine/setup';
import { backendCeilings } from '../../trainer/gpu/memoryFit';
import { IGNORE_FREE_MEMORY_ENV } from '../../common/memoryCheck';
import { TINY } from './modelFixtures';

const CONFIG: Record<string, unknown> = { model_type: 'bert', ...TINY };

function modelDir(config: Record<string, unknown>, weightsOf?: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sizes-'));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  if (weightsOf) {
    const shapes = bertParameters({ type_vocab_size: 2, ...weightsOf } as never, 'sequence-classification');
    const tensors = new Map(
      shapes.map((p) => [p.name, { shape: p.shape, data: new Float32Array(p.shape.reduce((a, b) => a * b, 1)) }]),
    );
    writeFileSync(path.join(dir, 'model.safetensors'), serializeSafetensors(tensors));
  }
  return dir;
}

async function refusal(p: Promise<unknown>): Promise<FineTuneError> {
  try {
    await p;
  } catch (e) {
    return e as FineTuneError;
  }
  throw new Error('expected a refusal');
}

describe('config.json ranges (files/hf/bertConfig.ts)', () => {
  for (const key of [
    'hidden_size',
    'vocab_size',
    'max_position_embeddings',
    'num_hidden_layers',
    'intermediate_size',
  ]) {
    it(`${key}: 1e9 names the file, the line and the limit`, async () => {
      const dir = modelDir({ ...CONFIG, [key]: 1e9 });
      const e = await refusal(readBertConfig(path.join(dir, 'config.json')));
      assert.equal(e.code, 'model-bad-config');
      assert.match(
        e.message,
        new RegExp(`'${key}' in .*config\\.json must be an integer in \\[1, \\d+\\], got 1000000000`),
      );
      assert.equal(e.file, path.join(dir, 'config.json'));
      assert.equal(e.line, Object.keys(CONFIG).indexOf(key) + 2);
      assert.match(e.fix!, /limit for '.*' is \d+/);
    });
  }
  it('hidden_dropout_prob: 1.5 and a negative pad_token_id are clear errors, not [internal]', async () => {
    const e = await refusal(
      readBertConfig(path.join(modelDir({ ...CONFIG, hidden_dropout_prob: 1.5 }), 'config.json')),
    );
    assert.equal(e.code, 'model-bad-config');
    assert.match(e.message, /'hidden_dropout_prob' .* must be a number in \[0, 1\), got 1\.5/);
    const p = await refusal(readBertConfig(path.join(modelDir({ ...CONFIG, pad_token_id: -5 }), 'config.json')));
    assert.match(p.message, /'pad_token_id' must be an integer in \[0, vocab_size\)/);
  });
  it('a real config still reads', async () => {
    const c = await readBertConfig(path.join(modelDir(CONFIG), 'config.json'));
    assert.equal(c.hidden_size, 8);
  });
  it('the model refuses an out-of-range config built in code with a FineTuneError', () => {
    assert.throws(
      () => validateConfig({ ...TINY, hidden_dropout_prob: 1.5 }),
      (e: FineTuneError) => e.code === 'model-bad-config',
    );
    assert.throws(
      () => validateConfig({ ...TINY, num_hidden_layers: 1e6 }),
      /num_hidden_layers is 1000000, above the limit/,
    );
  });
});

describe('weights are checked against config.json before the model is allocated', () => {
  it('hidden_size 4096 in config.json with hidden-8 weights: refused from the headers, in milliseconds', async () => {
    const big = {
      ...CONFIG,
      hidden_size: 4096,
      num_attention_heads: 16,
      intermediate_size: 16384,
      num_hidden_layers: 24,
    };
    const folder = await resolveModelFolder(modelDir(big, CONFIG));
    const cfg = modelConfigFrom(folder.config, folder.configFile);
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const e = await refusal(checkWeightShapes(folder, cfg, 'sequence-classification', 2));
    assert.equal(e.code, 'model-weights-mismatch');
    assert.match(
      e.detail!,
      /bert\.embeddings\.word_embeddings\.weight: the weights have \[20, 8\], config\.json implies \[20, 4096\]/,
    );
    assert.equal(e.file, folder.configFile);
    assert.ok(performance.now() - t0 < 1000);
    assert.ok(process.memoryUsage().rss - rss0 < 200e6, 'nothing of the model was allocated');
  });
  it('matching weights pass, and a classifier for another label set is not a mismatch', async () => {
    const folder = await resolveModelFolder(modelDir(CONFIG, CONFIG));
    await checkWeightShapes(folder, modelConfigFrom(folder.config, folder.configFile), 'sequence-classification', 5);
  });
});

describe('the memory estimate is checked against a ceiling before allocating', () => {
  const shape = (hidden: number, layers: number) => ({
    config: {
      ...TINY,
      vocab_size: 30522,
      hidden_size: hidden,
      intermediate_size: 4 * hidden,
      num_hidden_layers: layers,
      num_attention_heads: 16,
    },
    head: 'sequence-classification' as const,
    numLabels: 2,
    batchSize: 32,
    seqLength: 512,
  });
  const wasm = { name: 'wasm' as const, reason: '', tried: [] };
  const plenty = 64 * 1024 ** 3;
  it('bert-large-sized training on wasm exceeds the 4 GiB heap', () => {
    const ceilings = backendCeilings(wasm, { threads: 1, freeBytes: plenty, env: {} });
    const e = (() => {
      try {
        checkTrainingMemory(shape(1024, 24), ceilings, '/ws/x.finetune.yaml');
      } catch (x) {
        return x as FineTuneError;
      }
      throw new Error('expected a refusal');
    })();
    assert.equal(e.code, 'memory-exceeds-backend');
    assert.match(e.message, /one training step needs about [\d.]+ GiB: more than the 4\.00 GiB a WebAssembly thread/);
    assert.match(e.fix!, /Not even per_device_train_batch_size 1 fits at max_length 512/);
    assert.match(e.fix!, /backend: webgpu/);
    assert.match(e.detail!, /weights [\d.]+ GiB, gradients/);
    assert.equal(e.file, '/ws/x.finetune.yaml');
  });
  it('on a native backend the ceiling is the free memory, which the override turns into a warning', () => {
    const tf = { name: 'tensorflow' as const, reason: '', tried: [] };
    assert.throws(
      () => checkTrainingMemory(shape(256, 4), backendCeilings(tf, { threads: 1, freeBytes: 100e6, env: {} })),
      /the training process needs about [\d.]+ GiB: more than the 95\.4 MiB of memory this machine has free/,
    );
    const env = { [IGNORE_FREE_MEMORY_ENV]: '1' };
    const forced = checkTrainingMemory(shape(256, 4), backendCeilings(tf, { threads: 1, freeBytes: 100e6, env }));
    assert.equal(forced.level, 'near');
    assert.equal(
      checkTrainingMemory(shape(256, 4), backendCeilings(tf, { threads: 1, freeBytes: plenty })).level,
      'fits',
    );
  });
});

describe('tokenizer vocabulary ids (trainer/hf/tokenizer.ts)', () => {
  const json = (vocab: Record<string, unknown>, added: unknown[] = []) => ({
    model: { type: 'WordPiece', vocab },
    added_tokens: added,
  });
  it('an id of 1e9 is refused at once', () => {
    const t0 = performance.now();
    assert.throws(
      () => checkVocabIds(json({ a: 0, b: 1e9 }), 'tok.json'),
      (e: FineTuneError) => e.code === 'tokenizer-invalid' && /"b" has the id 1000000000/.test(e.message),
    );
    assert.ok(performance.now() - t0 < 100);
  });
  it('negative, fractional and non-numeric ids are refused', () => {
    for (const bad of [-5, 1.5, '3', null])
      assert.throws(() => checkVocabIds(json({ a: 0, b: bad }), 'tok.json'), /ids are integers from 0/);
    assert.throws(
      () => checkVocabIds(json({ a: 0 }, [{ content: '[X]', id: -1 }]), 'tok.json'),
      /"\[X\]" has the id -1/,
    );
  });
  it('sparse ids are refused; a dense vocabulary with a few holes is fine', () => {
    assert.throws(
      () => checkVocabIds(json({ a: 0, b: 500_000 }), 'tok.json'),
      /run up to 500000 but there are only 2 distinct ids/,
    );
    checkVocabIds(json({ a: 0, b: 1, c: 5 }, [{ content: '[X]', id: 7 }]), 'tok.json');
  });
});
