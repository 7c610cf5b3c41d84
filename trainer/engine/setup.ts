/**
 * Everything a run needs before its first step: the tokenizer, the label map, the encoded data sets and the
 * model (fresh from an architecture, or loaded from a Hugging Face folder with a new head where needed).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import * as path from 'node:path';
import type { FineTuneConfig } from '../../common/config/schema';
import { FineTuneError } from '../../common/errors';
import { isFrozen } from '../../common/freeze';
import { isDirectory } from '../../common/fsProbe';
import { headFor } from '../../common/config/fileChecks';
import type { Encoded } from '../data/collate';
import { buildLabelMap, checkLabelCount, encodeLabels, labelMapFrom } from '../data/labels';
import type { LabelMap } from '../data/labels';
import { readDataset } from '../../files/data/readDataset';
import type { DatasetRow } from '../../files/data/readDataset';
import { splitTrainValidation } from '../data/split';
import { readHubRows } from '../data/hubRows';
import type { BertConfig as HfBertConfig } from '../../files/hf/bertConfig';
import { id2labelList } from '../../files/hf/bertConfig';
import { loadStateDict, readParameterInfo, resolveModelFolder } from '../hf/modelFolder';
import type { ModelFolder } from '../hf/modelFolder';
import { loadTokenizer } from '../hf/tokenizer';
import type { HubOptions } from '../hf/hub';
import type { Tokenizer } from '../hf/tokenizer';
import { BertModel } from '../model/bert';
import type { BertConfig, BertHead } from '../../common/modelConfig';
import { parameterSpecs } from '../../common/modelConfig';
import { estimateForShape, formatBytes, memoryCeiling } from '../../common/memoryEstimate';
import type { TrainingShape } from '../../common/memoryEstimate';
import { canonicalKey, diskShape } from '../model/stateDict';
import type { StateDict } from '../model/stateDict';

export interface EncodedSets {
  train: Encoded[];
  validation: Encoded[];
  test: Encoded[];
  warnings: string[];
}

/** The model head a task trains. */
export const headOf = (task: FineTuneConfig['task']): BertHead => headFor(task) as BertHead;

/** A tokenizer from a local folder, or from a Hub id's folder (downloaded or cached). */
export async function resolveTokenizer(
  nameOrPath: string,
  baseDir: string,
  hub: HubOptions = {},
): Promise<{ tokenizer: Tokenizer; dir: string }> {
  const local = path.resolve(baseDir, nameOrPath);
  if (await isDirectory(local)) return { tokenizer: await loadTokenizer(local), dir: local };
  const folder = await resolveModelFolder(nameOrPath, { ...hub, baseDir, requireWeights: false });
  return { tokenizer: await loadTokenizer(folder.dir), dir: folder.dir };
}

/** Our model config from a config.json (HF names; extra keys ignored). */
export function modelConfigFrom(c: HfBertConfig, file: string): BertConfig {
  if (c.hidden_act !== 'gelu') {
    throw new FineTuneError(
      'model-unsupported-activation',
      `the model uses hidden_act '${c.hidden_act}'; only 'gelu' is supported`,
      {
        file,
        fix: 'Use a BERT model with the standard GELU activation.',
      },
    );
  }
  const out: BertConfig = {
    vocab_size: c.vocab_size,
    hidden_size: c.hidden_size,
    num_hidden_layers: c.num_hidden_layers,
    num_attention_heads: c.num_attention_heads,
    intermediate_size: c.intermediate_size,
    max_position_embeddings: c.max_position_embeddings,
    type_vocab_size: c.type_vocab_size,
    hidden_dropout_prob: c.hidden_dropout_prob,
    attention_probs_dropout_prob: c.attention_probs_dropout_prob,
    layer_norm_eps: c.layer_norm_eps,
    initializer_range: c.initializer_range,
    pad_token_id: c.pad_token_id,
    hidden_act: 'gelu',
  };
  if (typeof c.classifier_dropout === 'number') out.classifier_dropout = c.classifier_dropout;
  return out;
}

