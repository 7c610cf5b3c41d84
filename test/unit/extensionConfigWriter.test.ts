// The wizard's config writer: documented YAML that the schema validates cleanly, written next to the data under a
// free name, never over an existing file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { validateConfigText } from '../../common/config/validate';
import { parseConfigBounded } from '../../common/config/boundedParse';
import { CONFIG_SCHEMA_URL } from '../../common/config/jsonSchema';
import {
  ARCHITECTURE_PRESETS,
  freeConfigPath,
  renderConfig,
  writeWizardConfig,
  yamlScalar,
} from '../../extension/configWriter';
import type { WizardAnswers } from '../../extension/configWriter';

const dir = '/w/data';
const fineTune: WizardAnswers = {
  mode: 'fine-tune',
  task: 'text-classification',
  dataFile: '/w/data/reviews.csv',
  textColumn: 'review text',
  labelColumn: 'label',
  model: '/w/models/tiny-bert',
};

function problems(text: string): string[] {
  return validateConfigText(text)
    .diagnostics.filter((d) => d.severity !== 'info')
    .map((d) => `${d.severity} ${d.code}: ${d.message}`);
}

test('a fine-tune config validates with no error or warning and says what the wizard chose', () => {
  const text = renderConfig(fineTune, dir, new Date('2026-01-02T03:04:05Z'));
  assert.deepEqual(problems(text), []);
  const { config } = validateConfigText(text);
  assert.equal(config.mode, 'fine-tune');
  assert.equal(config.model.name_or_path, '../models/tiny-bert');
  assert.equal(config.data.train_file, 'reviews.csv');
  assert.equal(config.data.text_column, 'review text');
  assert.equal(config.data.label_column, 'label');
  assert.equal(config.training.learning_rate, 5e-5);
  assert.match(
    text,
    /^# yaml-language-server: \$schema=\S+\n# Fine-Tune Studio training config, written by "Fine-tune model" on 2026-01-02/,
  );
});

test('every key is documented by a comment taken from the schema', () => {
  const lines = renderConfig(fineTune, dir).split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (/^\s*[a-z_]+:/.test(lines[i]!)) assert.match(lines[i - 1]!, /^\s*# \S/, `no comment above "${lines[i]}"`);
  }
  assert.ok(lines.some((l) => l.includes('# Peak learning rate of AdamW.')));
});

test('a model folder inside the config folder gets ./ so it does not read as a Hub id; a Hub id stays as is', () => {
  const local = validateConfigText(renderConfig({ ...fineTune, model: '/w/data/models/bert' }, dir)).config;
  assert.equal(local.model.name_or_path, './models/bert');
  const ckpt = validateConfigText(
    renderConfig({ ...fineTune, model: '/w/data/.finetune/runs/r-1/checkpoint-3' }, dir),
  ).config;
  assert.equal(ckpt.model.name_or_path, './.finetune/runs/r-1/checkpoint-3');
  const hub = validateConfigText(renderConfig({ ...fineTune, model: 'prajjwal1/bert-tiny' }, dir)).config;
  assert.equal(hub.model.name_or_path, 'prajjwal1/bert-tiny');
});

test("max_length stays within the base model's position embeddings", () => {
  const small = validateConfigText(renderConfig({ ...fineTune, baseMaxPositions: 64 }, dir)).config;
  assert.equal(small.data.max_length, 64);
  assert.equal(validateConfigText(renderConfig(fineTune, dir)).config.data.max_length, 128);
});

test('every from-scratch preset validates cleanly, for both tasks', () => {
  for (const [name, preset] of Object.entries(ARCHITECTURE_PRESETS)) {
    for (const task of ['text-classification', 'masked-lm'] as const) {
      const a: WizardAnswers = {
        mode: 'from-scratch',
        task,
        dataFile: '/w/data/t.jsonl',
        textColumn: 'text',
        labelColumn: 'label',
        tokenizer: '/w/tok',
        architecture: preset.arch,
      };
      const text = renderConfig(a, dir);
      assert.deepEqual(problems(text), [], `${name} ${task}`);
      const { config } = validateConfigText(text);
      assert.deepEqual(config.model.architecture?.hidden_size, preset.arch.hidden_size);
      assert.ok(config.data.max_length <= preset.arch.max_position_embeddings);
      assert.equal(
        config.data.label_column === 'label' && task === 'masked-lm' && text.includes('label_column'),
        false,
      );
    }
  }
});

