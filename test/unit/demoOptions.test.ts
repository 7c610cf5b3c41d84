/**
 * The demo's `--model` / `--task` options and the configs made from them: the scratch arm's architecture is the
 * model's, the fine-tune arms load it, MRPC is named by Hub data set; and a bad model is refused before training.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { isFineTuneError } from '../../common/errors';
import { validateConfigText } from '../../common/config/validate';
import { seedConfig, OTHER_MODEL_LEARNING_RATES } from '../../scripts/demo/demoConfig';
import { resolveDemoModel, type DemoModel } from '../../scripts/demo/demoModel';
import { DEFAULT_SIZES, parseArgs } from '../../scripts/demo/options';
import { curveSchedule, curveSteps } from '../../scripts/demo/runDemo';
import { findTask } from '../../scripts/demo/tasks';

const root = path.resolve(import.meta.dirname, '..', '..');
const examples = path.join(root, 'examples');
type Cfg = Record<string, Record<string, unknown>>;

/** bert-base-uncased's config.json, as the Hub serves it. */
const BERT_BASE = {
  architectures: ['BertForMaskedLM'],
  attention_probs_dropout_prob: 0.1,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  hidden_size: 768,
  initializer_range: 0.02,
  intermediate_size: 3072,
  layer_norm_eps: 1e-12,
  max_position_embeddings: 512,
  model_type: 'bert',
  num_attention_heads: 12,
  num_hidden_layers: 12,
  pad_token_id: 0,
  type_vocab_size: 2,
  vocab_size: 30522,
};

async function modelFolder(config: Record<string, unknown>, files = ['model.safetensors', 'vocab.txt']) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'demo-model-'));
  await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(config));
  for (const f of files) await fs.writeFile(path.join(dir, f), f === 'vocab.txt' ? '[PAD]\n[UNK]\n' : '');
  return dir;
}

async function configFor(variant: string, model: DemoModel, extra: Record<string, unknown> = {}): Promise<Cfg> {
  const text = await fs.readFile(path.join(examples, `${variant}.finetune.yaml`), 'utf8');
  return seedConfig(text, examples, {
    seed: 2,
    outputDir: '/tmp/o',
    runName: variant,
    variant,
    model,
    task: findTask('sentiment'),
    ...extra,
  }) as Cfg;
}

test('options: --model, --task, --backend, the curve sizes and seeds, learning rates', () => {
  const d = parseArgs([], root);
  assert.equal(d.model, path.join(root, 'examples', 'pretrained'), 'the shipped model by default');
  assert.equal(d.task.name, 'sentiment');
  assert.deepEqual(d.sizes, DEFAULT_SIZES);
  assert.deepEqual(d.curveSeeds, [1, 2], 'two seeds for the curve by default (the 10-minute budget)');
  assert.equal(d.backend, undefined);
  const o = parseArgs(
    ['--model', 'google-bert/bert-base-uncased', '--task', 'mrpc', '--backend', 'webgpu', '--sizes', '256,64'],
    root,
  );
  assert.equal(o.model, 'google-bert/bert-base-uncased');
  assert.equal(o.task.name, 'mrpc');
  assert.equal(o.backend, 'webgpu');
  assert.deepEqual(o.sizes, [64, 256]);
  assert.deepEqual(parseArgs(['--sizes', 'none'], root).sizes, []);
  assert.deepEqual(parseArgs(['--quick'], root).curveSeeds, [1]);
  assert.deepEqual(parseArgs(['--curve-seeds', '4,5'], root).curveSeeds, [4, 5]);
  assert.deepEqual([...parseArgs(['--learning-rate', 'finetune=3e-5'], root).learningRates], [['finetune', 3e-5]]);
  assert.throws(() => parseArgs(['--task', 'cola'], root), /unknown --task 'cola'; known: sentiment, mrpc/);
  assert.throws(() => parseArgs(['--backend', 'tpu'], root), /--backend wants one of auto, webgpu/);
  assert.throws(() => parseArgs(['--sizes', '64,x'], root), /--sizes wants comma-separated integers/);
  assert.throws(() => parseArgs(['--learning-rate', 'finetune=2'], root), /--learning-rate wants variant=rate/);
  assert.throws(() => parseArgs(['--learning-rate', '__proto__=1e-4'], root), /--learning-rate wants variant=rate/);
  assert.throws(() => parseArgs(['--max-steps', '0'], root), /--max-steps wants a positive integer/);
});

