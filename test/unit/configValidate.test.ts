import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfigText } from '../../common/config/validate';
import { applyFix, codes, covered, find, SCRATCH, VALID } from './configHelpers';

const check = (text: string) => validateConfigText(text).diagnostics;

/** Asserts `code` is reported on `text`, pointing at `at`, and returns it. */
function expectCode(text: string, code: string, at?: string) {
  const d = find(check(text), code);
  assert.ok(d, `expected ${code} in ${JSON.stringify(codes(check(text)))} for:\n${text}`);
  if (at !== undefined) assert.equal(covered(text, d), at);
  assert.ok(d.message.length > 10);
  return d;
}
const expectNo = (text: string, code: string) =>
  assert.ok(!codes(check(text)).includes(code), `unexpected ${code} for:\n${text}`);

describe('config validation: the base configs', () => {
  it('a valid fine-tuning and a valid from-scratch config have no diagnostics', () => {
    assert.deepEqual(check(VALID), []);
    assert.deepEqual(check(SCRATCH), []);
  });
  it('applies defaults', () => {
    const { config } = validateConfigText(VALID);
    assert.equal(config.training.lr_scheduler_type, 'linear');
    assert.equal(config.data.text_column, 'text');
    assert.equal(config.training.learning_rate, 3e-5);
  });
});

describe('config validation: syntax and structure', () => {
  it('reports YAML syntax errors with a range inside the text', () => {
    const text = VALID + 'training: [unclosed\n';
    const d = check(text).find((x) => x.code === 'yaml-syntax' || x.code === 'duplicate-key');
    assert.ok(d);
    assert.ok(d.range.start >= 0 && d.range.end <= text.length + 1);
    expectNo(VALID, 'yaml-syntax');
  });
  it('reports a duplicated key', () => {
    expectCode(VALID + 'mode: from-scratch\n', 'duplicate-key');
  });
  it('reports a config that is not a mapping, and an empty config', () => {
    expectCode('just some words\n', 'not-a-mapping');
    expectCode('# only a comment\n', 'empty-config');
  });
  it('unknown key: did-you-mean with a rename fix that makes the config valid', () => {
    const text = VALID.replace('learning_rate', 'learning_rat');
    const d = expectCode(text, 'unknown-key', 'learning_rat');
    assert.match(d.message, /Did you mean `learning_rate`\?/);
    const fixed = applyFix(text, d.fixes![0]!);
    assert.equal(fixed, VALID);
    assert.deepEqual(check(fixed), []);
  });
  it('unknown key in the wrong section says where it belongs', () => {
    const d = expectCode(VALID + '  max_length: 64\n', 'unknown-key', 'max_length');
    assert.match(d.message, /belongs under `data`/);
  });
  it('unknown key with nothing close lists the known keys', () => {
    const d = expectCode(VALID + 'zzzzzz: 1\n', 'unknown-key', 'zzzzzz');
    assert.match(d.message, /Known keys here: mode, task/);
    assert.equal(d.fixes, undefined);
  });
  it('missing required key: the fix inserts it', () => {
    const text = VALID.replace('mode: fine-tune\n', '');
    const d = expectCode(text, 'missing-required');
    assert.match(d.message, /`mode`/);
    const fixed = applyFix(text, d.fixes![0]!);
    assert.match(fixed, /^mode: fine-tune$/m);
    assert.deepEqual(check(fixed), []);
  });
  it('missing required key of an absent section: the fix creates the section', () => {
    const text = VALID.replace(/data:\n  train_file: data\/train.csv\n  validation_split: 0.1\n/, '');
    const d = expectCode(text, 'missing-required');
    assert.match(d.message, /`data.train_file`/);
    const fixed = applyFix(text, d.fixes![0]!);
    assert.match(fixed, /^data:\n  train_file: train.csv$/m);
    assert.deepEqual(codes(check(fixed)), []);
  });
  it('missing required key of an empty section', () => {
    const text = 'mode: from-scratch\nmodel:\n  tokenizer: t\ndata:\n';
    const d = expectCode(text, 'missing-required');
    assert.deepEqual(codes(check(applyFix(text, d.fixes![0]!))), []);
  });
});

