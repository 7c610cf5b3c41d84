/** A throw-away workspace with the sample reviews, a word-level tokenizer and a tiny config, for engine tests. */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { generateReviews, sampleVocab } from '../../examples/sample/generate.mjs';

export interface Workspace {
  dir: string;
  configFile: string;
}

type Json = Record<string, unknown>;

function merge(a: Json, b: Json): Json {
  const out: Json = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' && !Array.isArray(prev))
      out[k] = merge(prev as Json, v as Json);
    else if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

export const TINY_ARCH = {
  hidden_size: 16,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  intermediate_size: 32,
  max_position_embeddings: 32,
};

export function baseConfig(): Json {
  return {
    mode: 'from-scratch',
    task: 'text-classification',
    backend: 'wasm',
    model: { tokenizer: 'tokenizer', architecture: { ...TINY_ARCH } },
    data: { train_file: 'train.csv', validation_file: 'validation.csv', max_length: 32 },
    training: {
      max_steps: 6,
      per_device_train_batch_size: 8,
      per_device_eval_batch_size: 32,
      learning_rate: 1e-3,
      eval_strategy: 'no',
      save_strategy: 'no',
      logging_steps: 1,
      seed: 7,
    },
  };
}

export function makeWorkspace(
  overrides: Json = {},
  opts: { trainRows?: number; validationRows?: number; name?: string } = {},
): Workspace {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-engine-'));
  mkdirSync(path.join(dir, 'tokenizer'));
  writeFileSync(path.join(dir, 'tokenizer', 'vocab.txt'), sampleVocab().join('\n') + '\n');
  const csv = (rows: { text: string; label: string }[]) =>
    'text,label\n' + rows.map((r) => `"${r.text.replace(/"/g, '""')}",${r.label}`).join('\n') + '\n';
  writeFileSync(path.join(dir, 'train.csv'), csv(generateReviews(opts.trainRows ?? 64, 11)));
  writeFileSync(path.join(dir, 'validation.csv'), csv(generateReviews(opts.validationRows ?? 32, 12)));
  const configFile = path.join(dir, opts.name ?? 'tiny.finetune.yaml');
  writeConfig(configFile, merge(baseConfig(), overrides));
  return { dir, configFile };
}

export function writeConfig(file: string, config: Json): void {
  writeFileSync(file, stringify(config));
}

export function withOverrides(overrides: Json): Json {
  return merge(baseConfig(), overrides);
}
