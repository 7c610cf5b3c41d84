/**
 * One-shot uses of a saved model folder (a checkpoint or any HF BERT folder): `evaluate` on a data file and
 * `predict` on one text (pair). The head comes from config.json's `architectures`.
 */
import * as path from 'node:path';
import { softmaxRow } from '../../common/metrics';
import { sigmoid, thresholdLogits } from '../../common/metrics/multiLabel';
import { FineTuneError } from '../../common/errors';
import { collate } from '../data/collate';
import { labelMapFrom } from '../data/labels';
import { encodeTargets } from '../data/targets';
import type { LabelMap } from '../data/labels';
import { readDataset } from '../../files/data/readDataset';
import type { DatasetRow } from '../../files/data/readDataset';
import { EVAL_ROWS } from '../../common/protocol';
import type { EvaluationRow } from '../../common/protocol';
import { id2labelList } from '../../files/hf/bertConfig';
import type { BertConfig as HfBertConfig } from '../../files/hf/bertConfig';
import { loadStateDict, resolveModelFolder } from '../hf/modelFolder';
import { loadTokenizer } from '../hf/tokenizer';
import type { Tokenizer } from '../hf/tokenizer';
import { BertModel } from '../model/bert';
import { Replicas } from '../parallel/replicas';
import { clipLabel, evaluate } from './evaluate';
import type { EvalResult } from './evaluate';
import { modelConfigFrom, toStateDict } from './setup';
import { maxSequenceLength } from '../../common/modelConfig';

export interface LoadedModel {
  model: BertModel;
  tokenizer: Tokenizer;
  labels?: LabelMap;
  dir: string;
  maxLength: number;
}

export interface LoadOptions {
  /**
   * The run's `data.max_length`: texts (pairs, with longest_first) are cut to it exactly as training cut them.
   * Without it, the most the model and its tokenizer take.
   */
  maxLength?: number;
}

export async function loadModelFolder(dirOrId: string, o: LoadOptions = {}): Promise<LoadedModel> {
  const folder = await resolveModelFolder(dirOrId);
  const arch = folder.config.architectures?.[0] ?? 'BertForSequenceClassification';
  // BertForMaskedLM, RobertaForMaskedLM, ... (and BERT's pre-training checkpoints) carry a masked-LM head.
  const mlm = arch.endsWith('ForMaskedLM') || arch === 'BertForPreTraining';
  const head = mlm ? 'masked-lm' : 'sequence-classification';
  const labels = head === 'sequence-classification' ? savedLabels(folder.config, folder.configFile) : undefined;
  const cfg = {
    ...modelConfigFrom(folder.config, folder.configFile),
    ...(labels ? { problem_type: labels.problemType } : {}),
  };
  const model = BertModel.create(cfg, head, { numLabels: labels?.labels.length ?? 2 });
  const report = model.loadStateDict(toStateDict(await loadStateDict(folder)));
  if (report.newlyInitialized.length) {
    model.dispose();
    throw new FineTuneError(
      'model-untrained-head',
      `${folder.dir} has no trained ${head} head (missing ${report.newlyInitialized.join(', ')})`,
      {
        file: folder.dir,
        fix: 'Use a checkpoint trained for this task (a checkpoint-<step> folder of a run).',
      },
    );
  }
  const tokenizer = await loadTokenizer(folder.dir);
  const limit = Math.min(maxSequenceLength(cfg), tokenizer.modelMaxLength);
  return {
    model,
    tokenizer,
    ...(labels ? { labels } : {}),
    dir: folder.dir,
    maxLength: Math.min(limit, o.maxLength ?? limit),
  };
}

/**
 * A saved classifier's labels and problem type, as HF reads them: config.json's problem_type (validated by
 * files/hf/bertConfig.ts), else regression for one label; a multi-label model's threshold when it wrote one.
 */
function savedLabels(config: HfBertConfig & { threshold?: unknown }, file: string): LabelMap {
  const names = id2labelList(config, file) ?? ['LABEL_0', 'LABEL_1'];
  const problemType = config.problem_type ?? (names.length === 1 ? 'regression' : 'single_label_classification');
  const t = config.threshold;
  const threshold = typeof t === 'number' && t > 0 && t < 1 ? { threshold: t } : {};
  return { ...labelMapFrom(names, problemType), ...(problemType === 'multi_label_classification' ? threshold : {}) };
}

export interface EvaluateFileOptions {
  textColumn?: string;
  textPairColumn?: string;
  labelColumn?: string;
  /** Multi-label: the separator of labels in a text cell (`data.label_separator`); default `,`. */
  labelSeparator?: string;
  batchSize?: number;
  maxLength?: number;
  seed?: number;
  /** Told why predictions run on one thread when the worker threads could not help. */
  onFallback?: (why: string) => void;
}

/** An evaluation of a file: the metrics and tables, and for a classifier the rows it shows (EVAL_ROWS). */
export type FileEvaluation = EvalResult & { rows?: EvaluationRow[] };

