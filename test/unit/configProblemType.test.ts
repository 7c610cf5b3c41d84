/** `model.problem_type`, `model.threshold`, `data.label_separator` and the metrics each problem type reports. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labelColumnChecks } from '../../common/config/dataFileChecks';
import { greaterIsBetter } from '../../common/config/rules';
import { validateConfigText } from '../../common/config/validate';
import { ConfigDocument } from '../../common/config/yamlDoc';
import { inferProblemType } from '../../common/problemType';
import { codes, covered, find, VALID } from './configHelpers';

const withModel = (keys: string, training = '') =>
  VALID.replace('  name_or_path', `${keys}\n  name_or_path`) + training;

describe('config: problem types and their metrics', () => {
  it('accepts each problem type, a threshold and a label separator, with HF defaults', () => {
    const { config, diagnostics } = validateConfigText(withModel('  problem_type: multi_label_classification'));
    assert.deepEqual(diagnostics, []);
    assert.equal(config.model.problem_type, 'multi_label_classification');
    assert.equal(config.model.threshold, 0.5);
    assert.equal(config.data.label_separator, ',');
    assert.deepEqual(validateConfigText(withModel('  problem_type: regression')).diagnostics, []);
    const bad = validateConfigText(withModel('  problem_type: multilabel')).diagnostics;
    assert.ok(
      bad.some((d) => d.severity === 'error'),
      JSON.stringify(codes(bad)),
    );
    assert.ok(codes(validateConfigText(withModel('  threshold: 1.5')).diagnostics).length > 0);
  });

  it('metric_for_best_model accepts any metric of the declared type, with or without eval_', () => {
    const reg = (m: string) =>
      validateConfigText(withModel('  problem_type: regression', `  metric_for_best_model: ${m}\n`)).diagnostics;
    assert.deepEqual(codes(reg('eval_spearmanr')), []);
    assert.deepEqual(codes(reg('pearson')), []);
    const text = withModel('  problem_type: regression', '  metric_for_best_model: eval_accuracy\n');
    const d = find(validateConfigText(text).diagnostics, 'unknown-metric');
    assert.ok(d, 'accuracy is not a regression metric');
    assert.equal(covered(text, d), 'eval_accuracy');
    assert.match(d.message, /regression.*`pearson`, `spearmanr`/);
    // Undeclared, the data may still make it any classification type: only names no type reports are refused.
    const undeclared = (m: string) => codes(validateConfigText(VALID + `  metric_for_best_model: ${m}\n`).diagnostics);
    assert.deepEqual(undeclared('eval_matthews_correlation'), []);
    assert.deepEqual(undeclared('f1_micro'), []);
    assert.ok(undeclared('perplexity').includes('unknown-metric'));
  });

  it("greater_is_better defaults as HF's: false only for names ending in loss (and perplexity)", () => {
    const gib = (m: string) => greaterIsBetter(validateConfigText(VALID + `  metric_for_best_model: ${m}\n`).config);
    assert.equal(gib('eval_loss'), false);
    assert.equal(gib('loss'), false);
    assert.equal(gib('eval_matthews_correlation'), true);
    assert.equal(gib('spearmanr'), true);
    const written = VALID + '  metric_for_best_model: loss\n  greater_is_better: true\n';
    assert.equal(greaterIsBetter(validateConfigText(written).config), true, 'explicit wins');
  });

  it('problem_type with masked-lm is flagged as ignored', () => {
    const text = withModel('  problem_type: regression').replace('mode: fine-tune', 'mode: fine-tune\ntask: masked-lm');
    assert.ok(codes(validateConfigText(text).diagnostics).includes('problem-type-ignored'));
  });

  it('infers the type as HF does: declared, then list labels, then the pre-trained config', () => {
    assert.equal(inferProblemType({ listLabels: false }), 'single_label_classification');
    assert.equal(inferProblemType({ listLabels: true }), 'multi_label_classification');
    assert.equal(inferProblemType({ listLabels: true, declared: 'regression' }), 'regression');
    assert.equal(inferProblemType({ listLabels: false, pretrained: { num_labels: 1 } }), 'regression');
    assert.equal(inferProblemType({ listLabels: false, pretrained: { id2label: { 0: 'LABEL_0' } } }), 'regression');
    const pretrained = { problem_type: 'multi_label_classification', id2label: { 0: 'a', 1: 'b' } };
    assert.equal(inferProblemType({ listLabels: false, pretrained }), 'multi_label_classification');
    assert.equal(
      inferProblemType({ listLabels: false, pretrained: { problem_type: 'nonsense' } }),
      'single_label_classification',
    );
  });
});

describe('config: the label-column checks know regression and multi-label', () => {
  const sample = {
    rows: 200,
    complete: true,
    columns: new Map([['label', { distinct: 190, examples: ['3.8', '0.2', '4.6'] }]]),
  };
  const check = (keys: string) => {
    const text = withModel(keys);
    const { config } = validateConfigText(text);
    return codes(labelColumnChecks(config, sample, new ConfigDocument(text)));
  };
  it('190 distinct values in 200 rows: free text for classes, a regression for numbers', () => {
    assert.deepEqual(check('  revision: main'), ['label-column-free-text']);
    assert.deepEqual(check('  problem_type: regression'), []);
    assert.deepEqual(check('  problem_type: multi_label_classification'), []);
  });
});
