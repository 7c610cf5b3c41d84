import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CompletionItem, MarkupContent } from 'vscode-languageserver';
import { BASE, service, withCursor } from './fixtures';

async function complete(marked: string): Promise<CompletionItem[]> {
  const { document, position } = withCursor(marked);
  return (await service().doComplete(document, position)).items;
}
const labels = (items: CompletionItem[]) => items.map((i) => i.label);
const newText = (item: CompletionItem | undefined) =>
  item?.textEdit && 'newText' in item.textEdit ? item.textEdit.newText : undefined;
const docOf = (item: CompletionItem | undefined) => (item?.documentation as MarkupContent | undefined)?.value ?? '';

describe('completion: keys', () => {
  it('top-level keys, never one already present, with documentation and default', async () => {
    const items = await complete(BASE + '|');
    const l = labels(items);
    for (const k of ['task', 'backend', 'output_dir', 'freeze', 'unfreeze']) assert.ok(l.includes(k), k);
    for (const k of ['mode', 'model', 'data', 'training']) assert.ok(!l.includes(k), `${k} is already present`);
    const backend = items.find((i) => i.label === 'backend')!;
    assert.match(docOf(backend), /TensorFlow\.js backend/);
    assert.match(docOf(backend), /Default: `auto`/);
    assert.equal(newText(backend), 'backend: ');
  });
  it('after `training:` only training keys, minus those present', async () => {
    const items = await complete(BASE + '  |');
    const l = labels(items);
    assert.ok(
      l.includes('num_train_epochs') && l.includes('lr_scheduler_type') && l.includes('load_best_model_at_end'),
    );
    assert.ok(!l.includes('learning_rate'), 'already present');
    assert.ok(!l.includes('train_file') && !l.includes('mode'));
    const wd = items.find((i) => i.label === 'weight_decay')!;
    assert.match(docOf(wd), /Hugging Face: `TrainingArguments.weight_decay`/);
    assert.match(docOf(wd), /Range: in \[0, 1\]/);
  });
  it('keys of a nested section (model.architecture), replacing the typed prefix', async () => {
    const items = await complete('mode: from-scratch\nmodel:\n  architecture:\n    hidden_size: 64\n    num_h|\n');
    const l = labels(items);
    assert.ok(l.includes('num_hidden_layers') && l.includes('num_attention_heads'));
    assert.ok(!l.includes('hidden_size'));
    const edit = items.find((i) => i.label === 'num_hidden_layers')!.textEdit as {
      range: { start: { character: number }; end: { character: number } };
    };
    assert.deepEqual([edit.range.start.character, edit.range.end.character], [4, 9]);
  });
  it('a section key inserts an indented block', async () => {
    const items = await complete('mode: fine-tune\n|');
    assert.equal(newText(items.find((i) => i.label === 'training')), 'training:\n  ');
  });
  it('no `: ` when the colon is already there', async () => {
    const items = await complete('mode: fine-tune\nback|: auto\n');
    assert.equal(newText(items.find((i) => i.label === 'backend')), 'backend');
  });
  it('nothing inside a comment', async () => {
    assert.deepEqual(await complete(BASE + '# a comment |'), []);
  });
});

describe('completion: values', () => {
  it('enum values with their documentation', async () => {
    const items = await complete(BASE + '  lr_scheduler_type: |');
    assert.deepEqual(labels(items), ['linear', 'cosine', 'constant', 'constant_with_warmup']);
    assert.match(docOf(items[1]), /half cosine/);
    assert.deepEqual(labels(await complete('mode: |')), ['fine-tune', 'from-scratch']);
    assert.deepEqual(labels(await complete(BASE + '  eval_strategy: ep|')), ['no', 'steps', 'epoch']);
    assert.ok(labels(await complete('backend: |')).includes('wasm'));
    assert.deepEqual(labels(await complete('task: |')), ['text-classification', 'masked-lm']);
  });
  it('booleans', async () => {
    assert.deepEqual(labels(await complete(BASE + '  load_best_model_at_end: |')), ['true', 'false']);
  });
  it('typical learning rates, written as 5e-5', async () => {
    const l = labels(await complete(BASE.replace('  learning_rate: 3e-5\n', '') + '  learning_rate: |'));
    assert.ok(l.includes('5e-5') && l.includes('2e-5') && l.includes('1e-4'), l.join());
  });
  it('name_or_path: model folders, checkpoints of earlier runs, well-known small Hub models', async () => {
    const items = await complete(BASE.replace('name_or_path: models/tiny', 'name_or_path: |'));
    const l = labels(items);
    assert.ok(l.includes('models/tiny'));
    assert.ok(l.includes('.finetune/runs/exp-1/checkpoint-500'));
    assert.ok(l.includes('prajjwal1/bert-tiny'));
    assert.match(items.find((i) => i.label === '.finetune/runs/exp-1/checkpoint-500')!.detail!, /checkpoint/);
  });
  it('data paths: workspace files of supported types, relative to the config', async () => {
    const l = labels(await complete(BASE.replace('train_file: data/train.csv', 'train_file: da|')));
    assert.deepEqual(l, ['data/one.csv', 'data/train.csv', 'data/val.csv']);
  });
  it('text_column / label_column: the columns of the chosen data file', async () => {
    assert.deepEqual(labels(await complete(BASE.replace('  validation_file', '  text_column: |\n  validation_file'))), [
      'text',
      'label',
    ]);
    const other = BASE.replace('data/train.csv', 'data/one.csv').replace(
      '  validation_file',
      '  label_column: "|"\n  validation_file',
    );
    assert.deepEqual(labels(await complete(other)), ['sentence', 'label']);
  });
  it('metric_for_best_model: the metrics of the problem type', async () => {
    const sorted = (items: Awaited<ReturnType<typeof complete>>) =>
      [...items].sort((a, b) => (a.sortText ?? '').localeCompare(b.sortText ?? '')).map((i) => i.label);
    // Undeclared: the default (single-label) type's first, then what only another type reports.
    assert.deepEqual(sorted(await complete(BASE + '  metric_for_best_model: |')), [
      'loss',
      'accuracy',
      'f1',
      'f1_macro',
      'matthews_correlation',
      'f1_micro',
      'pearson',
      'spearmanr',
    ]);
    const typed = (type: string) =>
      complete(
        BASE.replace('  name_or_path', `  problem_type: ${type}\n  name_or_path`) + '  metric_for_best_model: |',
      );
    assert.deepEqual(labels(await typed('regression')), ['loss', 'pearson', 'spearmanr']);
    assert.deepEqual(labels(await typed('multi_label_classification')), ['loss', 'accuracy', 'f1_micro', 'f1_macro']);
  });
});