test('scalars that YAML would read as something else are quoted', () => {
  for (const s of ['yes', 'no', 'null', '1e5', '0123', 'a: b', '# x', '-x', 'true', ' lead', 'tab\there', 'ünï']) {
    assert.equal(parse(`k: ${yamlScalar(s)}`).k, s, s);
  }
  assert.equal(yamlScalar('text'), 'text');
  assert.equal(parse(`k: ${yamlScalar(5e-5)}`).k, 5e-5);
});

test('freeConfigPath picks the first free name', async () => {
  const taken = new Set(['/d/reviews.finetune.yaml', '/d/reviews-2.finetune.yaml']);
  assert.equal(await freeConfigPath('/d', 'reviews', async (p) => taken.has(p)), '/d/reviews-3.finetune.yaml');
  assert.equal(await freeConfigPath('/d', 'my data!', async () => false), '/d/my-data.finetune.yaml');
});

test('writeWizardConfig never overwrites an existing config and leaves no temp file', async () => {
  const d = mkdtempSync(path.join(tmpdir(), 'ft-writer-'));
  const data = path.join(d, 'reviews.csv');
  writeFileSync(data, 'text,label\ngood,pos\n');
  writeFileSync(path.join(d, 'reviews.finetune.yaml'), 'mine: true\n');
  const a = { ...fineTune, dataFile: data, model: 'prajjwal1/bert-tiny' };
  const [p1, p2] = await Promise.all([writeWizardConfig(a), writeWizardConfig(a)]);
  assert.notEqual(p1, p2);
  assert.equal(readFileSync(path.join(d, 'reviews.finetune.yaml'), 'utf8'), 'mine: true\n');
  assert.deepEqual([path.basename(p1), path.basename(p2)].sort(), [
    'reviews-2.finetune.yaml',
    'reviews-3.finetune.yaml',
  ]);
  assert.deepEqual(problems(readFileSync(p1, 'utf8')), []);
  assert.equal(
    validateConfigText(readFileSync(p1, 'utf8')).config.run_name,
    path.basename(p1).replace('.finetune.yaml', ''),
  );
  assert.deepEqual(
    readdirSync(d).filter((f) => f.includes('.tmp-')),
    [],
  );
});

test('the first line names the JSON Schema for other YAML tools; the validator and the trainer read past it', async () => {
  for (const a of [
    fineTune,
    { ...fineTune, mode: 'from-scratch' as const, model: undefined, tokenizer: 'bert-base-uncased' },
  ]) {
    const text = renderConfig(a, dir);
    const first = text.split('\n')[0]!;
    assert.equal(first, `# yaml-language-server: $schema=${CONFIG_SCHEMA_URL}`);
    // The URL is the repository's copy of the generated schema file.
    const file = new URL(CONFIG_SCHEMA_URL).pathname.split('/main/')[1]!;
    assert.equal(file, 'schemas/finetune.schema.json');
    assert.ok(existsSync(path.join(__dirname, '..', '..', file)));
    assert.deepEqual(problems(text), []);
    assert.deepEqual(
      parseConfigBounded(text).diagnostics.filter((d) => d.severity !== 'info'),
      [],
    );
  }
  // The trainer's reader, on the file as the wizard writes it.
  const data = mkdtempSync(path.join(tmpdir(), 'ft-schema-line-'));
  writeFileSync(path.join(data, 'reviews.csv'), 'review text,label\ngood,pos\nbad,neg\n');
  const file = await writeWizardConfig({
    ...fineTune,
    dataFile: path.join(data, 'reviews.csv'),
    model: 'bert-base-uncased',
  });
  assert.ok(readFileSync(file, 'utf8').startsWith('# yaml-language-server: $schema='));
  const v = parseConfigBounded(readFileSync(file, 'utf8')).result;
  assert.equal(v?.config.model.name_or_path, 'bert-base-uncased');
});