describe('config validation: types and ranges', () => {
  it('wrong types', () => {
    expectCode(VALID.replace('3e-5', 'fast'), 'wrong-type', 'fast');
    expectCode(VALID + 'freeze: 3\n', 'wrong-type', '3');
    expectCode(
      VALID.replace('training:\n', 'training:\n  load_best_model_at_end: yes please\n'),
      'wrong-type',
      'yes please',
    );
    expectCode(VALID.replace('data:\n', 'data: 5\nx:\n'), 'wrong-type');
  });
  it('a quoted number gets a hint; a number for a string gets a quote fix', () => {
    const d = expectCode(VALID.replace('3e-5', '"3e-5"'), 'wrong-type');
    assert.match(d.message, /Remove the quotes/);
    const text = VALID.replace('bert-base-uncased', '123');
    const q = expectCode(text, 'wrong-type', '123');
    assert.equal(applyFix(text, q.fixes![0]!), VALID.replace('bert-base-uncased', '"123"'));
  });
  it('negative learning rate', () => {
    const d = expectCode(VALID.replace('3e-5', '-1e-5'), 'out-of-range', '-1e-5');
    assert.match(d.message, /must be in \(0, 10\]/);
  });
  it('warmup_ratio above 1', () => {
    expectCode(VALID + '  warmup_ratio: 1.5\n', 'out-of-range', '1.5');
    expectNo(VALID + '  warmup_ratio: 0.1\n', 'out-of-range');
  });
  it('dropout outside [0, 1)', () => {
    expectCode(
      SCRATCH.replace('    hidden_size: 128\n', '    hidden_size: 128\n    hidden_dropout_prob: 1\n'),
      'out-of-range',
      '1',
    );
    expectCode(
      SCRATCH.replace('    hidden_size: 128\n', '    hidden_size: 128\n    attention_probs_dropout_prob: -0.1\n'),
      'out-of-range',
      '-0.1',
    );
    expectNo(
      SCRATCH.replace('    hidden_size: 128\n', '    hidden_size: 128\n    hidden_dropout_prob: 0\n'),
      'out-of-range',
    );
  });
  it('integers must be whole', () => {
    expectCode(VALID + '  per_device_train_batch_size: 8.5\n', 'wrong-type', '8.5');
  });
  it('an invalid enum value gets a did-you-mean fix', () => {
    const text = VALID + '  lr_scheduler_type: cosin\n';
    const d = expectCode(text, 'invalid-enum', 'cosin');
    assert.deepEqual(check(applyFix(text, d.fixes![0]!)), []);
  });
  it('suspicious: learning rate above 1e-3 when fine-tuning is a warning, not when training from scratch', () => {
    const d = expectCode(VALID.replace('3e-5', '0.01'), 'high-learning-rate', '0.01');
    assert.equal(d.severity, 'warning');
    expectNo(VALID, 'high-learning-rate');
    expectNo(SCRATCH + 'training:\n  learning_rate: 0.005\n', 'high-learning-rate');
  });
});

