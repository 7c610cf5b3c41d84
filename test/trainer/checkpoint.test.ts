import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { tokenizerFromVocab } from '../../trainer/hf/tokenizer';
import { BertModel } from '../../trainer/model/bert';
import { AdamW } from '../../trainer/optim/adamw';
import { readSafetensors } from '../../files/hf/safetensors';
import {
  listCheckpoints,
  loadModelWeights,
  pruneCheckpoints,
  readOptimizerSnapshot,
  readTrainerState,
  saveCheckpoint,
} from '../../trainer/engine/checkpoint';
import type { TrainerState } from '../../trainer/engine/checkpoint';
import { loadModelFolder, predictText } from '../../trainer/engine/inference';
import { labelMapFrom } from '../../trainer/data/labels';
import { collate } from '../../trainer/data/collate';
import { TINY } from './modelFixtures';

before(async () => {
  await tf.setBackend('cpu');
});

const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...Array.from({ length: 15 }, (_, i) => `w${i}`)];
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'ft-ckpt-'));
const state = (step: number): TrainerState => ({
  formatVersion: 1,
  generatedBy: 'test',
  global_step: step,
  epoch: 0,
  total_steps: 10,
  steps_per_epoch: 5,
  seed: 3,
  data_position: { epoch: 0, step_in_epoch: step },
  metric_for_best_model: 'loss',
  greater_is_better: false,
  patience_used: 0,
  log_history: [],
  labels: ['no', 'yes'],
  task: 'text-classification',
  mode: 'from-scratch',
});

