/**
 * Evaluation of a model on encoded examples. Classification, by the head's problem type: loss, accuracy, F1 (GLUE's
 * positive class with two labels), macro-F1, Matthews correlation, per-class precision/recall and the confusion
 * matrix (single-label); loss, subset accuracy, micro/macro F1 and per-label scores (multi-label); loss (MSE),
 * Pearson and Spearman (regression). Masked-lm: loss, perplexity and masked-token accuracy. No dropout; MLM masks
 * come from a fixed seed so that successive evaluations score the same positions.
 */
import { argmaxRow, classificationMetrics, crossEntropyRow, softmaxRow } from '../../common/metrics';
import type { PerClassMetrics } from '../../common/metrics';
import { pearson, spearman } from '../../common/metrics/correlation';
import { bceWithLogitsValue, multiLabelMetrics, thresholdLogits } from '../../common/metrics/multiLabel';
import { CLASS_DETAIL } from '../../common/protocol';
import { deriveSeed, mulberry32 } from '../../common/random';
import { IGNORE_INDEX } from '../data/batch';
import type { Batch } from '../data/batch';
import { collate } from '../data/collate';
import type { Encoded } from '../data/collate';
import { maskTokens } from '../data/mlm';
import type { MaskingVocab } from '../data/mlm';
import type { BertModel, Prediction } from '../model/bert';
import type { Replicas } from '../parallel/replicas';

export interface EvalOptions {
  batchSize: number;
  padId: number;
  /** Classification: the label names in id order. */
  labelNames?: readonly string[];
  /** Multi-label: a label is predicted when its sigmoid is above this (`model.threshold`); default 0.5. */
  threshold?: number;
  /** Masked-lm: what maskTokens needs, the masking probability and the seed of the evaluation masks. */
  masking?: { vocab: MaskingVocab; probability: number; seed: number };
  /** Threads to predict on (replicas.ts), holding the model's current weights. Without it, this thread alone. */
  replicas?: Replicas | null;
  /** Classification: told each example's predicted class and its probability, in the order of `examples`. */
  onPrediction?: (index: number, predicted: number, probability: number) => void;
}

export interface EvalResult {
  metrics: Record<string, number>;
  labels?: string[];
  confusion?: number[][];
  perClass?: PerClassMetrics[];
  /** Every class, when `perClass` holds only the best-supported ones (CLASS_DETAIL). */
  classes?: number;
  examples: number;
}

/** Salt of the evaluation mask stream, so it never coincides with a training step's. */
const EVAL_SALT = 0x5eed_e7a1;

type Predict = (b: Batch) => Prediction | Promise<Prediction>;

export async function evaluate(model: BertModel, examples: readonly Encoded[], o: EvalOptions): Promise<EvalResult> {
  const replicas = o.replicas ?? null;
  const predict = (b: Batch) => (replicas ? replicas.predict(model, b) : model.predict(b));
  if (model.head === 'masked-lm') return evaluateMlm(model, examples, o, predict);
  const names = o.labelNames ?? Array.from({ length: model.numLabels }, (_, i) => `LABEL_${i}`);
  const problemType = model.config.problem_type ?? 'single_label_classification';
  if (problemType === 'regression') return evaluateRegression(examples, o, predict);
  if (problemType === 'multi_label_classification') return evaluateMultiLabel(examples, o, predict, names);
  const scores = new ClassificationScores(names);
  await eachBatch(examples, o, predict, (batch, logits, cols, start) =>
    scores.add(logits, cols, batch.labels.subarray(0, batch.size), (r, predicted) =>
      o.onPrediction?.(start + r, predicted, softmaxRow(logits, r, cols)[predicted]!),
    ),
  );
  return scores.result();
}

/**
 * Loss, predictions and labels of a single-label evaluation, gathered a batch of logits at a time, then turned
 * into metrics and class tables. The PyTorch engine's logits go through it too (trainer/pytorch/evalRelay.ts), so
 * both engines share one definition of every metric.
 */
export class ClassificationScores {
  private readonly labels: number[] = [];
  private readonly preds: number[] = [];
  private lossSum = 0;

  constructor(private readonly names: readonly string[]) {}

  /** Rows of `cols` logits each (row-major), with each row's true label id; `seen` is told each prediction. */
  add(
    logits: ArrayLike<number>,
    cols: number,
    labels: ArrayLike<number>,
    seen?: (row: number, predicted: number) => void,
  ): void {
    for (let r = 0; r < labels.length; r++) {
      const y = labels[r]!;
      this.lossSum += crossEntropyRow(logits, r, cols, y);
      this.labels.push(y);
      const predicted = argmaxRow(logits, r, cols);
      this.preds.push(predicted);
      seen?.(r, predicted);
    }
  }

  result(): EvalResult {
    const m = classificationMetrics(this.labels, this.preds, this.names);
    const n = this.labels.length;
    const metrics = {
      loss: n ? this.lossSum / n : 0,
      accuracy: m.accuracy,
      f1: m.f1,
      f1_macro: m.f1Macro,
      matthews_correlation: m.matthews,
    };
    return { metrics, ...boundClassDetail(m, this.names), examples: n };
  }
}

/** Predicts every batch of `examples` in order and hands each with its logits to `visit`. */
async function eachBatch(
  examples: readonly Encoded[],
  o: EvalOptions,
  predict: Predict,
  visit: (batch: Batch, logits: Float32Array, cols: number, start: number) => void,
): Promise<void> {
  for (let start = 0; start < examples.length; start += o.batchSize) {
    const batch = collate(examples.slice(start, start + o.batchSize), o.padId, 'text-classification');
    const { logits, shape } = await predict(batch);
    visit(batch, logits, shape[1], start);
  }
}

