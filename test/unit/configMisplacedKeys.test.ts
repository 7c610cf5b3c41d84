// Hugging Face names in a config (common/config/misplacedKeys.ts through the validator that the language server
// and the trainer share): where the key lives here, or why there is no such setting; never a far-fetched guess.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfigText } from '../../common/config/validate';
import { configSchema } from '../../common/config/schema';
import type { FieldSpec, SectionSpec } from '../../common/config/spec';
import { misplacedKey } from '../../common/config/misplacedKeys';
import { applyFix, covered, VALID } from './configHelpers';

function unknownKey(text: string, key: string) {
  const d = validateConfigText(text).diagnostics.find((x) => x.code === 'unknown-key' && x.path.at(-1) === key);
  assert.ok(d, `an unknown-key diagnostic on ${key}`);
  assert.equal(covered(text, d), key, 'it underlines the key');
  return d.message;
}

test('model_name_or_path at the top level points at model.name_or_path, not at `mode`', () => {
  const m = unknownKey(VALID + 'model_name_or_path: bert-base-uncased\n', 'model_name_or_path');
  assert.equal(m, "`model_name_or_path` is Hugging Face's name; here it is `model.name_or_path`.");
  assert.doesNotMatch(m, /Did you mean/);
  assert.match(unknownKey(VALID + 'max_seq_length: 128\n', 'max_seq_length'), /here it is `data\.max_length`/);
});

test('a training key at the wrong level says where it belongs, with its full path', () => {
  const m = unknownKey(VALID + 'per_device_train_batch_size: 8\n', 'per_device_train_batch_size');
  assert.match(m, /belongs under `training`: `training\.per_device_train_batch_size`/);
  const inData = VALID.replace('data:\n', 'data:\n  learning_rate: 1e-4\n');
  assert.match(unknownKey(inData, 'learning_rate'), /`training\.learning_rate`/);
});

test('unsupported Hugging Face settings say so and why', () => {
  for (const [key, why] of [
    ['tf32', /float32/],
    ['deepspeed', /engine: pytorch/],
    ['push_to_hub', /upload/],
    ['do_train', /nothing to switch on/],
  ] as const) {
    const text = VALID.replace('training:\n', `training:\n  ${key}: true\n`);
    const m = unknownKey(text, key);
    assert.match(m, new RegExp(`^\`${key}\` is not supported: `));
    assert.match(m, why);
  }
});

test('the table never shadows a key of the schema (a key the schema gains leaves the table)', () => {
  const keys: string[] = [];
  const walk = (s: SectionSpec<unknown>) => {
    for (const [k, f] of Object.entries(s.fields) as [string, FieldSpec][]) {
      keys.push(k);
      if (f.type === 'section') walk(f as SectionSpec<unknown>);
    }
  };
  walk(configSchema as SectionSpec<unknown>);
  assert.deepEqual(
    keys.filter((k) => misplacedKey(k)?.kind === 'unsupported'),
    [],
    'drop these from the unsupported list in common/config/misplacedKeys.ts',
  );
});

test('the quick fix moves the key, with its value, to where it lives here', () => {
  const diag = (text: string, key: string) =>
    validateConfigText(text).diagnostics.find((x) => x.code === 'unknown-key' && x.path.at(-1) === key);
  const noModelPath = VALID.replace(/^ {2}name_or_path: .*\n/m, '');
  const text = noModelPath + 'model_name_or_path: ./models/tiny\n';
  const fixed = applyFix(text, diag(text, 'model_name_or_path')!.fixes![0]!);
  assert.equal(validateConfigText(fixed).config.model.name_or_path, './models/tiny');
  assert.deepEqual(validateConfigText(fixed).diagnostics, []);
  assert.doesNotMatch(fixed, /model_name_or_path/);

  const wrongLevel = VALID.replace(/^ {2}per_device_train_batch_size: .*\n/m, '') + 'per_device_train_batch_size: 4\n';
  const d = diag(wrongLevel, 'per_device_train_batch_size')!;
  assert.equal(d.fixes?.[0]?.title, 'Move to `training.per_device_train_batch_size`');
  const moved = applyFix(wrongLevel, d.fixes![0]!);
  assert.equal(validateConfigText(moved).config.training.per_device_train_batch_size, 4);
  assert.deepEqual(validateConfigText(moved).diagnostics, []);
  // Where the target is set already, there is nothing to move to: the message alone says where it lives.
  assert.equal(diag(VALID + 'model_name_or_path: x\n', 'model_name_or_path')!.fixes, undefined);
});
