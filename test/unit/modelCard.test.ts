/**
 * Issue 16, item 2: a checkpoint's model card (README.md) records what it was fine-tuned from and at which
 * revision and commit, in the metadata the Hub reads, and stays text whatever the user's labels say.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { modelCardFacts, modelCardText } from '../../common/runFolder/modelCard';
import type { FineTuneConfig } from '../../common/config/schema';
import type { TrainerStateFile } from '../../common/runFolder/trainerState';
import { validateConfigText } from '../../common/config/validate';

const COMMIT = 'a'.repeat(39) + 'b';

function config(extra: string): FineTuneConfig {
  const text = [
    'mode: fine-tune',
    'task: text-classification',
    'run_name: mrpc-bert',
    'model:',
    '  name_or_path: google-bert/bert-base-uncased',
    '  revision: refs/pr/7',
    'data:',
    '  dataset_name: nyu-mll/glue',
    '  dataset_config_name: mrpc',
    '  text_column: sentence1',
    '  text_pair_column: sentence2',
    'training:',
    '  learning_rate: 2.0e-5',
    '  num_train_epochs: 3',
    extra,
  ].join('\n');
  const r = validateConfigText(text);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(errors, []);
  return r.config;
}

const state = (labels: string[]): TrainerStateFile => ({
  formatVersion: 1,
  global_step: 345,
  generatedBy: 'finetune-studio 0.1.0',
  labels,
  log_history: [
    { step: 100, eval_loss: 0.9, eval_accuracy: 0.5 },
    { step: 345, loss: 0.2 },
    { step: 345, eval_loss: 0.41234567, eval_accuracy: 0.8431, eval_f1: 0.889, eval_runtime: 3.2 },
  ],
});

function frontMatter(card: string): Record<string, unknown> {
  const m = /^---\n([\s\S]*?)\n---\n/.exec(card);
  assert.ok(m, 'the card starts with YAML front matter');
  return parseYaml(m[1]!) as Record<string, unknown>;
}

test('a Hub model: base_model, the revision asked for and the commit it resolved to, data set, results', () => {
  const source = {
    _name_or_path: 'google-bert/bert-base-uncased',
    finetune_studio_revision: COMMIT,
    model_type: 'bert',
  };
  const card = modelCardText(modelCardFacts(config(''), source, state(['not_equivalent', 'equivalent']), 'run-1'));
  const meta = frontMatter(card);
  assert.equal(meta.base_model, 'google-bert/bert-base-uncased');
  assert.equal(meta.library_name, 'transformers');
  assert.deepEqual(meta.datasets, ['nyu-mll/glue']);
  assert.deepEqual(meta.metrics, ['accuracy', 'f1']);
  assert.match(
    card,
    /fine-tuned version of \[google-bert\/bert-base-uncased\]\(https:\/\/huggingface\.co\/google-bert\/bert-base-uncased\)/,
  );
  assert.ok(card.includes(`at revision \`refs/pr/7\` (commit \`${COMMIT}\`)`), card);
  assert.ok(card.includes('on the Hub data set `nyu-mll/glue`, configuration `mrpc`'), card);
  // The latest evaluation, not the first; timings are not results.
  assert.ok(card.includes('- loss: 0.412346\n- accuracy: 0.8431\n- f1: 0.889\n'), card);
  assert.ok(!card.includes('runtime'));
  assert.ok(card.includes('- learning_rate: 0.00002') || card.includes('- learning_rate: 2e-5'), card);
  assert.ok(card.includes('- num_epochs: 3'));
  assert.ok(card.includes('Labels: `not_equivalent`, `equivalent`'));
});

test('a local folder is named by its folder name only, and gets no base_model even if its config names one', () => {
  const c = config('');
  c.model.name_or_path = '/home/someone/models/checkpoint-300';
  // A checkpoint of a Hub model keeps that model's _name_or_path and commit in its config.json.
  const source = { _name_or_path: 'google-bert/bert-base-uncased', finetune_studio_revision: COMMIT };
  const card = modelCardText(modelCardFacts(c, source, state([]), 'run-2'));
  assert.equal(frontMatter(card).base_model, undefined);
  assert.ok(card.includes('fine-tuned from the local model folder `checkpoint-300`'), card);
  assert.ok(!card.includes('/home/someone'), 'no absolute path in a card that may be shared');
});

test('a from-scratch run says so', () => {
  const text =
    'mode: from-scratch\ntask: text-classification\nmodel:\n  tokenizer: tok\ndata:\n  train_file: train.csv\n';
  const r = validateConfigText(text);
  assert.deepEqual(
    r.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  const card = modelCardText(modelCardFacts(r.config, undefined, state(['neg', 'pos']), 'scratch-20261206'));
  assert.ok(card.includes('trained from scratch (random initialisation) on `train.csv`.'), card);
  assert.ok(card.includes('# scratch-20261206\n'), 'without run_name, the run folder names the model');
  assert.equal(frontMatter(card).base_model, undefined);
});

test('hostile labels, run names and data set names stay text: YAML keeps its keys, Markdown makes no link', () => {
  const c = config('');
  c.run_name = 'x\n---\nbase_model: evil/model\n# [click](javascript:alert(1))';
  const source = { _name_or_path: 'google-bert/bert-base-uncased', finetune_studio_revision: COMMIT };
  const labels = ['](javascript:alert(1))', '`<img src=x onerror=alert(1)>`', 'a\n---'];
  const card = modelCardText(modelCardFacts(c, source, state(labels), 'run-3'));
  const meta = frontMatter(card);
  assert.equal(meta.base_model, 'google-bert/bert-base-uncased');
  assert.deepEqual((meta['model-index'] as { name: string }[])[0]!.name, c.run_name);
  const body = card.replace(/^---\n[\s\S]*?\n---\n/, '');
  // Outside code spans, a link needs an unescaped `[`: only the base model's link has one.
  const outsideCode = body.replace(/`[^`\n]*`/g, '');
  assert.equal((outsideCode.match(/(^|[^\\])\[/g) ?? []).length, 1, outsideCode);
  assert.ok(!/(^|[^\\])</.test(outsideCode), 'no raw HTML');
  assert.ok(!/^---$/m.test(body), 'a title cannot end the front matter or draw a rule');
  // Labels are code spans (no Markdown inside), and a backtick in one cannot close it early.
  assert.ok(body.includes("Labels: `](javascript:alert(1))`, `'<img src=x onerror=alert(1)>'`, `a ---`"), body);
});