test('save → load round trip: bit-identical weights and optimizer state, same logits, loads as a model folder', async () => {
  const runDir = tmp();
  const tokenizer = tokenizerFromVocab(vocab);
  const model = BertModel.create(TINY, 'sequence-classification', { numLabels: 2, seed: 5 });
  const settings = new Map(model.parameterNames().map((n) => [n, { lr: 1e-2, weightDecay: 0.01 }]));
  const opt = new AdamW(model.params, settings, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
  const batch = collate(
    [
      { inputIds: [2, 7, 8, 9, 3], tokenTypeIds: [0, 0, 0, 0, 0], label: 1 },
      { inputIds: [2, 10, 3], tokenTypeIds: [0, 0, 0], label: 0 },
    ],
    0,
    'text-classification',
  );
  const { grads } = await model.lossAndGrads(batch, { training: true, seed: 1 });
  opt.apply(grads, 1);
  for (const g of grads.values()) g.dispose();
  const dir = await saveCheckpoint({
    runDir,
    step: 7,
    model,
    labels: labelMapFrom(['no', 'yes']),
    tokenizer,
    optimizer: opt,
    state: state(7),
  });
  assert.equal(path.basename(dir), 'checkpoint-7');
  assert.deepEqual(readdirSync(dir).sort(), [
    'config.json',
    'model.safetensors',
    'optimizer.safetensors',
    'special_tokens_map.json',
    'tokenizer.json',
    'tokenizer_config.json',
    'trainer_state.json',
    'vocab.txt',
  ]);
  const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(config.architectures, ['BertForSequenceClassification']);
  assert.equal(config.model_type, 'bert');
  assert.deepEqual(config.id2label, { 0: 'no', 1: 'yes' });
  assert.deepEqual(config.label2id, { no: 0, yes: 1 });

  const other = BertModel.create(TINY, 'sequence-classification', { numLabels: 2, seed: 99 });
  await loadModelWeights(other, dir);
  const a = await model.toStateDict();
  const b = await other.toStateDict();
  for (const [k, e] of a) assert.deepEqual(b.get(k)!.data, e.data, k);
  assert.deepEqual((await other.predict(batch)).logits, (await model.predict(batch)).logits);

  const snap = await readOptimizerSnapshot(dir, model.specs);
  const orig = await opt.snapshot();
  assert.equal(snap.step, 1);
  for (const [k, e] of orig.entries) {
    assert.deepEqual(snap.entries.get(k)!.expAvg, e.expAvg);
    assert.deepEqual(snap.entries.get(k)!.expAvgSq, e.expAvgSq);
  }
  assert.equal((await readTrainerState(dir)).global_step, 7);
  // Each moment has its parameter's shape in model.safetensors ([out, in] for Linear weights), as the PyTorch
  // engine reads and writes them: a checkpoint resumes on either engine.
  const moments = await readSafetensors(path.join(dir, 'optimizer.safetensors'));
  const weights = await readSafetensors(path.join(dir, 'model.safetensors'));
  let checked = 0;
  for (const [k, t] of weights.tensors) {
    const m = moments.tensors.get(`${k}.exp_avg`);
    if (m) (assert.deepEqual(m.shape, t.shape, k), checked++);
  }
  assert.ok(checked > 10, `${checked} moments checked`);
  assert.equal(moments.metadata.layout, 'pt');

  // The folder is a Hugging Face model folder for the one-shot commands too.
  const loaded = await loadModelFolder(dir);
  const p = await predictText(loaded, 'w1 w2 w3');
  assert.deepEqual(p.inputIds, [2, 6, 7, 8, 3]);
  assert.ok(['no', 'yes'].includes(p.label));
  assert.ok(Math.abs(Object.values(p.probabilities).reduce((s, x) => s + x, 0) - 1) < 1e-6);
  const pair = await predictText(loaded, 'w1 w2', 'w3');
  assert.deepEqual(pair.inputIds, [2, 6, 7, 3, 8, 3]);
  assert.deepEqual(pair.tokenTypeIds, [0, 0, 0, 0, 1, 1]);
  for (const m of [model, other, loaded.model]) m.dispose();
  opt.dispose();
});

test('save_total_limit deletes the oldest checkpoints but never the best nor the newest', async () => {
  const runDir = tmp();
  for (const s of [10, 20, 30, 40]) mkdirSync(path.join(runDir, `checkpoint-${s}`));
  mkdirSync(path.join(runDir, '.checkpoint-50.tmp-123'));
  const deleted = await pruneCheckpoints(runDir, 2, [path.join(runDir, 'checkpoint-10')]);
  assert.deepEqual(
    deleted.map((d) => path.basename(d)),
    ['checkpoint-20', 'checkpoint-30'],
  );
  assert.deepEqual(
    (await listCheckpoints(runDir)).map((c) => c.step),
    [10, 40],
  );
  // With limit 1 and an older best, both survive: the best and the one just saved.
  assert.deepEqual(await pruneCheckpoints(runDir, 1, [path.join(runDir, 'checkpoint-10')]), []);
  assert.deepEqual(await pruneCheckpoints(runDir, undefined, []), []);
});

test('a process killed during a save leaves the previous checkpoint loadable and no checkpoint-<step> for the broken one', async () => {
  const runDir = tmp();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, 'fixtures', 'saveAndHang.ts'), runDir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      if (c.toString().includes('SAVING')) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before the save: ${err}`)));
  });
  await new Promise((r) => child.on('close', r));
  const names = readdirSync(runDir);
  assert.ok(names.includes('checkpoint-1'));
  assert.ok(!names.includes('checkpoint-2'), names.join(', '));
  assert.ok(
    names.some((n) => n.startsWith('.checkpoint-2.tmp-')),
    'the save had got as far as its temp folder',
  );
  assert.deepEqual(
    (await listCheckpoints(runDir)).map((c) => c.step),
    [1],
  );
  const model = BertModel.create(TINY, 'sequence-classification', { numLabels: 2, seed: 1 });
  const fresh = await model.toStateDict();
  await loadModelWeights(model, path.join(runDir, 'checkpoint-1'));
  for (const [k, e] of await model.toStateDict()) assert.deepEqual(e.data, fresh.get(k)!.data, k);
  assert.equal((await readTrainerState(path.join(runDir, 'checkpoint-1'))).global_step, 1);
  assert.ok(existsSync(path.join(runDir, 'checkpoint-1', 'optimizer.safetensors')));
  model.dispose();
});
