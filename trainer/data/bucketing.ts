/** Length-grouped batching (HF Trainer's group_by_length): less padding, still random. */
import { shuffleInPlace, type Rng } from '../../common/random';

/**
 * Returns batches of example indices. The indices are shuffled, cut into mega-batches of
 * `megaBatchFactor * batchSize`, each sorted by length (longest first), then cut into batches; the order
 * of the batches is shuffled too, so that long batches do not all come at the start of an epoch.
 */
export function lengthBucketedBatches(
  lengths: readonly number[],
  batchSize: number,
  rng: Rng,
  megaBatchFactor = 50,
): number[][] {
  if (!(batchSize >= 1)) throw new RangeError(`batch size must be at least 1, got ${batchSize}`);
  const order = shuffleInPlace(
    Array.from(lengths, (_, i) => i),
    rng,
  );
  const mega = Math.max(batchSize, megaBatchFactor * batchSize);
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += mega) {
    const chunk = order.slice(start, start + mega);
    chunk.sort((a, b) => (lengths[b] as number) - (lengths[a] as number) || a - b);
    for (let j = 0; j < chunk.length; j += batchSize) batches.push(chunk.slice(j, j + batchSize));
  }
  return shuffleInPlace(batches, rng);
}

/** Plain shuffled batches, for when grouping by length is off. */
export function shuffledBatches(count: number, batchSize: number, rng: Rng): number[][] {
  const order = shuffleInPlace(
    Array.from({ length: count }, (_, i) => i),
    rng,
  );
  const batches: number[][] = [];
  for (let j = 0; j < order.length; j += batchSize) batches.push(order.slice(j, j + batchSize));
  return batches;
}
