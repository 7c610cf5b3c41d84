/**
 * Integration: a tiny BERT learns the sample review task from scratch, and a masked-lm model pre-trained from
 * scratch is fine-tuned into a classifier (its encoder loaded, the classifier head newly initialised).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import { readSafetensors } from '../../files/hf/safetensors';
import { makeWorkspace, withOverrides, writeConfig } from './engineFixtures';
import { runEngine } from './engineRunner';

const SMALL = { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64 };

test('from scratch: a tiny BERT reaches high accuracy on the sample reviews within a few hundred steps', async () => {
  const ws = makeWorkspace(
    {
      model: { architecture: SMALL },
      training: {
        max_steps: 240,
        per_device_train_batch_size: 16,
        learning_rate: 1e-3,
        warmup_ratio: 0.1,
        weight_decay: 0.01,
        eval_strategy: 'steps',
        eval_steps: 80,
        save_strategy: 'no',
        logging_steps: 20,
      },
    },
    { trainRows: 600, validationRows: 200 },
  );
  const t0 = Date.now();
  const run = await runEngine(ws.configFile);
  const seconds = (Date.now() - t0) / 1000;
  assert.equal(run.done.status, 'completed');
  const evals = run.of('eval');
  const last = evals.at(-1)!;
  assert.ok(
    last.metrics.accuracy! >= 0.95,
    `validation accuracy ${last.metrics.accuracy} after ${run.done.step} steps`,
  );
  assert.ok(last.metrics.f1! >= 0.95);
  const steps = run.of('step');
  assert.ok(steps.at(-1)!.loss! < steps[0]!.loss! / 4, `loss ${steps[0]!.loss} → ${steps.at(-1)!.loss}`);
  assert.ok(seconds < 60, `took ${seconds}s`);
});

test('masked-lm pre-training from scratch, then fine-tuning that model for classification', async () => {
  const ws = makeWorkspace(
    {
      task: 'masked-lm',
      model: { architecture: SMALL },
      data: { validation_file: 'validation.csv' },
      training: {
        max_steps: 300,
        per_device_train_batch_size: 32,
        learning_rate: 3e-3,
        warmup_ratio: 0.05,
        eval_strategy: 'steps',
        eval_steps: 100,
        save_strategy: 'no',
        logging_steps: 25,
      },
    },
    { trainRows: 600, name: 'pretrain.finetune.yaml' },
  );
  const pre = await runEngine(ws.configFile);
  assert.equal(pre.done.status, 'completed');
  const evals = pre.of('eval');
  const vocabSize = readFileSync(path.join(ws.dir, 'tokenizer', 'vocab.txt'), 'utf8')
    .trim()
    .split('\n').length;
  // Guessing uniformly has perplexity = vocabulary size; the word lists make the text very predictable.
  assert.ok(
    evals.at(-1)!.metrics.perplexity! < vocabSize / 3,
    `perplexity ${evals.at(-1)!.metrics.perplexity} (vocabulary ${vocabSize})`,
  );
  assert.ok(evals.at(-1)!.metrics.loss! < evals[0]!.metrics.loss!);
  const mlmDir = pre.done.lastCheckpoint!;
  const mlmConfig = JSON.parse(readFileSync(path.join(mlmDir, 'config.json'), 'utf8')) as { architectures: string[] };
  assert.deepEqual(mlmConfig.architectures, ['BertForMaskedLM']);
  const mlmWeights = (await readSafetensors(path.join(mlmDir, 'model.safetensors'))).tensors;
  assert.ok(mlmWeights.has('cls.predictions.bias') && !mlmWeights.has('classifier.weight'));

  const ftFile = path.join(ws.dir, 'finetune.finetune.yaml');
  writeConfig(
    ftFile,
    withOverrides({
      mode: 'fine-tune',
      model: { tokenizer: undefined, architecture: undefined, name_or_path: mlmDir },
      training: {
        max_steps: 100,
        per_device_train_batch_size: 16,
        learning_rate: 1e-3,
        warmup_ratio: 0.1,
        eval_strategy: 'steps',
        eval_steps: 50,
        save_strategy: 'no',
        logging_steps: 25,
      },
    }),
  );
  const ft = await runEngine(ftFile);
  const model = ft.of('model')[0]!;
  assert.deepEqual([...model.newlyInitialized].sort(), [
    'bert.pooler.dense.bias',
    'bert.pooler.dense.weight',
    'classifier.bias',
    'classifier.weight',
  ]);
  assert.ok(ft.of('log').some((l) => /Newly initialised/.test(l.message)));
  assert.equal(ft.done.status, 'completed');
  const acc = ft.of('eval').at(-1)!.metrics.accuracy!;
  assert.ok(acc >= 0.9, `fine-tuned accuracy ${acc}`);
  const ftConfig = JSON.parse(readFileSync(path.join(ft.done.lastCheckpoint!, 'config.json'), 'utf8')) as {
    architectures: string[];
    id2label: Record<string, string>;
  };
  assert.deepEqual(ftConfig.architectures, ['BertForSequenceClassification']);
  assert.deepEqual(ftConfig.id2label, { 0: 'negative', 1: 'positive' });
});