export function scratchConfig(c: FineTuneConfig, tokenizer: Tokenizer): BertConfig {
  const a = c.model.architecture;
  if (!a) {
    throw new FineTuneError(
      'from-scratch-needs-architecture',
      '`mode: from-scratch` needs a `model.architecture` section',
      {
        fix: 'Add `model.architecture` with hidden_size, num_hidden_layers, num_attention_heads, intermediate_size.',
      },
    );
  }
  const vocab = a.vocab_size ?? tokenizer.vocabSize;
  if (vocab < tokenizer.vocabSize) {
    throw new FineTuneError(
      'vocab-too-small',
      `\`vocab_size\` (${vocab}) is smaller than the tokenizer's vocabulary (${tokenizer.vocabSize})`,
      {
        fix: `Remove \`vocab_size\` (it defaults to the tokenizer's) or set it to at least ${tokenizer.vocabSize}.`,
      },
    );
  }
  return {
    vocab_size: vocab,
    hidden_size: a.hidden_size,
    num_hidden_layers: a.num_hidden_layers,
    num_attention_heads: a.num_attention_heads,
    intermediate_size: a.intermediate_size,
    max_position_embeddings: a.max_position_embeddings,
    type_vocab_size: a.type_vocab_size,
    hidden_dropout_prob: a.hidden_dropout_prob,
    attention_probs_dropout_prob: a.attention_probs_dropout_prob,
    layer_norm_eps: a.layer_norm_eps,
    initializer_range: a.initializer_range,
    pad_token_id: tokenizer.padId,
    hidden_act: 'gelu',
  };
}

/** Tensors of a safetensors file as our state dict (float weights only). */
export function toStateDict(
  tensors: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array | Int32Array }>,
): StateDict {
  const sd: StateDict = new Map();
  for (const [k, t] of tensors) if (t.data instanceof Float32Array) sd.set(k, { shape: [...t.shape], data: t.data });
  return sd;
}

export interface DataRows {
  train: DatasetRow[];
  validation: DatasetRow[];
  test: DatasetRow[];
  files: { train: string; validation?: string; test?: string };
  /** A Hub data set's ClassLabel names in id order: the label ids the data set uses. */
  labelNames?: string[];
  warnings: string[];
}

/** The rows of a run: from its data files, or from the Hub data set `data.dataset_name`. */
export async function readRows(c: FineTuneConfig, baseDir: string, hub: HubOptions = {}): Promise<DataRows> {
  if (c.data.dataset_name !== undefined) return readHubRows(c, hub);
  return readFileRows(c, baseDir, c.data.train_file as string);
}

async function readFileRows(c: FineTuneConfig, baseDir: string, trainFileName: string): Promise<DataRows> {
  const opts = {
    textColumn: c.data.text_column,
    ...(c.data.text_pair_column !== undefined ? { textPairColumn: c.data.text_pair_column } : {}),
    ...(c.task === 'text-classification' ? { labelColumn: c.data.label_column } : {}),
  };
  const warnings: string[] = [];
  const read = async (f: string) => {
    const ds = await readDataset(path.resolve(baseDir, f), opts);
    for (const w of ds.warnings)
      warnings.push(`${w.file ?? ds.file}${w.line ? `:${w.line}` : ''}: warning: ${w.message}`);
    return ds.rows;
  };
  const trainFile = path.resolve(baseDir, trainFileName);
  let train = await read(trainFileName);
  if (c.task === 'text-classification') {
    checkLabelCount(train, { maxLabels: c.data.max_labels, file: trainFile, column: c.data.label_column });
  }
  let validation: DatasetRow[] = [];
  const files: DataRows['files'] = { train: trainFile };
  if (c.data.validation_file) {
    validation = await read(c.data.validation_file);
    files.validation = path.resolve(baseDir, c.data.validation_file);
  } else if (c.data.validation_split !== undefined) {
    const s = splitTrainValidation(train, c.data.validation_split, c.data.split_seed);
    train = s.train;
    validation = s.validation;
    files.validation = trainFile;
  }
  let test: DatasetRow[] = [];
  if (c.data.test_file) {
    test = await read(c.data.test_file);
    files.test = path.resolve(baseDir, c.data.test_file);
  }
  return { train, validation, test, files, warnings };
}

