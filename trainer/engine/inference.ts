/**
 * One-shot uses of a saved model folder (a checkpoint or any HF BERT folder): `evaluate` on a data file and
 * `predict` on one text (pair). The head comes from config.json's `architectures`.
 */
import * as path from 'node:path';
import { softmaxRow } from '../../common/metrics';
import { FineTuneError } from '../../common/errors';
import { collate } from '../data/collate';
import { encodeLabels, labelMapFrom } from '../data/labels';
import type { LabelMap } from '../data/labels';
import { readDataset } from '../../files/data/readDataset';
import type { DatasetRow } from '../../files/data/readDataset';
import { EVAL_ROWS } from '../../common/protocol';
import type { EvaluationRow } from '../../common/protocol';
import { id2labelList } from '../../files/hf/bertConfig';
import { loadStateDict, resolveModelFolder } from '../hf/modelFolder';
import { loadTokenizer } from '../hf/tokenizer';
import type { Tokenizer } from '../hf/tokenizer';
import { BertModel } from '../model/bert';
import { Replicas } from '../parallel/replicas';
import { clipLabel, evaluate } from './evaluate';
import type { EvalResult } from './evaluate';
import { modelConfigFrom, toStateDict } from './setup';

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
  const head = arch === 'BertForMaskedLM' || arch === 'BertForPreTraining' ? 'masked-lm' : 'sequence-classification';
  let labels: LabelMap | undefined;
  if (head === 'sequence-classification') {
    labels = labelMapFrom(id2labelList(folder.config, folder.configFile) ?? ['LABEL_0', 'LABEL_1']);
  }
  const cfg = modelConfigFrom(folder.config, folder.configFile);
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
  const limit = Math.min(cfg.max_position_embeddings, tokenizer.modelMaxLength);
  return {
    model,
    tokenizer,
    ...(labels ? { labels } : {}),
    dir: folder.dir,
    maxLength: Math.min(limit, o.maxLength ?? limit),
  };
}

export interface EvaluateFileOptions {
  textColumn?: string;
  textPairColumn?: string;
  labelColumn?: string;
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
  const ids = classification && m.labels ? encodeLabels(ds.rows, m.labels, ds.file) : undefined;
  const examples = ds.rows.map((r, i) => ({
    ...m.tokenizer.encode(r.text, r.textPair, maxLength),
    ...(ids ? { label: ids[i]! } : {}),
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
      masking: { vocab: m.tokenizer, probability: 0.15, seed: o.seed ?? 42 },
      replicas,
      onPrediction: (i, predicted, probability) => (predictions[i] = { predicted, probability }),
    });
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
  const probs = softmaxRow(logits, 0, shape[1]);
  let best = 0;
  probs.forEach((p, i) => {
    if (p > probs[best]!) best = i;
  });
  return {
    label: m.labels.labels[best]!,
    probabilities: Object.fromEntries(m.labels.labels.map((l, i) => [l, probs[i]!])),
    inputIds: [...batch.inputIds],
    attentionMask: [...batch.attentionMask],
    tokenTypeIds: [...batch.tokenTypeIds],
    logits: [...logits],
  };
}