describe('completion: parameter patterns', () => {
  it('freeze list items: module and parameter names of the chosen model, and per-layer wildcards', async () => {
    const items = await complete(BASE + 'freeze:\n  - bert.enc|');
    const l = labels(items);
    assert.ok(l.includes('bert.embeddings'));
    assert.ok(l.includes('bert.encoder.layer.0'));
    assert.ok(l.includes('bert.encoder.layer.1.attention.self.query.weight'));
    assert.ok(l.includes('bert.encoder.layer.*.attention'));
    assert.ok(l.includes('classifier'));
    assert.ok(!l.includes('bert.encoder.layer.2'), 'the tiny model has 2 layers');
    assert.match(items.find((i) => i.label === 'bert.embeddings')!.detail!, /module · .* parameters/);
    const edit = items[0]!.textEdit as { range: { start: { character: number }; end: { character: number } } };
    assert.deepEqual([edit.range.start.character, edit.range.end.character], [4, 12]);
  });
  it("flow lists and a block list at the key's indent", async () => {
    const flow = labels(await complete(BASE + 'freeze: [bert.embeddings, |]'));
    assert.ok(flow.includes('bert.pooler'));
    assert.ok(!flow.includes('bert.embeddings'), 'already in the list');
    assert.ok(labels(await complete(BASE + 'unfreeze:\n- |')).includes('classifier'));
  });
  it('learning_rates keys are patterns; no_decay offers its defaults', async () => {
    const items = await complete(BASE + '  learning_rates:\n    |');
    assert.equal(newText(items.find((i) => i.label === 'classifier')), 'classifier: ');
    assert.ok(labels(await complete(BASE + '  no_decay: [|]')).includes('LayerNorm.weight'));
  });
  it('from scratch: patterns from the architecture', async () => {
    const text =
      'mode: from-scratch\nmodel:\n  tokenizer: t\n  architecture:\n    num_hidden_layers: 3\ndata:\n  train_file: data/train.csv\nfreeze:\n  - |';
    const l = labels(await complete(text));
    assert.ok(l.includes('bert.encoder.layer.2') && !l.includes('bert.encoder.layer.3'));
  });
  it("from scratch: each model_type's own module names", async () => {
    const arch = (type: string) =>
      `mode: from-scratch\nmodel:\n  tokenizer: t\n  architecture:\n    model_type: ${type}\n    num_hidden_layers: 3\ndata:\n  train_file: data/train.csv\nfreeze:\n  - |`;
    const distil = labels(await complete(arch('distilbert')));
    assert.ok(distil.includes('distilbert.transformer.layer.2.ffn') && !distil.some((l) => l.startsWith('bert.')));
    assert.ok(distil.includes('pre_classifier'), "DistilBERT's classification head");
    const electra = labels(await complete(arch('electra')));
    assert.ok(electra.includes('electra.encoder.layer.2.attention') && electra.includes('classifier.out_proj'));
  });
  it('a well-known RoBERTa on the Hub: its module names, without the pooler it does not use', async () => {
    const l = labels(await complete(BASE.replace('models/tiny', 'roberta-base') + 'freeze: [|]'));
    assert.ok(l.includes('roberta.encoder.layer.11') && l.includes('classifier.dense'));
    assert.ok(!l.some((x) => x.startsWith('roberta.pooler')));
  });
  it('a well-known Hub model that is not on disk: its patterns are still known', async () => {
    const l = labels(await complete(BASE.replace('models/tiny', 'prajjwal1/bert-mini') + 'freeze: [|]'));
    assert.ok(l.includes('bert.encoder.layer.3') && !l.includes('bert.encoder.layer.4'));
  });
});

describe('completion: report_to', () => {
  it('offers the integrations, with their documentation, minus those listed', async () => {
    const one = await complete(BASE + '  report_to: |');
    assert.deepEqual(labels(one), ['none', 'all', 'tensorboard']);
    assert.match(docOf(one.find((i) => i.label === 'tensorboard')), /tensorboard --logdir/);
    const list = await complete(BASE + '  report_to:\n    - none\n    - |');
    assert.deepEqual(labels(list), ['all', 'tensorboard']);
  });
});
