/**
 * Everything a run needs before its first step: the tokenizer, the label map, the encoded data sets and the
 * model (fresh from an architecture, or loaded from a Hugging Face folder with a new head where needed).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { FineTuneConfig } from '../../common/config/schema';
import { FineTuneError } from '../../common/errors';
import { isFrozen } from '../../common/freeze';
import { isDirectory } from '../../common/fsProbe';
import { headFor } from '../../common/config/fileChecks';
import type { Encoded } from '../data/collate';
import { checkLabelCount, labelMapFrom } from '../data/labels';
import { encodeTargets, taskLabelMap } from '../data/targets';
import type { ProblemType } from '../../common/problemType';
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
import { ACTIVATIONS, familyOf, isActivation } from '../../common/modelFamilies';
import { formatBytes, shapeEstimator } from '../../common/memoryEstimate';
import type { TrainingShape } from '../../common/memoryEstimate';
import { checkMemory } from '../../common/memoryCheck';
import type { MemoryVerdict } from '../../common/memoryCheck';
import type { BackendCeilings } from '../gpu/memoryFit';
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

/**
 * Our model config from a config.json (BertConfig's names for every family; extra keys ignored). Unsupported
 * activations were refused when config.json was read (files/hf/bertConfig.ts); this is the last guard.
 */