/** Mean squared error (HF's regression loss), Pearson and Spearman, as GLUE scores STS-B. */
async function evaluateRegression(examples: readonly Encoded[], o: EvalOptions, predict: Predict): Promise<EvalResult> {
  const truth: number[] = [];
  const preds: number[] = [];
  await eachBatch(examples, o, predict, (batch, logits) => {
    for (let r = 0; r < batch.size; r++) {
      truth.push(batch.targets![r]!);
      preds.push(logits[r]!);
    }
  });
  const n = truth.length;
  const sse = truth.reduce((s, y, i) => s + (preds[i]! - y) ** 2, 0);
  const metrics = { loss: n ? sse / n : 0, pearson: pearson(preds, truth), spearmanr: spearman(preds, truth) };
  return { metrics, examples: n };
}

/** BCE-with-logits (averaged over examples and labels, as HF), subset accuracy, micro- and macro-F1. */
async function evaluateMultiLabel(
  examples: readonly Encoded[],
  o: EvalOptions,
  predict: Predict,
  names: readonly string[],
): Promise<EvalResult> {
  const truth: number[] = [];
  const preds: number[] = [];
  let lossSum = 0;
  await eachBatch(examples, o, predict, (batch, logits) => {
    const t = batch.targets!;
    for (let i = 0; i < t.length; i++) lossSum += bceWithLogitsValue(logits[i]!, t[i]!);
    truth.push(...t);
    preds.push(...thresholdLogits(logits, o.threshold ?? 0.5));
  });
  const m = multiLabelMetrics(truth, preds, names);
  const cells = truth.length;
  const metrics = { loss: cells ? lossSum / cells : 0, accuracy: m.accuracy, f1_micro: m.f1Micro, f1_macro: m.f1Macro };
  return { metrics, ...boundClassDetail(m, names), examples: names.length ? cells / names.length : 0 };
}

type ClassDetail = Pick<EvalResult, 'labels' | 'confusion' | 'perClass' | 'classes'>;

/** The tables an evaluation has (protocol.ts `evaluationTables`), for the messages that carry them. */
export function tablesOf(r: EvalResult): ClassDetail {
  return {
    ...(r.labels ? { labels: r.labels } : {}),
    ...(r.confusion ? { confusion: r.confusion } : {}),
    ...(r.perClass ? { perClass: r.perClass } : {}),
    ...(r.classes !== undefined ? { classes: r.classes } : {}),
  };
}

/** Cuts a label name to what a message carries; the cut is marked, so it is never taken for the real name. */
export function clipLabel(name: string): string {
  const max = CLASS_DETAIL.labelChars;
  return name.length <= max ? name : `${name.slice(0, max - 1)}…`;
}

/**
 * The per-class tables an evaluation carries (multi-label has no confusion matrix), within the protocol's
 * CLASS_DETAIL: all of them for a few classes;
 * for many, no confusion matrix and the classes with the most support (ties: label order), with the class count.
 */
export function boundClassDetail(
  m: { confusion?: number[][]; perClass: PerClassMetrics[] },
  names: readonly string[],
): ClassDetail {
  const clip = (p: PerClassMetrics): PerClassMetrics => ({ ...p, label: clipLabel(p.label) });
  if (names.length <= CLASS_DETAIL.confusionUpTo) {
    const confusion = m.confusion ? { confusion: m.confusion } : {};
    return { labels: names.map(clipLabel), ...confusion, perClass: m.perClass.map(clip) };
  }
  const top = m.perClass
    .map((p, i) => ({ p, i }))
    .sort((a, b) => b.p.support - a.p.support || a.i - b.i)
    .slice(0, CLASS_DETAIL.perClassTop)
    .map(({ p }) => clip(p));
  return { perClass: top, classes: names.length };
}

async function evaluateMlm(
  model: BertModel,
  examples: readonly Encoded[],
  o: EvalOptions,
  predict: Predict,
): Promise<EvalResult> {
  if (!o.masking) throw new Error('internal: masked-lm evaluation needs masking options');
  let lossSum = 0;
  let correct = 0;
  let scored = 0;
  for (let start = 0, b = 0; start < examples.length; start += o.batchSize, b++) {
    const plain = collate(examples.slice(start, start + o.batchSize), o.padId, 'masked-lm');
    const batch = maskTokens(
      plain,
      o.masking.vocab,
      o.masking.probability,
      mulberry32(deriveSeed(o.masking.seed, EVAL_SALT, b)),
    );
    const targets: number[] = [];
    for (const l of batch.labels) if (l !== IGNORE_INDEX) targets.push(l);
    if (!targets.length) continue;
    const { logits, shape } = await predict(batch);
    const cols = shape[1];
    targets.forEach((y, r) => {
      lossSum += crossEntropyRow(logits, r, cols, y);
      if (argmaxRow(logits, r, cols) === y) correct++;
    });
    scored += targets.length;
  }
  return maskedLmResult(lossSum, correct, scored, examples.length);
}

/** Masked-LM metrics from the sums over the masked tokens (the PyTorch engine sends these sums). */
export function maskedLmResult(lossSum: number, hits: number, scored: number, examples: number): EvalResult {
  const loss = scored ? lossSum / scored : 0;
  // Perplexity is capped so that a diverged model still gives a finite, JSON-safe number.
  return {
    metrics: { loss, perplexity: Math.min(Math.exp(loss), 1e30), accuracy: scored ? hits / scored : 0 },
    examples,
  };
}