describe('config validation: cross-field rules', () => {
  it('load_best_model_at_end needs save_strategy equal to eval_strategy; the fix sets it', () => {
    const text =
      VALID +
      '  load_best_model_at_end: true\n  eval_strategy: steps\n  eval_steps: 100\n  save_strategy: epoch\n  save_steps: 100\n';
    const d = expectCode(text, 'load-best-needs-matching-strategies', 'epoch');
    const fixed = applyFix(text, d.fixes![0]!);
    assert.match(fixed, /save_strategy: steps/);
    assert.deepEqual(check(fixed), []);
  });
  it('load_best_model_at_end with save_strategy absent: the fix inserts it', () => {
    const text = VALID + '  load_best_model_at_end: true\n  eval_strategy: steps\n  eval_steps: 500\n';
    const d = expectCode(text, 'load-best-needs-matching-strategies', 'load_best_model_at_end');
    const fixed = applyFix(text, d.fixes![0]!);
    assert.match(fixed, /\n  save_strategy: steps/);
    assert.deepEqual(check(fixed), []);
  });
  it('load_best_model_at_end with matching strategies passes', () => {
    expectNo(
      VALID + '  load_best_model_at_end: true\n  eval_strategy: epoch\n  save_strategy: epoch\n',
      'load-best-needs-matching-strategies',
    );
  });
  it('load_best_model_at_end needs evaluation', () => {
    expectCode(
      VALID + '  load_best_model_at_end: true\n  eval_strategy: "no"\n',
      'load-best-needs-eval',
      'load_best_model_at_end',
    );
  });
  it('metric_for_best_model needs evaluation; the fix turns it on', () => {
    const text = VALID + '  metric_for_best_model: f1\n  eval_strategy: "no"\n';
    const d = expectCode(text, 'metric-for-best-model-needs-eval', 'metric_for_best_model');
    assert.deepEqual(check(applyFix(text, d.fixes![0]!)), []);
    expectNo(VALID + '  metric_for_best_model: f1\n', 'metric-for-best-model-needs-eval');
  });
  it('metric_for_best_model must be a metric of the task', () => {
    expectCode(VALID + '  metric_for_best_model: bleu\n', 'unknown-metric', 'bleu');
    expectNo(VALID + '  metric_for_best_model: eval_accuracy\n', 'unknown-metric');
  });
  it('hidden_size must be divisible by num_attention_heads', () => {
    expectCode(SCRATCH.replace('num_attention_heads: 4', 'num_attention_heads: 3'), 'heads-divide-hidden', '3');
    expectNo(SCRATCH, 'heads-divide-hidden');
  });
  it('max_length above max_position_embeddings (from scratch); the fix lowers it', () => {
    const text = SCRATCH.replace('max_length: 128', 'max_length: 512');
    const d = expectCode(text, 'max-length-over-positions', '512');
    assert.deepEqual(check(applyFix(text, d.fixes![0]!)), []);
  });
  it('mode: fine-tune without name_or_path; the fix adds it', () => {
    const text = VALID.replace('  name_or_path: bert-base-uncased\n', '  tokenizer: bert-base-uncased\n');
    const d = expectCode(text, 'fine-tune-needs-model', 'model');
    assert.deepEqual(
      check(applyFix(text, d.fixes![0]!)).filter((x) => x.severity === 'error'),
      [],
    );
  });
  it('an architecture block together with a pre-trained model', () => {
    const text = VALID.replace('model:\n', 'model:\n  architecture:\n    hidden_size: 64\n');
    expectCode(text, 'architecture-with-pretrained', 'architecture');
    expectNo(SCRATCH, 'architecture-with-pretrained');
  });
  it('name_or_path with from-scratch; from-scratch needs a tokenizer', () => {
    expectCode(
      SCRATCH.replace('model:\n', 'model:\n  name_or_path: m\n'),
      'pretrained-with-from-scratch',
      'name_or_path',
    );
    expectCode(SCRATCH.replace('  tokenizer: bert-base-uncased\n', ''), 'from-scratch-needs-tokenizer');
  });
  it('evaluation needs validation data; the fix holds out 10%', () => {
    const text = VALID.replace('  validation_split: 0.1\n', '') + '  eval_strategy: epoch\n';
    const d = expectCode(text, 'eval-needs-validation-data', 'epoch');
    assert.deepEqual(check(applyFix(text, d.fixes![0]!)), []);
  });
  it('a cross-field rule stays quiet about a field that already has an error', () => {
    const text = VALID + '  load_best_model_at_end: true\n  save_strategy: sometimes\n';
    expectCode(text, 'invalid-enum');
    expectNo(text, 'load-best-needs-matching-strategies');
  });
});