export function modelConfigFrom(c: HfBertConfig, file: string): BertConfig {
  if (!isActivation(c.hidden_act)) {
    throw new FineTuneError('model-unsupported-activation', `the model uses hidden_act '${c.hidden_act}'`, {
      file,
      fix: `Use a model whose activation is one of ${ACTIVATIONS.join(', ')}.`,
    });
  }
  const out: BertConfig = {
    model_type: c.model_type,
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
    hidden_act: c.hidden_act,
  };
  if (typeof c.classifier_dropout === 'number') out.classifier_dropout = c.classifier_dropout;
  if (c.model_type === 'electra' && typeof c.embedding_size === 'number') out.embedding_size = c.embedding_size;
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
  const modelType = a.model_type ?? 'bert';
  return {
    model_type: modelType,
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
    hidden_act: a.hidden_act ?? 'gelu',
    ...(modelType === 'electra' ? { embedding_size: a.embedding_size ?? a.hidden_size } : {}),
    // DistilBertConfig's seq_classif_dropout defaults to 0.2, not to the hidden dropout.
    ...(modelType === 'distilbert' ? { classifier_dropout: 0.2 } : {}),
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
    const column = c.data.label_column;
    const task = { problemType: c.model.problem_type, separator: c.data.label_separator };
    checkLabelCount(train, { maxLabels: c.data.max_labels, file: trainFile, column, ...task });
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
  task: { problemType: ProblemType; separator: string; threshold?: number } = SINGLE_LABEL,
  classNames?: readonly string[],
): LabelMap {
  // A Hub data set's ClassLabel names fix the ids (single-label): its label ids stay the data set's own.
  const fromData =
    classNames && task.problemType === 'single_label_classification'
      ? labelMapFrom(classNames, task.problemType)
      : taskLabelMap(rows, task.problemType, task.separator);
  const names = pretrainedLabels(pretrained);
  const same = names?.length === fromData.labels.length && fromData.labels.every((l) => names.includes(l));
  const map = same ? labelMapFrom(names, task.problemType) : fromData;
  const multi = task.problemType === 'multi_label_classification' && task.threshold !== undefined;
  return multi ? { ...map, threshold: task.threshold } : map;
}

const SINGLE_LABEL = { problemType: 'single_label_classification', separator: ',' } as const;

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
  separator = ',',
): Encoded[] {
  const targets = labels ? encodeTargets(rows, labels, file, separator) : undefined;
  return rows.map((r, i) => {
    const e = tokenizer.encode(r.text, r.textPair, maxLength);
    return targets ? { ...e, ...targets[i]! } : e;
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

/** Called with the model's config before its weights are allocated: throws to refuse a run that cannot fit. */
export type MemoryGate = (shape: TrainingShape) => void;

export async function buildModel(
  c: FineTuneConfig,
  baseDir: string,
  tokenizer: Tokenizer,
  labels: LabelMap | undefined,
  hub: HubOptions = {},
  gate: MemoryGate = () => undefined,
): Promise<BuiltModel> {
  const head = headOf(c.task);
  const numLabels = labels?.labels.length ?? 2;
  const seed = c.training.seed;
  const fits = (config: BertConfig) => gate({ config, head, numLabels, ...stepShape(c) });
  // The head's problem type travels in its config, as in HF (and so reaches the replica threads with it).
  const withTask = (config: BertConfig): BertConfig =>
    labels && head === 'sequence-classification' ? { ...config, problem_type: labels.problemType } : config;
  if (c.mode === 'from-scratch') {
    const config = withTask(scratchConfig(c, tokenizer));
    fits(config);
    const model = BertModel.create(config, head, { numLabels, seed });
    return { model, newlyInitialized: model.parameterNames() };
  }
  const folder = await resolveModelFolder(c.model.name_or_path!, { ...hub, baseDir });
  const cfg = withTask(modelConfigFrom(folder.config, folder.configFile));
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
  fits(cfg);
  const model = BertModel.create(cfg, head, { numLabels, seed });
  try {
    const sd = toStateDict(await loadStateDict(folder));
    // A classifier trained for another label set cannot be reused: like HF's ignore_mismatched_sizes, it is
    // dropped and the head starts fresh (and is reported as newly initialised).
    for (const k of CLASSIFIER_OUT) {
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

/** The classifier's output layer in every family (`classifier`, or RoBERTa's and ELECTRA's `classifier.out_proj`). */
const CLASSIFIER_OUT = [
  'classifier.weight',
  'classifier.bias',
  'classifier.out_proj.weight',
  'classifier.out_proj.bias',
];
const isClassifierOut = (name: string) => CLASSIFIER_OUT.includes(name);

/** The batch a training step holds, and which parameters train. */
function stepShape(c: FineTuneConfig): Omit<TrainingShape, 'config' | 'head' | 'numLabels' | 'threads'> {
  return {
    batchSize: c.training.per_device_train_batch_size,
    seqLength: c.data.max_length,
    trainable: trainablePredicate(c),
    accumulation: c.training.gradient_accumulation_steps,
    ...(c.task === 'masked-lm' ? { mlmProbability: c.data.mlm_probability } : {}),
  };
}

/**
 * The memory verdict of a run before anything is allocated (common/memoryCheck.ts): a step that cannot fit the
 * backend is refused here with the largest batch that fits, better than an out-of-memory kill (exit code 137),
 * `memory access out of bounds` or a swapping machine later. Returns the verdict otherwise (the caller warns
 * when it is near a ceiling).
 */
export function checkTrainingMemory(shape: TrainingShape, backend: BackendCeilings, file?: string): MemoryVerdict {
  const at = shapeEstimator(shape);
  const v = checkMemory({
    estimateAt: (batchSize) => at(batchSize, shape.seqLength),
    batchSize: shape.batchSize,
    maxLength: shape.seqLength,
    accumulation: shape.accumulation ?? 1,
    ceilings: backend.ceilings,
    ...(backend.hint ? { backendHint: backend.hint } : {}),
  });
  if (v.level !== 'over') return v;
  const e = v.estimate;
  const f = formatBytes;
  throw new FineTuneError('memory-exceeds-backend', v.message!, {
    ...(file !== undefined ? { file } : {}),
    detail:
      `estimate for this thread: weights ${f(e.weights)}, gradients ${f(e.gradients)}, optimizer state ` +
      `${f(e.optimizer)}, activations ${f(e.activations)}` +
      (e.workers ? `; worker threads ${f(e.workers)}` : '') +
      `; a checkpoint save adds ${f(e.checkpointSpike)}; the whole process ${f(e.processTotal)}.`,
    fix: v.fix!,
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
  const family = familyOf(cfg.model_type);
  const mismatches: string[] = [];
  for (const [key, info] of await readParameterInfo(folder)) {
    const spec = specs.get(canonicalKey(key, specs, family));
    if (!spec || isClassifierOut(spec.name)) continue;
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
