/**
 * `predict`'s answer for people: one aligned row per text, in the order given (label, its probability, the text;
 * a regression's value, or a multi-label set with its lowest probability).
 * Texts are shown on one line each (control characters escaped); the text column is cut when a pair follows it.
 */
import { shown } from '../../common/shown';

export interface PredictionRow {
  text: string;
  textPair?: string;
  label: string;
  probabilities: Record<string, number>;
  /** A regression's value (its `label` is the value as text). */
  value?: number;
  /** A multi-label model's set of labels (each with its own sigmoid in `probabilities`). */
  labels?: string[];
}

/** The answer column: the label, a regression's value, or a multi-label set; and the score beside it. */
function answer(r: PredictionRow): [string, string] {
  if (typeof r.value === 'number') return [String(r.value), ''];
  if (r.labels) {
    const min = Math.min(...r.labels.map((l) => r.probabilities[l] ?? NaN));
    return [r.labels.length ? r.labels.join(', ') : '(none)', r.labels.length ? min.toFixed(4) : ''];
  }
  return [r.label, (r.probabilities[r.label] ?? NaN).toFixed(4)];
}

/** Width of the text column when a text pair follows it. */
const PAIR_TEXT_WIDTH = 40;

export function predictionTable(rows: readonly PredictionRow[]): string {
  const pairs = rows.some((r) => r.textPair !== undefined);
  const header = ['label', 'score', 'text', ...(pairs ? ['text pair'] : [])];
  const body = rows.map((r) => [
    shown(answer(r)[0], 40),
    answer(r)[1],
    pairs ? shown(r.text, PAIR_TEXT_WIDTH) : shown(r.text, 10_000),
    ...(pairs ? [shown(r.textPair ?? '', 10_000)] : []),
  ]);
  const all = [header, ...body];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  // The last column is not padded: no trailing spaces after the text.
  const line = (row: string[]) =>
    row.map((cell, i) => (i === row.length - 1 ? cell : i === 1 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)));
  return all.map((row) => line(row).join('  ')).join('\n') + '\n';
}
