/**
 * config.json of a BERT-family model (bert, roberta, xlm-roberta, distilbert, electra): read, validated, defaults
 * filled as transformers' config classes do, and held under BertConfig's names (files/hf/familyConfig.ts maps
 * DistilBERT's own).
 */
import { promises as fs } from 'node:fs';
import { FineTuneError } from '../../common/errors';
import { isProblemType, PROBLEM_TYPES } from '../../common/problemType';
import type { BertConfig as ModelBertConfig } from '../../common/modelConfig';
import { configSchema } from '../../common/config/schema';
import type { ModelConfig } from '../../common/config/schema';
import type { NumberSpec, SectionSpec } from '../../common/config/spec';
import { describeRange } from '../../common/config/spec';
import { ACTIVATIONS, isActivation, isModelType, MODEL_TYPES } from '../../common/modelFamilies';
import type { ModelType } from '../../common/modelFamilies';
import { fromDistilBertKeys } from './familyConfig';

/**
 * config.json as read: the model's fields (trainer/model/config.ts, where they are declared once) plus what the
 * file may carry besides. `hidden_act` stays a string here; the engine refuses what it cannot run.
 */
export interface BertConfig extends Omit<ModelBertConfig, 'hidden_act' | 'classifier_dropout' | 'model_type'> {
  model_type: ModelType;
  hidden_act: string;
  architectures?: string[];
  /** Everything else in the file is kept, so that saving writes it back. */
  [key: string]: unknown;
}

const REQUIRED = [
  'vocab_size',
  'hidden_size',
  'num_hidden_layers',
  'num_attention_heads',
  'intermediate_size',
  'max_position_embeddings',
] as const;

/** Fields checked against the ranges `model.architecture` declares (one source: common/config/schema.ts). */
const RANGED = [
  ...REQUIRED,
  'type_vocab_size',
  'hidden_dropout_prob',
  'attention_probs_dropout_prob',
  'layer_norm_eps',
  'initializer_range',
] as const;

const RESTORE = 'Restore config.json from the original model (save_pretrained writes it).';

const architectureFields = (configSchema.fields.model as SectionSpec<ModelConfig>).fields.architecture.fields;

/**
 * A field of config.json within the range the config schema gives it: `hidden_size: 1e9` is refused here, on
 * its line, instead of failing as an impossible allocation when the model is built.
 */
function checkRange(config: BertConfig, key: (typeof RANGED)[number], file: string, at: { line?: number }): void {
  const spec = architectureFields[key] as NumberSpec;
  const v = config[key];
  const typeOk = typeof v === 'number' && Number.isFinite(v) && (spec.type !== 'integer' || Number.isInteger(v));
  const { minimum, exclusiveMinimum, maximum, exclusiveMaximum } = spec;
  const below = (minimum !== undefined && v < minimum) || (exclusiveMinimum !== undefined && v <= exclusiveMinimum);
  const above = (maximum !== undefined && v > maximum) || (exclusiveMaximum !== undefined && v >= exclusiveMaximum);
  if (typeOk && !below && !above) return;
  const kind = spec.type === 'integer' ? 'an integer' : 'a number';
  const message = `'${key}' in ${file} must be ${kind} ${describeRange(spec) ?? ''}, got ${JSON.stringify(v)}`;
  const fix = above
    ? `${RESTORE} Larger models cannot be trained here (the limit for '${key}' is ${maximum ?? exclusiveMaximum}).`
    : RESTORE;
  throw new FineTuneError('model-bad-config', message.replace(/ ,/, ','), { file, ...at, fix });
}

const DEFAULTS = {
  type_vocab_size: 2,
  hidden_act: 'gelu',
  layer_norm_eps: 1e-12,
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  initializer_range: 0.02,
  pad_token_id: 0,
};

