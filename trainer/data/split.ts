/** Train/validation split: stratified by label and reproducible from a seed. */
import { mulberry32, shuffleInPlace } from '../../common/random';

export interface Split<T> {
  train: T[];
  validation: T[];
}

/**
 * Puts `ratio` of each label's rows into validation (rounded, at least one per label that has two or more
 * rows), keeping the rest for training. Both parts keep the original file order, so the split depends
 * only on (rows, ratio, seed). Rows without a label form their own stratum.
 */
export function splitTrainValidation<T extends { label?: string }>(
  rows: readonly T[],
  ratio: number,
  seed: number,
): Split<T> {
  if (!(ratio > 0 && ratio < 1)) throw new RangeError(`validation ratio must be between 0 and 1, got ${ratio}`);
  const strata = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const key = r.label === undefined ? '\u0000none' : `=${r.label}`;
    const list = strata.get(key);
    if (list) list.push(i);
    else strata.set(key, [i]);
  });
  const rng = mulberry32(seed);
  const inValidation = new Uint8Array(rows.length);
  // Strata in a fixed order (sorted keys) so that the RNG stream does not depend on which label comes first.
  for (const key of [...strata.keys()].sort()) {
    const idx = strata.get(key) as number[];
    let k = Math.round(idx.length * ratio);
    if (k === 0 && idx.length >= 2) k = 1;
    if (k >= idx.length) k = idx.length - 1;
    shuffleInPlace(idx, rng);
    for (let j = 0; j < k; j++) inValidation[idx[j] as number] = 1;
  }
  const train: T[] = [];
  const validation: T[] = [];
  rows.forEach((r, i) => (inValidation[i] ? validation : train).push(r));
  return { train, validation };
}
