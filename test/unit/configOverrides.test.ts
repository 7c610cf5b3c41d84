// Command-line overrides written into a config's text (common/config/overrides.ts): values read as YAML, a key
// replaced in place or inserted into its section, and every diagnostic placed back in the user's file or on the flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigBounded, positionOf } from '../../common/config/boundedParse';
import { applyOverrides, overrideTarget, overrideValueText } from '../../common/config/overrides';
import type { ConfigOverride } from '../../common/config/overrides';

const o = (flag: string, raw: string): ConfigOverride => {
  const t = overrideTarget(flag);
  assert.ok(t && 'path' in t, flag);
  return { flag: `--${flag}`, path: t.path, raw };
};

const TEXT = [
  'mode: fine-tune',
  'model:',
  '  name_or_path: bert-base-uncased',
  'data:',
  '  train_file: train.csv',
  'training:',
  '  learning_rate: 0.001',
  '  bogus_key: 1',
  '',
].join('\n');

test('values are YAML; a string key keeps what was typed when YAML reads something else', () => {
  assert.equal(overrideValueText(o('learning_rate', '3e-5')), '0.00003');
  assert.equal(overrideValueText(o('group_by_length', 'true')), 'true');
  assert.equal(overrideValueText(o('no_decay', '[bias, LayerNorm.weight]')), '["bias","LayerNorm.weight"]');
  assert.equal(overrideValueText(o('run_name', '2024')), '"2024"');
  assert.equal(overrideValueText(o('run_name', '#x: y')), '"#x: y"');
  assert.equal(overrideValueText(o('save_total_limit', 'null')), 'null');
  assert.deepEqual(overrideTarget('seed'), { path: ['training', 'seed'] });
  assert.equal(overrideTarget('architecture'), undefined, 'a section is not a value');
});

test('a replaced and an inserted key change the config; diagnostics elsewhere keep their line in the file', () => {
  const over = applyOverrides(TEXT, [o('learning_rate', '3e-5'), o('max_length', '64'), o('max_steps', '0')]);
  const parsed = parseConfigBounded(over.text);
  assert.equal(parsed.result?.config.training.learning_rate, 3e-5);
  assert.equal(parsed.result?.config.data.max_length, 64);
  const bogus = parsed.diagnostics.find((d) => d.code === 'unknown-key');
  assert.ok(bogus);
  const at = over.place(bogus);
  assert.ok('offset' in at);
  assert.equal(positionOf(TEXT, at.offset).line, 8, 'bogus_key is on line 8 of the file, whatever was inserted above');
});

test('a diagnostic about an overridden key is placed on its flag', () => {
  const over = applyOverrides(TEXT.replace('  bogus_key: 1\n', ''), [o('learning_rate', '0'), o('max_length', 'abc')]);
  const errors = parseConfigBounded(over.text).diagnostics.filter((d) => d.severity === 'error');
  const flags = errors.map((d) => {
    const at = over.place(d);
    assert.ok('override' in at, d.message);
    return at.override.flag;
  });
  assert.deepEqual(flags.sort(), ['--learning_rate', '--max_length']);
  assert.equal(errors.length, 2);
});
