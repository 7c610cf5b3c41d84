/**
 * Evaluation metrics as plain math over label ids, shared by the trainer (eval messages), the CLI and the
 * panels. Macro-F1 averages over every class of the label map, as sklearn's f1_score(average='macro') with
 * `labels=` given: a class that never occurs nor is predicted counts with F1 0 only if it has support or
 * predictions; classes with neither are left out of the average (sklearn would warn and count them as 0).
 * With two labels, `f1` is GLUE's (MRPC, QQP): sklearn's binary F1 of the positive class, label id 1 (the
 * second label of the label map); 0 when that class is neither present nor predicted, as sklearn gives.
 */
import { matthewsFromConfusion } from './metrics/correlation';

export interface PerClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationMetrics {
  accuracy: number;
  /** The positive class's F1 with two labels; the macro average with more. */
  f1: number;
  f1Macro: number;
  matthews: number;
  confusion: number[][];
  perClass: PerClassMetrics[];
}

/** confusion[true][predicted]. */
export function confusionMatrix(labels: ArrayLike<number>, preds: ArrayLike<number>, numClasses: number): number[][] {
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i]!;
    const p = preds[i]!;
    if (t >= 0 && t < numClasses && p >= 0 && p < numClasses) m[t]![p]! += 1;
  }
  return m;
}

export function classificationMetrics(
  labels: ArrayLike<number>,
  preds: ArrayLike<number>,
  labelNames: readonly string[],
): ClassificationMetrics {
  const k = labelNames.length;
  const confusion = confusionMatrix(labels, preds, k);
  let correct = 0;
  for (let i = 0; i < k; i++) correct += confusion[i]![i]!;
  const n = labels.length;
  const perClass: PerClassMetrics[] = [];
  let f1Sum = 0;
  let f1Count = 0;
  for (let c = 0; c < k; c++) {
    const tp = confusion[c]![c]!;
    const support = confusion[c]!.reduce((a, b) => a + b, 0);
    let predicted = 0;
    for (let r = 0; r < k; r++) predicted += confusion[r]![c]!;
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    perClass.push({ label: labelNames[c]!, precision, recall, f1, support });
    if (support || predicted) {
      f1Sum += f1;
      f1Count += 1;
    }
  }
  const f1Macro = f1Count ? f1Sum / f1Count : 0;
  return {
    accuracy: n ? correct / n : 0,
    f1: k === 2 ? perClass[1]!.f1 : f1Macro,
    f1Macro,
    matthews: matthewsFromConfusion(confusion),
    confusion,
    perClass,
  };
}

/** Index of the largest value in row `r` of a row-major [rows, cols] matrix. */
export function argmaxRow(values: ArrayLike<number>, r: number, cols: number): number {
  let best = 0;
  let bestV = -Infinity;
  for (let c = 0; c < cols; c++) {
    const v = values[r * cols + c]!;
    if (v > bestV) {
      bestV = v;
      best = c;
    }
  }
  return best;
}

/** Softmax of row `r`, computed stably. */
export function softmaxRow(values: ArrayLike<number>, r: number, cols: number): number[] {
  let max = -Infinity;
  for (let c = 0; c < cols; c++) max = Math.max(max, values[r * cols + c]!);
  const e: number[] = [];
  let sum = 0;
  for (let c = 0; c < cols; c++) {
    const x = Math.exp(values[r * cols + c]! - max);
    e.push(x);
    sum += x;
  }
  return e.map((x) => x / sum);
}

/** −log softmax(row)[label], computed stably. */
export function crossEntropyRow(values: ArrayLike<number>, r: number, cols: number, label: number): number {
  let max = -Infinity;
  for (let c = 0; c < cols; c++) max = Math.max(max, values[r * cols + c]!);
  let sum = 0;
  for (let c = 0; c < cols; c++) sum += Math.exp(values[r * cols + c]! - max);
  return Math.log(sum) + max - values[r * cols + label]!;
}
