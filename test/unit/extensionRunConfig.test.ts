// The extension's one config reader (extension/runConfig.ts), the metric vocabulary (common/metricNames.ts) and
// the config-file pattern (common/config/configFile.ts), which package.json's menus must spell the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CONFIG_FILE_RE, configBaseName, isConfigFile } from '../../common/config/configFile';
import { decidingMetric, evalMetricKey, isEvalMetricKey, normaliseMetricName } from '../../common/metricNames';
import { flattenConfig, readConfigText, readRunConfig } from '../../extension/runConfig';

const CONFIG = `mode: fine-tune
task: text-classification
model:
  name_or_path: ./model
data:
  train_file: train.csv
  text_column: premise
  text_pair_column: hypothesis
  label_column: verdict
training:
  metric_for_best_model: eval_f1   # with the prefix, as HF users write it
  early_stopping_patience: 2
`;

test('a config is read through the validator: columns, the deciding metric, defaults', () => {
  const v = readConfigText(CONFIG);
  assert.deepEqual(v.columns, { text: 'premise', textPair: 'hypothesis', label: 'verdict' });
  assert.deepEqual(v.best, { metric: 'f1', greaterIsBetter: true });
  assert.equal(v.flat['training.early_stopping_patience'], 2);
  assert.equal(typeof v.flat['training.learning_rate'], 'number', 'defaults are applied');
  const bare = readConfigText('mode: fine-tune\nmodel:\n  name_or_path: x\ndata:\n  train_file: t.csv\n');
  assert.deepEqual(bare.columns, { text: 'text', label: 'label' });
  assert.deepEqual(bare.best, { metric: 'loss', greaterIsBetter: false });
});

test('keys from the user are data in the flattened table, never its prototype', () => {
  assert.equal(Object.getPrototypeOf(readConfigText(CONFIG).flat), null);
  const flat = flattenConfig(JSON.parse('{"__proto__": {"polluted": 1}, "constructor": "x"}'));
  assert.equal(flat['__proto__.polluted'], 1);
  assert.equal(flat['constructor'], 'x');
  assert.equal(Object.getPrototypeOf(flat), null);
});

test('a run is read from its resolved config, else from its config file', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-runconfig-'));
  const file = path.join(dir, 'nli.finetune.yaml');
  writeFileSync(file, CONFIG);
  assert.equal((await readRunConfig(dir, file))?.columns.text, 'premise', 'no config.resolved.yaml: the config file');
  writeFileSync(path.join(dir, 'config.resolved.yaml'), CONFIG.replace('premise', 'sentence1'));
  assert.equal((await readRunConfig(dir, file))?.columns.text, 'sentence1');
  assert.equal(await readRunConfig(path.join(dir, 'none'), undefined), undefined);
});

test('one metric vocabulary', () => {
  assert.equal(normaliseMetricName('eval_accuracy'), 'accuracy');
  assert.equal(normaliseMetricName('accuracy'), 'accuracy');
  assert.equal(evalMetricKey('accuracy'), 'eval_accuracy');
  assert.equal(evalMetricKey('eval_accuracy'), 'eval_accuracy');
  assert.ok(isEvalMetricKey('eval_f1') && !isEvalMetricKey('loss'));
});

test('the deciding metric: the trainer, then run.json, then the config; never a guess', () => {
  const config = { metric: 'f1', greaterIsBetter: true };
  const plan = { type: 'plan', metricForBestModel: 'eval_accuracy', greaterIsBetter: true } as const;
  assert.deepEqual(decidingMetric({ plan, run: { metricForBestModel: 'f1' }, config }), {
    metric: 'accuracy',
    greaterIsBetter: true,
  });
  assert.deepEqual(decidingMetric({ run: { metricForBestModel: 'eval_f1' }, config }), config);
  assert.deepEqual(decidingMetric({ run: { metricForBestModel: 'accuracy' }, config }), { metric: 'accuracy' });
  assert.deepEqual(decidingMetric({ config }), config);
  assert.deepEqual(decidingMetric({}), { metric: 'loss', greaterIsBetter: false });
});

test('the config-file pattern, and package.json spelling the same extensions', () => {
  assert.ok(isConfigFile('/w/a.finetune.yaml') && isConfigFile('B.FINETUNE.YML'));
  assert.ok(!isConfigFile('a.yaml') && !isConfigFile('a.finetune.yaml.bak'));
  assert.equal(configBaseName('/w/sst2.finetune.yml'), 'sst2');
  const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
    contributes: { languages: { extensions: string[] }[]; menus: Record<string, { when?: string }[]> };
  };
  for (const ext of pkg.contributes.languages[0]!.extensions) assert.ok(isConfigFile(`x${ext}`), ext);
  const whens = Object.values(pkg.contributes.menus)
    .flat()
    .map((m) => m.when ?? '');
  const patterns = whens.flatMap((w) => [...w.matchAll(/resourceFilename =~ \/(.*?)\/(?:\s|$)/g)].map((m) => m[1]!));
  assert.ok(patterns.length > 0);
  for (const p of patterns) {
    assert.equal(p.replace(/\\\\/g, '\\'), CONFIG_FILE_RE.source, 'a menu spells the pattern differently');
  }
});
