// The wizard's column steps (extension/wizardColumns.ts): the optional second text of a sentence pair after the
// text column, "None — single text" first, the usual pair names proposed, and a config that names the pair.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfigText } from '../../common/config/validate';
import { renderConfig } from '../../extension/configWriter';
import {
  SINGLE_TEXT_LABEL,
  labelColumnChoices,
  pairColumnChoices,
  pairGuess,
  textColumnChoices,
  wizardStepCount,
} from '../../extension/wizardColumns';
import type { ColumnChoice } from '../../extension/wizardColumns';

const proposed = <T extends string | null>(rows: readonly ColumnChoice<T>[]) => rows.filter((r) => r.picked);

test('an MRPC-like file: sentence1 as the text, sentence2 proposed as its pair, label as the label', () => {
  const columns = ['idx', 'sentence1', 'sentence2', 'label'];
  assert.deepEqual(
    proposed(textColumnChoices(columns)).map((r) => r.value),
    ['sentence1'],
  );
  const pair = pairColumnChoices(columns, 'sentence1');
  assert.ok(pair, 'the second-text step is shown');
  assert.deepEqual(
    pair.map((r) => r.value),
    [null, 'idx', 'sentence2', 'label'],
  );
  assert.equal(pair[0]!.label, SINGLE_TEXT_LABEL);
  assert.deepEqual(
    proposed(pair).map((r) => r.value),
    ['sentence2'],
  );
  const labels = labelColumnChoices(columns, ['sentence1', 'sentence2']);
  assert.deepEqual(
    labels.map((r) => r.value),
    ['idx', 'label', null],
  );
  assert.deepEqual(
    proposed(labels).map((r) => r.value),
    ['label'],
  );
  assert.equal(wizardStepCount(true, true), 6);
  assert.equal(wizardStepCount(false, true), 7);
});

test('a file of single texts with other columns: the step is offered, "None" first and proposed', () => {
  const columns = ['review', 'title', 'stars'];
  const pair = pairColumnChoices(columns, 'review');
  assert.ok(pair);
  assert.deepEqual(
    proposed(pair).map((r) => r.value),
    [null],
  );
  assert.equal(pair[0]!.value, null, 'None is the first row');
  // Without a pair, the label step offers every column but the text.
  assert.deepEqual(
    labelColumnChoices(columns, ['review']).map((r) => r.value),
    ['title', 'stars', null],
  );
});

test('a text,label file skips the step: there is no column to pair with', () => {
  assert.equal(pairColumnChoices(['text', 'label'], 'text'), undefined);
  assert.equal(pairColumnChoices(['text'], 'text'), undefined);
  assert.equal(wizardStepCount(true, false), 5);
  assert.equal(wizardStepCount(false, false), 6);
});

test('the usual pair names are proposed, and nothing else is guessed', () => {
  assert.equal(pairGuess(['question2', 'label'], 'question1'), 'question2');
  assert.equal(pairGuess(['text_b', 'label'], 'text_a'), 'text_b');
  assert.equal(pairGuess(['Hypothesis', 'label'], 'premise'), 'Hypothesis');
  assert.equal(pairGuess(['sentence', 'label'], 'question'), 'sentence');
  assert.equal(pairGuess(['label', 'datb'], 'data'), 'datb', 'a trailing a turns into b');
  assert.equal(pairGuess(['label', 'b'], 'a'), undefined, 'a bare "a" has no stem to pair');
  assert.equal(pairGuess(['title', 'label'], 'review'), undefined);
});

test('the label step never offers a column already taken as a text, and proposes no label when none looks like one', () => {
  const rows = labelColumnChoices(['q', 'a', 'verdict'], ['q', 'a']);
  assert.deepEqual(
    rows.map((r) => r.value),
    ['verdict', null],
  );
  assert.deepEqual(
    proposed(rows).map((r) => r.value),
    [null],
  );
});

test('the config the wizard writes for a pair names text_pair_column and validates clean', () => {
  const text = renderConfig(
    {
      mode: 'fine-tune',
      task: 'text-classification',
      dataFile: '/w/mrpc/train.csv',
      textColumn: 'sentence1',
      textPairColumn: 'sentence2',
      labelColumn: 'label',
      model: 'bert-base-uncased',
    },
    '/w/mrpc',
  );
  const { config, diagnostics } = validateConfigText(text);
  assert.deepEqual(
    diagnostics.filter((d) => d.severity !== 'info').map((d) => d.message),
    [],
  );
  assert.equal(config.data.text_column, 'sentence1');
  assert.equal(config.data.text_pair_column, 'sentence2');
  assert.equal(config.data.label_column, 'label');
});