test('the scratch arm has the architecture and tokenizer of --model; the fine-tune arms load it', async () => {
  const dir = await modelFolder(BERT_BASE);
  try {
    const model = await resolveDemoModel(dir, { cwd: '/', needWeights: true });
    const scratch = await configFor('scratch', model, { shippedModel: false });
    assert.equal(scratch.model!.name_or_path, undefined);
    assert.equal(scratch.model!.tokenizer, dir);
    const arch = scratch.model!.architecture as Record<string, number>;
    for (const key of Object.keys(arch).filter((k) => !k.endsWith('dropout_prob')))
      assert.equal(arch[key], BERT_BASE[key as keyof typeof BERT_BASE], key);
    assert.deepEqual(Object.keys(arch).length, 11);
    assert.equal(scratch.training!.learning_rate, OTHER_MODEL_LEARNING_RATES.scratch);
    assert.equal(scratch.data!.max_length, 64);

    const finetune = await configFor('finetune', model, { shippedModel: false, backend: 'webgpu' });
    assert.equal(finetune.model!.name_or_path, dir);
    assert.equal(finetune.model!.architecture, undefined);
    assert.equal((finetune as Record<string, unknown>).backend, 'webgpu');
    assert.equal(finetune.training!.learning_rate, 2e-5);
    const frozen = await configFor('finetune-frozen', model, { shippedModel: false });
    const freeze = (frozen as Record<string, unknown>).freeze as string[];
    assert.equal(freeze.length, 12, 'embeddings and 11 of 12 layers');
    assert.ok(freeze.includes('bert.encoder.layer.10') && !freeze.includes('bert.encoder.layer.11'));
    for (const c of [scratch, finetune, frozen]) {
      const diagnostics = validateConfigText(stringify(c)).diagnostics.filter((x) => x.severity === 'error');
      assert.deepEqual(diagnostics, [], 'the generated config validates');
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('with the shipped model, the generated configs are the shipped ones (same shape, tokenizer, rates)', async () => {
  const model = await resolveDemoModel(path.join(examples, 'pretrained'), { cwd: root, needWeights: false });
  const scratch = await configFor('scratch', model, { shippedModel: true });
  const text = await fs.readFile(path.join(examples, 'scratch.finetune.yaml'), 'utf8');
  const plain = seedConfig(text, examples, { seed: 2, outputDir: '/tmp/o', runName: 'scratch' }) as Cfg;
  const { vocab_size: vocab, ...shape } = scratch.model!.architecture as Record<string, number>;
  assert.equal(vocab, 8000);
  assert.deepEqual(
    { ...plain.model!.architecture!, layer_norm_eps: 1e-12, initializer_range: 0.02, type_vocab_size: 2 },
    shape,
  );
  assert.deepEqual(scratch.training, plain.training, 'the tuned learning rate stays');
  assert.deepEqual(scratch.data, plain.data);
  const finetune = await configFor('finetune-frozen', model, { shippedModel: true });
  assert.deepEqual((finetune as Record<string, unknown>).freeze, ['bert.embeddings', 'bert.encoder.layer.0']);
});

test('--task mrpc names GLUE MRPC by Hub data set, with its pair columns and run_glue recipe', async () => {
  const dir = await modelFolder(BERT_BASE);
  try {
    const model = await resolveDemoModel(dir, { cwd: '/', needWeights: true });
    const text = await fs.readFile(path.join(examples, 'finetune.finetune.yaml'), 'utf8');
    const c = seedConfig(text, examples, {
      seed: 1,
      outputDir: '/o',
      runName: 'x',
      variant: 'finetune',
      model,
      shippedModel: false,
      task: findTask('mrpc'),
    }) as Cfg;
    assert.deepEqual(c.data, {
      dataset_name: 'nyu-mll/glue',
      dataset_config_name: 'mrpc',
      train_split_name: 'train',
      validation_split_name: 'validation',
      test_split_name: 'validation',
      text_column: 'sentence1',
      text_pair_column: 'sentence2',
      label_column: 'label',
      max_length: 128,
      group_by_length: true,
    });
    assert.equal(c.training!.max_steps, undefined);
    assert.equal(c.training!.num_train_epochs, 3);
    assert.equal(c.training!.per_device_train_batch_size, 32);
    assert.equal(c.training!.learning_rate, 2e-5);
    assert.equal(c.training!.load_best_model_at_end, false, 'validation doubles as test: no selection on it');
    // The data set's keys are the schema's (HF run_classification.py names): the config validates clean.
    const errors = validateConfigText(stringify(c)).diagnostics.filter((d) => d.severity === 'error');
    assert.deepEqual(errors, []);
    assert.equal(curveSteps(c.training!, 3668), 345, '3 epochs of ⌈3668 / 32⌉ batches');
    assert.equal(curveSteps({ max_steps: 200 }, 2084), 200);
    assert.equal(curveSteps({ ...c.training!, gradient_accumulation_steps: 2 }, 3668), 174, 'as the engine counts');
    // A curve run evaluates (and saves) at the full split's epochs, not at every epoch of its subset.
    const every = { eval_strategy: 'steps', eval_steps: 115, save_strategy: 'steps', save_steps: 115 };
    assert.deepEqual(curveSchedule(c.training!, 3668), every);
    assert.deepEqual(curveSchedule({ eval_strategy: 'steps', save_strategy: 'steps', eval_steps: 25 }, 2084), {});
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string; fix: string }> {
  const e: unknown = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  assert.ok(isFineTuneError(e), `a FineTuneError, got ${String(e)}`);
  return { code: e.code, message: e.message, fix: e.fix ?? '' };
}

test('a model the demo cannot use is refused before training, saying why', async () => {
  const missing = await refusal(resolveDemoModel('./no/such/model', { cwd: root, needWeights: true }));
  assert.equal(missing.code, 'model-not-found');
  assert.match(missing.message, /there is no folder .*no\/such\/model/);
  assert.match(missing.fix, /Hub id such as google-bert\/bert-base-uncased/);
  const roberta = await modelFolder({ ...BERT_BASE, model_type: 'roberta' });
  const gelu = await modelFolder({ ...BERT_BASE, hidden_act: 'silu' });
  const noWeights = await modelFolder(BERT_BASE, ['vocab.txt']);
  const noTokenizer = await modelFolder(BERT_BASE, ['model.safetensors']);
  try {
    assert.equal(
      (await refusal(resolveDemoModel(roberta, { cwd: '/', needWeights: true }))).code,
      'model-unsupported-type',
    );
    assert.equal(
      (await refusal(resolveDemoModel(gelu, { cwd: '/', needWeights: true }))).code,
      'model-unsupported-activation',
    );
    assert.equal(
      (await refusal(resolveDemoModel(noWeights, { cwd: '/', needWeights: true }))).code,
      'model-missing-weights',
    );
    // The scratch arm alone needs no weights.
    assert.equal((await resolveDemoModel(noWeights, { cwd: '/', needWeights: false })).source, 'folder');
    assert.equal(
      (await refusal(resolveDemoModel(noTokenizer, { cwd: '/', needWeights: true }))).code,
      'tokenizer-not-found',
    );
  } finally {
    for (const d of [roberta, gelu, noWeights, noTokenizer]) await fs.rm(d, { recursive: true, force: true });
  }
});

test('a Hub id is fetched once before training (weights only when a fine-tune arm needs them) and named as given', async () => {
  const snapshot = await modelFolder(BERT_BASE);
  const calls: [string, boolean][] = [];
  try {
    const fetch = async (id: string, weights: boolean) => {
      calls.push([id, weights]);
      return snapshot;
    };
    const m = await resolveDemoModel('google-bert/bert-base-uncased', { cwd: root, needWeights: true, fetch });
    assert.equal(m.source, 'hub');
    assert.equal(m.nameOrPath, 'google-bert/bert-base-uncased', 'the configs name the Hub id');
    assert.equal(m.folder, snapshot);
    assert.equal(m.config.hidden_size, 768);
    await resolveDemoModel('prajjwal1/bert-tiny', { cwd: root, needWeights: false, fetch });
    assert.deepEqual(calls, [
      ['google-bert/bert-base-uncased', true],
      ['prajjwal1/bert-tiny', false],
    ]);
  } finally {
    await fs.rm(snapshot, { recursive: true, force: true });
  }
});
