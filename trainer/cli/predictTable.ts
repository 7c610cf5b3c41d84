/**
 * `predict`'s answer for people: one aligned row per text, in the order given (label, its probability, the text).
 * Texts are shown on one line each (control characters escaped); the text column is cut when a pair follows it.
 */
import { shown } from '../../common/shown';

export interface PredictionRow {
  text: string;
  textPair?: string;
  label: string;
  probabilities: Record<string, number>;
}

/** Width of the text column when a text pair follows it. */
const PAIR_TEXT_WIDTH = 40;

export function predictionTable(rows: readonly PredictionRow[]): string {
  const pairs = rows.some((r) => r.textPair !== undefined);
  const header = ['label', 'score', 'text', ...(pairs ? ['text pair'] : [])];
  const body = rows.map((r) => [
    shown(r.label, 40),
    (r.probabilities[r.label] ?? NaN).toFixed(4),
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