/**
 * The label map of a classification run: the pre-trained model's own order when its labels are exactly the
 * data's (so a trained head is reused), otherwise the data's labels in a stable order.
 */
export function chooseLabels(
  rows: readonly DatasetRow[],
  pretrained?: Record<string, string>,
  classNames?: readonly string[],
): LabelMap {
  const fromData = classNames ? labelMapFrom(classNames) : buildLabelMap(rows.map((r) => r.label ?? ''));
  const names = pretrainedLabels(pretrained);
  if (names) {
    const same = names.length === fromData.labels.length && fromData.labels.every((l) => names.includes(l));
    if (same) return labelMapFrom(names);
  }
  return fromData;
}

/** The pre-trained model's labels in id order; a malformed id2label only means its head is not reused. */
function pretrainedLabels(id2label: Record<string, string> | undefined): string[] | undefined {
  try {
    return id2labelList({ id2label }, 'config.json');
  } catch {
    return undefined;
  }
}

export function encodeRows(
  rows: readonly DatasetRow[],
  tokenizer: Tokenizer,
  maxLength: number,
  labels: LabelMap | undefined,
  file: string,
): Encoded[] {
  const ids = labels ? encodeLabels(rows, labels, file) : undefined;
  return rows.map((r, i) => {
    const e = tokenizer.encode(r.text, r.textPair, maxLength);
    return ids ? { ...e, label: ids[i]! } : e;
  });
}

export interface BuiltModel {
  model: BertModel;
  /** Where the weights came from (a folder), or undefined from scratch. */
  source?: string;
  newlyInitialized: string[];
  /** config.json of the source model, to write back the keys we do not use. */
  sourceConfig?: HfBertConfig;
}

export async function buildModel(
  c: FineTuneConfig,
  baseDir: string,
  tokenizer: Tokenizer,
  labels: LabelMap | undefined,
  hub: HubOptions = {},
): Promise<BuiltModel> {
  const head = headOf(c.task);
  const numLabels = labels?.labels.length ?? 2;
  const seed = c.training.seed;
  const fits = (config: BertConfig, file?: string) =>
    checkMemoryFits({ config, head, numLabels, ...stepShape(c) }, tf.getBackend(), file);
  if (c.mode === 'from-scratch') {
    const config = scratchConfig(c, tokenizer);
    fits(config);
    const model = BertModel.create(config, head, { numLabels, seed });
    return { model, newlyInitialized: model.parameterNames() };
  }
  const folder = await resolveModelFolder(c.model.name_or_path!, { ...hub, baseDir });
  const cfg = modelConfigFrom(folder.config, folder.configFile);
  if (cfg.vocab_size < tokenizer.vocabSize) {
    throw new FineTuneError(
      'vocab-mismatch',
      `the tokenizer has ${tokenizer.vocabSize} tokens but the model only ${cfg.vocab_size} embeddings`,
      {
        file: folder.configFile,
        fix: 'Use the tokenizer that belongs to the model (leave model.tokenizer unset).',
      },
    );
  }
  // Shapes from the safetensors headers and the memory a step needs are checked before anything is allocated:
  // a config.json that disagrees with its weights must not cost gigabytes to find out.
  await checkWeightShapes(folder, cfg, head, numLabels);
  fits(cfg, folder.configFile);
  const model = BertModel.create(cfg, head, { numLabels, seed });
  try {
    const sd = toStateDict(await loadStateDict(folder));
    // A classifier trained for another label set cannot be reused: like HF's ignore_mismatched_sizes, it is
    // dropped and the head starts fresh (and is reported as newly initialised).
    for (const k of ['classifier.weight', 'classifier.bias']) {
      const e = sd.get(k);
      if (e && e.shape[0] !== numLabels) sd.delete(k);
    }
    const report = model.loadStateDict(sd);
    return { model, source: folder.dir, newlyInitialized: report.newlyInitialized, sourceConfig: folder.config };
  } catch (e) {
    model.dispose();
    if (e instanceof FineTuneError) throw e;
    throw new FineTuneError('model-weights-mismatch', `the weights in ${folder.dir} do not fit its config.json`, {
      file: folder.configFile,
      detail: e instanceof Error ? e.message : String(e),
      fix: 'Check that config.json and model.safetensors come from the same model.',
    });
  }
}

