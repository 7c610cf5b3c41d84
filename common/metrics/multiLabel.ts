/**
 * Multi-label metrics over label sets written as row-major 0/1 matrices [rows, classes], as sklearn computes
 * them on indicator matrices: subset accuracy (a row counts only when every label is right), micro-F1 (every
 * row-label decision pooled) and macro-F1 (the mean of the classes' F1). As for single-label macro-F1
 * (common/metrics.ts), a class neither present nor predicted anywhere is left out of the macro average.
 */
import type { PerClassMetrics } from '../metrics';

export interface MultiLabelMetrics {
  accuracy: number;
  f1Micro: number;
  f1Macro: number;
  perClass: PerClassMetrics[];
}

const f1Of = (tp: number, fp: number, fn: number): number => (tp ? (2 * tp) / (2 * tp + fp + fn) : 0);

export function multiLabelMetrics(
  truth: ArrayLike<number>,
  predicted: ArrayLike<number>,
  labelNames: readonly string[],
): MultiLabelMetrics {
  const k = labelNames.length;
  const rows = k ? Math.floor(truth.length / k) : 0;
  const tp = new Array<number>(k).fill(0);
  const fp = new Array<number>(k).fill(0);
  const fn = new Array<number>(k).fill(0);
  let exact = 0;
  for (let r = 0; r < rows; r++) {
    let same = true;
    for (let c = 0; c < k; c++) {
      const t = truth[r * k + c]! > 0;
      const p = predicted[r * k + c]! > 0;
      if (t && p) tp[c]! += 1;
      else if (p) fp[c]! += 1;
      else if (t) fn[c]! += 1;
      if (t !== p) same = false;
    }
    if (same) exact += 1;
  }
  const perClass = labelNames.map((label, c) => classRow(label, tp[c]!, fp[c]!, fn[c]!));
  const counted = perClass.filter((_, c) => tp[c]! + fp[c]! + fn[c]! > 0);
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  return {
    accuracy: rows ? exact / rows : 0,
    f1Micro: f1Of(sum(tp), sum(fp), sum(fn)),
    f1Macro: counted.length ? sum(counted.map((p) => p.f1)) / counted.length : 0,
    perClass,
  };
}

function classRow(label: string, tp: number, fp: number, fn: number): PerClassMetrics {
  return {
    label,
    precision: tp + fp ? tp / (tp + fp) : 0,
    recall: tp + fn ? tp / (tp + fn) : 0,
    f1: f1Of(tp, fp, fn),
    support: tp + fn,
  };
}

/** Sigmoid of every logit compared with the threshold: 1 where the label is predicted. */
export function thresholdLogits(logits: ArrayLike<number>, threshold: number): Uint8Array {
  const out = new Uint8Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = sigmoid(logits[i]!) > threshold ? 1 : 0;
  return out;
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** One logit's BCE-with-logits against a 0/1 target, computed stably: max(x, 0) − x·y + log(1 + e^−|x|). */
export function bceWithLogitsValue(x: number, y: number): number {
  return Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)));
}