/** Where a family's config class has other defaults than BertConfig's. */
const FAMILY_DEFAULTS: Partial<Record<ModelType, Record<string, unknown>>> = {
  roberta: { pad_token_id: 1 },
  'xlm-roberta': { pad_token_id: 1 },
  electra: { embedding_size: 128 },
};

const SUPPORTED_TYPES = `Fine-Tune Studio trains ${MODEL_TYPES.join(', ')} models (model_type in config.json), e.g. bert-base-uncased, roberta-base, distilbert-base-uncased or google/electra-small-discriminator.`;

/** A config.json is a few kilobytes, a few hundred with a large label map; anything far above is not one. */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

export async function readBertConfig(file: string): Promise<BertConfig> {
  let text: string;
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile() || stat.size > MAX_CONFIG_BYTES) {
      const why = stat.isFile() ? `is ${stat.size} bytes, over the ${MAX_CONFIG_BYTES} limit` : 'is not a regular file';
      throw new FineTuneError('model-bad-config', `${file} ${why}`, { file, fix: RESTORE });
    }
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if (e instanceof FineTuneError) throw e;
    throw new FineTuneError('model-missing-config', `${file} does not exist or cannot be read`, {
      file,
      detail: e instanceof Error ? e.message : String(e),
      fix: 'A model folder needs the config.json saved with the model (save_pretrained writes it).',
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new FineTuneError('model-bad-config', `${file} is not valid JSON`, {
      file,
      detail: e instanceof Error ? e.message : String(e),
    });
  }
  return validateBertConfig(raw, file, text);
}

/** Checks the fields our models need; `text` (the file's source) lets errors point at the line of a field. */
export function validateBertConfig(raw: unknown, file: string, text?: string): BertConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new FineTuneError('model-bad-config', `${file} is not a JSON object`, { file, line: 1 });
  }
  const c = raw as Record<string, unknown>;
  const lineOf = (key: string): { line?: number } => {
    if (text === undefined) return {};
    const at = text.search(new RegExp(`"${key}"\\s*:`));
    return at < 0 ? {} : { line: text.slice(0, at).split('\n').length };
  };
  if (!isModelType(c.model_type)) {
    throw new FineTuneError(
      'model-unsupported-type',
      c.model_type === undefined
        ? `${file} has no model_type`
        : `the model is a '${String(c.model_type)}', not one of the families Fine-Tune Studio trains`,
      { file, ...lineOf('model_type'), fix: SUPPORTED_TYPES },
    );
  }
  const distil = c.model_type === 'distilbert';
  checkFamilyKeys(c, file, lineOf);
  const fields: Record<string, unknown> = distil ? fromDistilBertKeys(c) : c;
  for (const key of REQUIRED) {
    if (fields[key] === undefined) {
      throw new FineTuneError('model-bad-config', `${file} has no '${key}'`, { file, ...lineOf(key), fix: RESTORE });
    }
  }
  const config = { ...DEFAULTS, ...FAMILY_DEFAULTS[c.model_type], ...fields } as BertConfig;
  for (const key of RANGED) checkRange(config, key, file, lineOf(key));
  if (config.hidden_size % config.num_attention_heads !== 0) {
    throw new FineTuneError(
      'model-bad-config',
      `hidden_size ${config.hidden_size} is not a multiple of num_attention_heads ${config.num_attention_heads}`,
      { file, ...lineOf('num_attention_heads'), fix: RESTORE },
    );
  }
  const pad = config.pad_token_id;
  if (!Number.isInteger(pad) || pad < 0 || pad >= config.vocab_size) {
    const message = `'pad_token_id' must be an integer in [0, vocab_size), got ${JSON.stringify(pad)}`;
    throw new FineTuneError('model-bad-config', message, { file, ...lineOf('pad_token_id'), fix: RESTORE });
  }
  const problem = config['problem_type'] as unknown;
  if (problem === null) delete config['problem_type'];
  else if (problem !== undefined && !isProblemType(problem)) {
    const message = `'problem_type' must be one of ${PROBLEM_TYPES.join(', ')}, got ${JSON.stringify(problem)?.slice(0, 60)}`;
    throw new FineTuneError('model-bad-config', message, { file, ...lineOf('problem_type'), fix: RESTORE });
  }
  const dropout = config['classifier_dropout'];
  if (dropout !== undefined && dropout !== null && !(typeof dropout === 'number' && dropout >= 0 && dropout < 1)) {
    const message = `'classifier_dropout' must be null or a probability in [0, 1), got ${JSON.stringify(dropout)}`;
    throw new FineTuneError('model-bad-config', message, { file, ...lineOf('classifier_dropout'), fix: RESTORE });
  }
  return config;
}

