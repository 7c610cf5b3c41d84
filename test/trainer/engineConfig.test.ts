import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../trainer/engine/loadConfig';
import { nodeConfigHost } from '../../files/configHost';
import { readRunInfo } from '../../trainer/engine/runFolder';
import { makeWorkspace, withOverrides, writeConfig } from './engineFixtures';
import { runEngine } from './engineRunner';

async function configError(file: string): Promise<{ code: string; line?: number; detail?: string; message: string }> {
  try {
    await loadConfig(file);
  } catch (e) {
    return e as { code: string; line?: number; detail?: string; message: string };
  }
  throw new Error('expected the config to be refused');
}

test('file checks through the Node host: a missing column and a model folder without weights name their line', async () => {
  const ws = makeWorkspace({ data: { text_column: 'review' } });
  const e = await configError(ws.configFile);
  assert.equal(e.code, 'config-invalid');
  assert.match(
    e.detail!,
    /tiny\.finetune\.yaml:\d+:\d+: error: train\.csv has no column `review` \(text_column\); its columns are `text`, `label`\. \[missing-column\]/,
  );

  mkdirSync(path.join(ws.dir, 'model'));
  writeFileSync(
    path.join(ws.dir, 'model', 'config.json'),
    JSON.stringify({
      model_type: 'bert',
      vocab_size: 67,
      hidden_size: 16,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 32,
      max_position_embeddings: 32,
    }),
  );
  const ft = path.join(ws.dir, 'ft.finetune.yaml');
  writeConfig(
    ft,
    withOverrides({
      mode: 'fine-tune',
      model: { tokenizer: undefined, architecture: undefined, name_or_path: 'model' },
    }),
  );
  const e2 = await configError(ft);
  assert.match(
    e2.detail!,
    /ft\.finetune\.yaml:5:17: error: `model\.name_or_path`: .*has config\.json but no model\.safetensors or pytorch_model\.bin\. Copy the model's weights/,
  );
  assert.equal(e2.line, 5);
});

test('the Node host reads headers, distinct labels, and tells a Hub id from a missing folder', async () => {
  const ws = makeWorkspace();
  const host = nodeConfigHost(ws.dir);
  assert.deepEqual(await host.readColumns(host.resolve('train.csv')), { ok: true, value: ['text', 'label'] });
  const sample = await host.sampleColumns(host.resolve('train.csv'));
  assert.ok(sample.ok && [...sample.value.columns.get('label')!.examples].sort().join() === 'negative,positive');
  assert.equal(await host.localModel('bert-base-uncased'), undefined);
  assert.deepEqual(await host.localTokenizer('tokenizer'), { ok: true, value: true });
  const noTok = await host.localTokenizer('.');
  assert.ok(noTok && !noTok.ok);
});

test('test_file is evaluated at the end; group_by_length runs; save_now saves mid-run; cancel ends without saving', async () => {
  const ws = makeWorkspace({
    data: { test_file: 'validation.csv', group_by_length: true },
    training: { max_steps: 6 },
  });
  const control = { stop: false, saveNow: false, cancel: false };
  const run = await runEngine(ws.configFile, {
    control,
    onStepEnd: (s) => {
      if (s === 2) control.saveNow = true;
    },
  });
  assert.deepEqual(
    run.of('checkpoint').map((c) => c.step),
    [2, 6],
  );
  const test = run.of('eval').filter((e) => e.split === 'test');
  assert.equal(test.length, 1);
  assert.deepEqual(run.done.finalMetrics, test[0]!.metrics);

  const cancel = { stop: false, saveNow: false, cancel: false };
  const cancelled = await runEngine(ws.configFile, {
    control: cancel,
    onStepEnd: (s) => {
      if (s === 3) cancel.cancel = true;
    },
  });
  assert.equal(cancelled.done.status, 'cancelled');
  assert.equal(cancelled.done.step, 3);
  assert.deepEqual(cancelled.of('checkpoint'), []);
  assert.equal((await readRunInfo(cancelled.runDir))?.status, 'cancelled');
});

test('fine-tuning a classifier on a different label set starts a fresh head; same labels keep it', async () => {
  const ws = makeWorkspace({ training: { max_steps: 2 } });
  const first = await runEngine(ws.configFile);
  const ckpt = first.done.lastCheckpoint!;
  const ftTraining = { max_steps: 1 };
  const same = path.join(ws.dir, 'same.finetune.yaml');
  writeConfig(
    same,
    withOverrides({
      mode: 'fine-tune',
      model: { tokenizer: undefined, architecture: undefined, name_or_path: ckpt },
      training: ftTraining,
    }),
  );
  assert.deepEqual((await runEngine(same)).of('model')[0]!.newlyInitialized, []);

  const three = path.join(ws.dir, 'three.csv');
  writeFileSync(
    three,
    'text,label\nthe lamp is great,positive\nthe lamp is awful,negative\nthe lamp is a lamp,neutral\n',
  );
  const other = path.join(ws.dir, 'other.finetune.yaml');
  writeConfig(
    other,
    withOverrides({
      mode: 'fine-tune',
      model: { tokenizer: undefined, architecture: undefined, name_or_path: ckpt },
      data: { train_file: 'three.csv', validation_file: 'three.csv' },
      training: ftTraining,
    }),
  );
  const run = await runEngine(other);
  assert.deepEqual([...run.of('model')[0]!.newlyInitialized].sort(), ['classifier.bias', 'classifier.weight']);
  assert.deepEqual(run.of('plan')[0]!.labels, ['negative', 'neutral', 'positive']);
});

test('a run whose process is gone while run.json says running reads as interrupted', async () => {
  const ws = makeWorkspace();
  const dir = path.join(ws.dir, 'run');
  mkdirSync(dir);
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  writeFileSync(
    path.join(dir, 'run.json'),
    JSON.stringify({ formatVersion: 1, runId: 'r', status: 'running', pid: dead, step: 3, checkpoints: [] }),
  );
  assert.equal((await readRunInfo(dir))?.status, 'interrupted');
  writeFileSync(
    path.join(dir, 'run.json'),
    JSON.stringify({ formatVersion: 1, runId: 'r', status: 'running', pid: process.pid, step: 3, checkpoints: [] }),
  );
  assert.equal((await readRunInfo(dir))?.status, 'running');
  assert.equal(await readRunInfo(path.join(ws.dir, 'nothing')), undefined);
});

test('a run that fails after its folder exists is marked failed in run.json', async () => {
  // The config check would refuse a folder without trainer_state.json; the CLI flag is checked when the run starts.
  const plain = makeWorkspace();
  await assert.rejects(
    runEngine(plain.configFile, { resumeFrom: path.join(plain.dir, 'tokenizer') }),
    /not a checkpoint/,
  );
  const runs = path.join(plain.dir, '.finetune', 'runs');
  const [only] = readdirSync(runs);
  const info = await readRunInfo(path.join(runs, only!));
  assert.equal(info?.status, 'failed');
  assert.equal(info?.error?.code, 'checkpoint-invalid');
});
