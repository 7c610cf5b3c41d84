import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { parseTrainerMessage } from '../../common/protocol';
import { readSafetensors } from '../../files/hf/safetensors';
import { BertModel } from '../../trainer/model/bert';
import { readRunInfo } from '../../trainer/engine/runFolder';
import { loadConfig } from '../../trainer/engine/loadConfig';
import { makeWorkspace } from './engineFixtures';
import { runEngine } from './engineRunner';

test('a run emits plan, model, steps, checkpoints and done, and records them in the run folder', async () => {
  const ws = makeWorkspace({
    training: {
      max_steps: 6,
      save_strategy: 'steps',
      save_steps: 3,
      eval_strategy: 'steps',
      eval_steps: 3,
      logging_steps: 2,
    },
  });
  const counts: number[] = [];
  await (await import('./engineRunner')).wasmBackend();
  const before = tf.memory().numTensors;
  const run = await runEngine(ws.configFile, { onStepEnd: () => counts.push(tf.memory().numTensors) });
  // Model, optimizer state and gradients are all released when the run ends.
  assert.equal(tf.memory().numTensors, before);
  const types = run.messages.map((m) => m.type);
  assert.equal(types[0], 'plan');
  assert.equal(types[1], 'model');
  assert.deepEqual(
    run.of('step').map((m) => m.step),
    [1, 2, 4, 6],
  );
  assert.deepEqual(
    run.of('eval').map((m) => m.step),
    [3, 6],
  );
  assert.deepEqual(
    run.of('checkpoint').map((m) => m.step),
    [3, 6],
  );
  assert.equal(run.done.status, 'completed');
  assert.equal(types[types.length - 1], 'done');
  assert.ok(path.basename(run.runDir).startsWith('tiny-'), run.runDir);
  assert.equal(path.dirname(run.runDir), path.join(ws.dir, '.finetune', 'runs'));

  // No tensor leaks: the count after each step is the same from the second step on.
  assert.equal(new Set(counts.slice(1)).size, 1, `tensor counts per step: ${counts.join(', ')}`);

  const lines = readFileSync(path.join(run.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n');
  const recorded = lines.map((l) => {
    const r = parseTrainerMessage(l);
    assert.ok(r.ok, l);
    return r.message.type;
  });
  assert.deepEqual(
    recorded,
    types.filter((t) => ['step', 'eval', 'checkpoint', 'done'].includes(t)),
  );
  const info = await readRunInfo(run.runDir);
  assert.equal(info?.status, 'completed');
  assert.equal(info?.step, 6);
  assert.equal(info?.checkpoints.length, 2);
  assert.match(readFileSync(path.join(run.runDir, 'config.resolved.yaml'), 'utf8'), /learning_rate: 0.001/);
  const eval0 = run.of('eval')[0]!;
  assert.deepEqual(eval0.labels, ['negative', 'positive']);
  assert.equal(
    eval0.confusion!.flat().reduce((a, b) => a + b, 0),
    32,
  );
});

test('frozen parameters stay bit-identical and get no optimizer state', async () => {
  const ws = makeWorkspace({
    freeze: ['bert.embeddings', 'bert.encoder.layer.0.attention'],
    training: { max_steps: 4, learning_rate: 1e-2 },
  });
  const run = await runEngine(ws.configFile);
  const model = run.of('model')[0]!;
  assert.ok(model.trainable < model.total && model.trainable > 0);
  const ckpt = run.done.lastCheckpoint!;
  const weights = (await readSafetensors(path.join(ckpt, 'model.safetensors'))).tensors;
  const optimizer = (await readSafetensors(path.join(ckpt, 'optimizer.safetensors'))).tensors;
  // The same seed gives the same initial weights, so a fresh model is the "before" picture.
  const cfg = (await loadConfig(ws.configFile)).config;
  const fresh = BertModel.create(
    {
      ...cfg.model.architecture!,
      vocab_size: weights.get('bert.embeddings.word_embeddings.weight')!.shape[0]!,
      pad_token_id: 0,
      hidden_act: 'gelu',
    },
    'sequence-classification',
    { numLabels: 2, seed: cfg.training.seed },
  );
  const before = await fresh.toStateDict();
  fresh.dispose();
  let frozen = 0;
  let trained = 0;
  for (const [name, e] of before) {
    const after = weights.get(name)!.data;
    const isFrozen = name.startsWith('bert.embeddings.') || name.startsWith('bert.encoder.layer.0.attention.');
    if (isFrozen) {
      frozen++;
      assert.deepEqual(after, e.data, `${name} changed although frozen`);
      assert.ok(!optimizer.has(`${name}.exp_avg`), `optimizer state for frozen ${name}`);
    } else {
      assert.ok(
        optimizer.has(`${name}.exp_avg`) && optimizer.has(`${name}.exp_avg_sq`),
        `no optimizer state for ${name}`,
      );
      if (name.endsWith('.weight') && !name.includes('LayerNorm')) {
        trained++;
        assert.notDeepEqual(after, e.data, `${name} did not train`);
      }
    }
  }
  assert.ok(frozen >= 10 && trained >= 4);
});

test('early stopping: no improvement beyond the threshold stops after `patience` evaluations', async () => {
  const ws = makeWorkspace({
    training: {
      max_steps: 12,
      eval_strategy: 'steps',
      eval_steps: 2,
      early_stopping_patience: 2,
      early_stopping_threshold: 1000,
      metric_for_best_model: 'loss',
    },
  });
  const run = await runEngine(ws.configFile);
  assert.equal(run.done.status, 'early-stopped');
  assert.deepEqual(
    run.of('eval').map((e) => e.patienceUsed),
    [0, 1, 2],
  );
  assert.equal(run.done.step, 6);
  assert.ok(run.done.lastCheckpoint?.endsWith('checkpoint-6'));
});

test('an unknown label in the validation data stops before training, naming the file and line', async () => {
  const ws = makeWorkspace();
  const v = path.join(ws.dir, 'validation.csv');
  writeFileSync(v, readFileSync(v, 'utf8') + 'the lamp is ok,neutral\n');
  await assert.rejects(runEngine(ws.configFile), (e: { code?: string; file?: string; line?: number }) => {
    assert.equal(e.code, 'data-unknown-label');
    assert.equal(e.file, v);
    assert.equal(e.line, 34);
    return true;
  });
});
