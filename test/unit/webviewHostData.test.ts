// The pure-node parts of the panel hosts: checkpoint listing (labels, rotation, broken ones), the forked config,
// the model card, run history from metrics.jsonl, and the freezing panel's model from config or model files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { bertParameters } from '../../common/bertParams';
import { validateConfigText } from '../../common/config/validate';
import {
  cardForOlderCheckpoint,
  deletedNext,
  forkConfigText,
  readCheckpoints,
} from '../../extension/panels/checkpointStore';
import { freezeModelFor } from '../../extension/panels/freezeModel';
import { readRunSeries } from '../../extension/panels/runHistory';
import { writeSafetensors } from '../../files/hf/safetensors';
import { nodeConfigHost } from '../../files/configHost';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'ft-panels-'));

async function checkpoint(runDir: string, step: number, files: Record<string, string>): Promise<void> {
  const dir = path.join(runDir, `checkpoint-${step}`);
  await fs.mkdir(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) await fs.writeFile(path.join(dir, f), text);
}
const state = (step: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    formatVersion: 1,
    global_step: step,
    epoch: step / 10,
    log_history: [{ step, eval_accuracy: step / 100 }],
    ...extra,
  });

test('save_total_limit deletes the oldest non-best next', () => {
  const s = [
    { step: 10, isBest: false },
    { step: 20, isBest: true },
    { step: 30, isBest: false },
  ];
  assert.deepEqual([...deletedNext(s, 3)], [10]);
  assert.deepEqual([...deletedNext(s, 2)], [10, 30]);
  assert.deepEqual([...deletedNext(s, 5)], []);
  assert.deepEqual([...deletedNext(s, undefined)], []);
});

test('checkpoints: step, epoch, metrics, best/last labels, broken ones with the reason', async () => {
  const runDir = tmp();
  await checkpoint(runDir, 10, { 'config.json': '{}', 'model.safetensors': 'x', 'trainer_state.json': state(10) });
  await checkpoint(runDir, 20, {
    'config.json': '{}',
    'model.safetensors': 'x',
    'trainer_state.json': state(20, { best_model_checkpoint: path.join(runDir, 'checkpoint-20') }),
  });
  await checkpoint(runDir, 30, { 'config.json': '{ not json', 'trainer_state.json': state(30) });
  await fs.mkdir(path.join(runDir, '.checkpoint-40.tmp-123'));
  const list = await readCheckpoints(runDir, { saveTotalLimit: 3 });
  assert.deepEqual(
    list.map((c) => c.name),
    ['checkpoint-10', 'checkpoint-20', 'checkpoint-30'],
  );
  const [a, b, c] = list;
  assert.equal(a!.epoch, 1);
  assert.equal(a!.metrics.eval_accuracy, 0.1);
  assert.ok(a!.sizeBytes > 0);
  assert.equal(b!.isBest, true);
  assert.equal(c!.isLast, true);
  assert.match(c!.broken ?? '', /model\.safetensors is missing/);
  assert.match(c!.broken ?? '', /config\.json is not valid JSON/);
  assert.equal(a!.broken, undefined);
  assert.deepEqual(
    list.filter((x) => x.deletedNext).map((x) => x.name),
    ['checkpoint-10'],
  );
});

test('a forked config points at the checkpoint, keeps comments and drops what fine-tuning cannot take', () => {
  const text =
    '# my run\nmode: from-scratch # first try\ntask: text-classification\nmodel:\n  tokenizer: ./tok # keep\n  architecture:\n    hidden_size: 64\n    num_hidden_layers: 2\ntraining:\n  seed: 3\n  resume_from_checkpoint: ./old\n';
  const out = forkConfigText(text, '/w', '/w/.finetune/runs/r1/checkpoint-20');
  assert.ok(out.includes('# my run') && out.includes('# first try') && out.includes('# keep'));
  const { config } = validateConfigText(out);
  assert.equal(config.mode, 'fine-tune');
  assert.equal(config.model.name_or_path, './.finetune/runs/r1/checkpoint-20');
  assert.equal(config.model.architecture, undefined);
  assert.equal(config.training.resume_from_checkpoint, undefined);
  assert.equal(config.training.seed, 3);
});