/** The batch a training step holds, and which parameters train. */
function stepShape(c: FineTuneConfig): Pick<TrainingShape, 'batchSize' | 'seqLength' | 'trainable'> {
  return {
    batchSize: c.training.per_device_train_batch_size,
    seqLength: c.data.max_length,
    trainable: trainablePredicate(c),
  };
}

/**
 * Refuses a model whose training step would not fit: 4 GiB of WebAssembly heap, or the machine's free memory.
 * Better a clear error now than an out-of-memory kill (exit code 137) or a swapping machine later.
 */
export function checkMemoryFits(shape: TrainingShape, backend: string, file?: string, freeBytes = os.freemem()): void {
  const estimate = estimateForShape(shape);
  const ceiling = memoryCeiling(backend, freeBytes);
  if (estimate.total <= ceiling.bytes) return;
  const f = formatBytes;
  const nativeHint = backend === 'wasm' ? '; or install @tensorflow/tfjs-node and use `backend: node`' : '';
  const message = `training this model needs about ${f(estimate.total)}, but ${ceiling.why}`;
  throw new FineTuneError('model-too-large', message, {
    ...(file !== undefined ? { file } : {}),
    detail:
      `weights ${f(estimate.weights)}, gradients ${f(estimate.gradients)}, optimizer state ${f(estimate.optimizer)}, ` +
      `activations ${f(estimate.activations)} (batch ${shape.batchSize} × ${shape.seqLength} tokens).`,
    fix: `Lower per_device_train_batch_size or max_length, freeze lower layers, or use a smaller model${nativeHint}.`,
  });
}

/**
 * Compares the weights' shapes (from the safetensors headers alone) with the shapes config.json implies, so that
 * a mismatch is reported before the model is allocated. Classifier weights of another label set are not an
 * error: they are dropped and the head starts fresh, as below.
 */
export async function checkWeightShapes(
  folder: ModelFolder,
  cfg: BertConfig,
  head: BertHead,
  numLabels: number,
): Promise<void> {
  const specs = new Map(parameterSpecs(cfg, head, numLabels).map((p) => [p.name, p]));
  const mismatches: string[] = [];
  for (const [key, info] of await readParameterInfo(folder)) {
    const spec = specs.get(canonicalKey(key, specs));
    if (!spec || spec.name.startsWith('classifier.')) continue;
    const want = diskShape(spec);
    if (info.shape.length !== want.length || info.shape.some((d, i) => d !== want[i])) {
      mismatches.push(`${key}: the weights have [${info.shape.join(', ')}], config.json implies [${want.join(', ')}]`);
    }
  }
  if (!mismatches.length) return;
  const count = `${mismatches.length} tensor${mismatches.length > 1 ? 's have' : ' has'}`;
  const message = `the weights in ${folder.dir} do not fit its config.json: ${count} another shape`;
  const more = mismatches.length > 20 ? `\n… and ${mismatches.length - 20} more` : '';
  throw new FineTuneError('model-weights-mismatch', message, {
    file: folder.configFile,
    detail: mismatches.slice(0, 20).join('\n') + more,
    fix: 'Check that config.json and model.safetensors come from the same model (hidden_size, vocab_size, layers).',
  });
}

export function trainablePredicate(c: FineTuneConfig): (name: string) => boolean {
  return (name) => !isFrozen(name, c.freeze, c.unfreeze);
}