export async function evaluateFile(m: LoadedModel, file: string, o: EvaluateFileOptions = {}): Promise<FileEvaluation> {
  const classification = m.model.head === 'sequence-classification';
  const ds = await readDataset(path.resolve(file), {
    textColumn: o.textColumn ?? 'text',
    ...(o.textPairColumn ? { textPairColumn: o.textPairColumn } : {}),
    ...(classification ? { labelColumn: o.labelColumn ?? 'label' } : {}),
  });
  const maxLength = o.maxLength ?? m.maxLength;
  const targets =
    classification && m.labels ? encodeTargets(ds.rows, m.labels, ds.file, o.labelSeparator ?? ',') : undefined;
  const examples = ds.rows.map((r, i) => ({
    ...m.tokenizer.encode(r.text, r.textPair, maxLength),
    ...(targets ? targets[i]! : {}),
  }));
  const batchSize = o.batchSize ?? 32;
  // More than one batch: worth starting worker threads for (a fraction of a second from the bundle).
  const replicas =
    examples.length > batchSize
      ? await Replicas.start(m.model, { ...(o.onFallback ? { onFallback: o.onFallback } : {}) })
      : null;
  const predictions: Prediction[] = [];
  try {
    await replicas?.sync(m.model);
    const result = await evaluate(m.model, examples, {
      batchSize,
      padId: m.tokenizer.padId,
      ...(m.labels ? { labelNames: m.labels.labels } : {}),
      ...(m.labels?.threshold !== undefined ? { threshold: m.labels.threshold } : {}),
      masking: { vocab: m.tokenizer, probability: 0.15, seed: o.seed ?? 42 },
      replicas,
      onPrediction: (i, predicted, probability) => (predictions[i] = { predicted, probability }),
    });
    // Rows are shown for single-label classifiers: a wrong class is what a user looks for.
    const ids =
      targets && m.labels?.problemType === 'single_label_classification'
        ? targets.map((t) => ('label' in t ? t.label : -1))
        : undefined;
    return ids && m.labels ? { ...result, rows: shownRows(ds.rows, ids, predictions, m.labels.labels) } : result;
  } finally {
    await replicas?.close();
  }
}

interface Prediction {
  predicted: number;
  probability: number;
}

/** The rows an evaluation shows (EVAL_ROWS): the misclassified first, in file order, then the others. */
export function shownRows(
  rows: readonly DatasetRow[],
  ids: ArrayLike<number>,
  predictions: readonly Prediction[],
  names: readonly string[],
): EvaluationRow[] {
  const order = rows.map((_, i) => i).filter((i) => predictions[i] !== undefined);
  const wrong = order.filter((i) => predictions[i]?.predicted !== ids[i]);
  const right = order.filter((i) => predictions[i]?.predicted === ids[i]);
  return [...wrong, ...right].slice(0, EVAL_ROWS.max).map((i) => {
    const r = rows[i]!;
    const p = predictions[i]!;
    return {
      line: r.line,
      text: clipText(r.text),
      ...(r.textPair !== undefined ? { textPair: clipText(r.textPair) } : {}),
      label: clipLabel(names[ids[i]!]!),
      predicted: clipLabel(names[p.predicted]!),
      probability: p.probability,
    };
  });
}

/** A text cut to what an evaluation row carries, the cut marked so that it is never taken for the whole text. */
function clipText(text: string): string {
  const max = EVAL_ROWS.textChars;
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export interface PredictResult {
  label: string;
  probabilities: Record<string, number>;
  /** Regression: the predicted value (`label` is its text). */
  value?: number;
  /** Multi-label: the labels whose sigmoid is above the threshold (`label` joins them). */
  labels?: string[];
  inputIds: number[];
  attentionMask: number[];
  tokenTypeIds: number[];
  logits: number[];
}

export async function predictText(m: LoadedModel, text: string, textPair?: string): Promise<PredictResult> {
  if (m.model.head !== 'sequence-classification' || !m.labels) {
    throw new FineTuneError(
      'predict-needs-classifier',
      `${m.dir} is a masked-lm model; predict needs a text-classification model`,
      {
        fix: 'Fine-tune it for text-classification first, then predict with that checkpoint.',
      },
    );
  }
  const e = m.tokenizer.encode(text, textPair, m.maxLength);
  const batch = collate([{ ...e, label: 0 }], m.tokenizer.padId, 'text-classification');
  const { logits, shape } = await m.model.predict(batch);
  return {
    ...answer(m.labels, logits, shape[1]),
    inputIds: [...batch.inputIds],
    attentionMask: [...batch.attentionMask],
    tokenTypeIds: [...batch.tokenTypeIds],
    logits: [...logits],
  };
}

/** The prediction of one row of logits, by the head's problem type. */
function answer(
  map: LabelMap,
  logits: Float32Array,
  cols: number,
): Pick<PredictResult, 'label' | 'probabilities' | 'value' | 'labels'> {
  if (map.problemType === 'regression') return { label: String(logits[0]!), probabilities: {}, value: logits[0]! };
  if (map.problemType === 'multi_label_classification') {
    const chosen = thresholdLogits(logits, map.threshold ?? 0.5);
    const labels = map.labels.filter((_, i) => chosen[i] === 1);
    const probabilities = Object.fromEntries(map.labels.map((l, i) => [l, sigmoid(logits[i]!)]));
    return { label: labels.join(', '), probabilities, labels };
  }
  const probs = softmaxRow(logits, 0, cols);
  let best = 0;
  probs.forEach((p, i) => {
    if (p > probs[best]!) best = i;
  });
  return { label: map.labels[best]!, probabilities: Object.fromEntries(map.labels.map((l, i) => [l, probs[i]!])) };
}