test("an older checkpoint without a model card gets the trainer's card from the run's config and state", async () => {
  const runDir = tmp();
  await checkpoint(runDir, 20, {
    'config.json': JSON.stringify({ model_type: 'bert', _name_or_path: 'bert-tiny' }),
    'trainer_state.json': JSON.stringify({
      formatVersion: 1,
      global_step: 20,
      labels: ['neg', 'pos'],
      log_history: [{ step: 20, eval_loss: 0.3, eval_accuracy: 0.91 }],
    }),
  });
  const config = [
    'mode: fine-tune',
    'task: text-classification',
    'model:',
    '  name_or_path: bert-tiny',
    'data:',
    '  train_file: train.csv',
    '  text_column: sentence',
    'training:',
    '  learning_rate: 2.0e-5',
  ].join('\n');
  await fs.writeFile(path.join(runDir, 'config.resolved.yaml'), config);
  const ckpt = path.join(runDir, 'checkpoint-20');
  const card = await cardForOlderCheckpoint(ckpt, 'sst', [
    path.join(runDir, 'missing.yaml'),
    path.join(runDir, 'config.resolved.yaml'),
  ]);
  assert.ok(card, 'a card');
  for (const s of [
    'pipeline_tag: text-classification',
    '# sst',
    'fine-tuned from the local model folder `bert-tiny`',
    'on `train.csv`',
    '- learning_rate: 0.00002',
    '- accuracy: 0.91',
    'Labels: `neg`, `pos`',
    'pipeline("text-classification", model="path/to/this/folder")',
  ])
    assert.ok(card.includes(s), `${s} in\n${card}`);
  assert.equal(await cardForOlderCheckpoint(ckpt, 'sst', [path.join(runDir, 'missing.yaml')]), undefined);
});

test('run history skips a torn last line and keeps the rest', async () => {
  const runDir = tmp();
  const step = (n: number) =>
    JSON.stringify({
      type: 'step',
      step: n,
      epoch: n / 10,
      loss: 1 / n,
      learningRate: 1e-5,
      gradNorm: 1,
      samplesPerSecond: 10,
      tokensPerSecond: 100,
      elapsedMs: n,
      etaMs: null,
    });
  await fs.writeFile(
    path.join(runDir, 'metrics.jsonl'),
    `${step(1)}\n${step(2)}\n{"type":"eval","step":2,"epoch":0.2,"split":"validation","metrics":{"accuracy":0.5},"isBest":true}\n{"type":"step","st`,
  );
  const s = await readRunSeries(runDir, 'r', 'r');
  assert.deepEqual(s.steps.step, [1, 2]);
  assert.equal(s.evals.length, 1);
});

test('freezing model: from the architecture of a from-scratch config, with the freeze lists applied', async () => {
  const text =
    'mode: from-scratch\ntask: text-classification\nmodel:\n  tokenizer: ./tok\n  architecture:\n    vocab_size: 100\n    hidden_size: 16\n    num_hidden_layers: 3\n    num_attention_heads: 2\n    intermediate_size: 32\ndata:\n  train_file: t.csv\n  max_length: 32\ntraining:\n  per_device_train_batch_size: 4\nfreeze: [bert.embeddings, bert.encoder.layer.0]\n';
  const m = await freezeModelFor('/w/a.finetune.yaml', text, nodeConfigHost('/w'));
  assert.ok(m.state.tree, m.state.reason);
  assert.equal(m.state.numLayers, 3);
  const emb = m.state.tree!.children[0]!.children.find((c) => c.name === 'embeddings')!;
  assert.equal(emb.trainable, 0);
  assert.ok(emb.total > 0);
  assert.equal(m.state.memory!.layersWithActivations, 2);
  assert.deepEqual(m.state.freeze, ['bert.embeddings', 'bert.encoder.layer.0']);
});

test('freezing model: from a local model folder (config.json + safetensors header), or a reason when absent', async () => {
  const dir = tmp();
  const cfg = {
    model_type: 'bert',
    vocab_size: 50,
    hidden_size: 8,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 16,
    max_position_embeddings: 32,
    type_vocab_size: 2,
  };
  await fs.mkdir(path.join(dir, 'model'));
  await fs.writeFile(path.join(dir, 'model', 'config.json'), JSON.stringify(cfg));
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const p of bertParameters(cfg, 'none'))
    tensors[p.name] = { shape: p.shape, data: new Float32Array(p.shape.reduce((a, b) => a * b, 1)) };
  await writeSafetensors(path.join(dir, 'model', 'model.safetensors'), tensors);
  const text =
    'mode: fine-tune\ntask: text-classification\nmodel:\n  name_or_path: ./model\ndata:\n  train_file: t.csv\n';
  const m = await freezeModelFor(path.join(dir, 'a.finetune.yaml'), text, nodeConfigHost(dir));
  assert.ok(m.state.tree, m.state.reason);
  assert.equal(m.state.numLayers, 2);
  assert.ok(m.names.includes('classifier.weight'), 'the task head is added to the encoder');
  assert.equal(m.state.tree!.trainable, m.state.tree!.total);
  const missing = await freezeModelFor(
    path.join(dir, 'b.finetune.yaml'),
    text.replace('./model', './nowhere'),
    nodeConfigHost(dir),
  );
  assert.equal(missing.state.tree, undefined);
  assert.match(missing.state.reason ?? '', /not a local folder/);
});
