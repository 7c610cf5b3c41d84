/**
 * The training subsets of the sample-efficiency curve: nested (the 128 examples hold the 64), stratified (each
 * label's share of every subset is within one example of its share of the whole train split) and drawn from a
 * fixed seed, so that scratch and fine-tune, and every training seed, see exactly the same examples at each size.
 */
import { mulberry32, shuffleInPlace } from '../../common/random';

/**
 * An order of the row indices whose every prefix is a stratified subset. Each label's rows are shuffled with
 * `seed`; then, position by position, the next row comes from the label furthest below its quota
 * (share × (position + 1)), ties to the label seen first in the data. Taking prefixes of one order is what makes
 * the subsets nested; allocating by largest remainder per size would not be (the Alabama paradox).
 */
export function stratifiedOrder(labels: readonly string[], seed: number): number[] {
  const byLabel = new Map<string, number[]>();
  labels.forEach((label, i) => {
    const list = byLabel.get(label);
    if (list) list.push(i);
    else byLabel.set(label, [i]);
  });
  const rng = mulberry32(seed);
  const groups = [...byLabel.values()].map((rows) => ({ rows: shuffleInPlace(rows, rng), taken: 0 }));
  const order: number[] = [];
  for (let position = 1; position <= labels.length; position++) {
    let best: (typeof groups)[number] | undefined;
    let bestDeficit = -Infinity;
    for (const g of groups) {
      if (g.taken >= g.rows.length) continue;
      const deficit = (g.rows.length / labels.length) * position - g.taken;
      if (deficit > bestDeficit + 1e-12) {
        best = g;
        bestDeficit = deficit;
      }
    }
    const g = best as (typeof groups)[number];
    order.push(g.rows[g.taken++] as number);
  }
  return order;
}

/**
 * The subsets of the given sizes (row indices, in the order drawn), smallest first; a size at or above the
 * number of rows is left out (that point is the full train split, trained by the main comparison).
 */
export function nestedSubsets(
  labels: readonly string[],
  sizes: readonly number[],
  seed: number,
): { size: number; rows: number[] }[] {
  const order = stratifiedOrder(labels, seed);
  return [...new Set(sizes)]
    .filter((n) => n > 0 && n < labels.length)
    .sort((a, b) => a - b)
    .map((size) => ({ size, rows: order.slice(0, size) }));
}