/**
 * The keys that decide whether we can run a family's model at all: its activation (DistilBERT calls it
 * `activation`), DistilBERT's fixed sinusoidal positions, ELECTRA's embedding width. Checked before any weights
 * are read, so that a Hub model we cannot run is refused before its download (trainer/hf/hub.ts).
 */
function checkFamilyKeys(c: Record<string, unknown>, file: string, lineOf: (key: string) => { line?: number }): void {
  const actKey = c.model_type === 'distilbert' ? 'activation' : 'hidden_act';
  const act = c[actKey] ?? 'gelu';
  if (!isActivation(act)) {
    throw new FineTuneError('model-unsupported-activation', `${file} uses ${actKey} '${String(act)}'`, {
      file,
      ...lineOf(actKey),
      fix: `Only ${ACTIVATIONS.join(', ')} are supported; pick a model that uses one of them.`,
    });
  }
  if (c.model_type === 'distilbert' && c.sinusoidal_pos_embds === true) {
    throw new FineTuneError('model-unsupported-config', `${file} has sinusoidal_pos_embds: true`, {
      file,
      ...lineOf('sinusoidal_pos_embds'),
      fix: 'Fixed sinusoidal position embeddings are not supported; use a DistilBERT with learned positions (every released one).',
    });
  }
  const e = c.embedding_size;
  if (
    c.model_type === 'electra' &&
    e !== undefined &&
    !(Number.isInteger(e) && (e as number) > 0 && (e as number) <= LIMIT_E)
  ) {
    const message = `'embedding_size' in ${file} must be an integer in [1, ${LIMIT_E}], got ${JSON.stringify(e)}`;
    throw new FineTuneError('model-bad-config', message, { file, ...lineOf('embedding_size'), fix: RESTORE });
  }
}

const LIMIT_E = (architectureFields.embedding_size as NumberSpec).maximum ?? 8192;

/**
 * config.json's `id2label` as a list (labels[id]). The file is data: its keys are read as own entries only, must
 * be the ids 0..n-1 written as decimal integers (as transformers writes them), and name n distinct labels.
 */
export function id2labelList(config: { id2label?: unknown }, file: string): string[] | undefined {
  const raw = config.id2label;
  if (raw === undefined || raw === null) return undefined;
  const bad = (why: string) =>
    new FineTuneError('model-bad-config', `'id2label' in ${file} ${why}`, {
      file,
      fix: 'Write id2label as {"0": "first label", "1": "second label", ...}, one entry per class, or remove it.',
    });
  if (typeof raw !== 'object' || Array.isArray(raw)) throw bad('is not an object');
  const entries = Object.entries(raw);
  const labels = new Array<string>(entries.length);
  const seen = new Set<string>();
  for (const [key, value] of entries) {
    if (!/^(0|[1-9]\d*)$/.test(key) || Number(key) >= entries.length) {
      throw bad(`has the key '${key.slice(0, 40)}', not an id 0..${entries.length - 1}`);
    }
    if (typeof value !== 'string') throw bad(`maps ${key} to ${JSON.stringify(value)?.slice(0, 40)}, not a label name`);
    if (seen.has(value)) throw bad(`names the label '${value.slice(0, 60)}' twice`);
    seen.add(value);
    labels[Number(key)] = value;
  }
  return labels;
}
