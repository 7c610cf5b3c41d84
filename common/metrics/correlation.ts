/**
 * Correlations, as scipy and sklearn compute them: Pearson's r, Spearman's rho (Pearson's r of the ranks, ties
 * given their average rank, as scipy.stats.spearmanr) and Matthews' correlation coefficient over a confusion
 * matrix (sklearn's matthews_corrcoef, which covers any number of classes). A correlation that is undefined
 * because one side is constant is 0, as sklearn's MCC gives (scipy would give NaN, which no chart can draw).
 */

/** Pearson's r of two equally long series; 0 when either is constant or there are fewer than two points. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = Math.min(x.length, y.length);
  if (n < 2) return 0;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return 0;
  // Rounding can carry |r| a hair past 1 for perfectly correlated series.
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** 1-based ranks, ties sharing the mean of the ranks they span (scipy.stats.rankdata's 'average'). */
export function averageRanks(x: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: x.length }, (_, i) => i).sort((a, b) => x[a]! - x[b]!);
  const ranks = new Float64Array(x.length);
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && x[order[end]!] === x[order[start]!]) end++;
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]!] = rank;
    start = end;
  }
  return ranks;
}

/** Spearman's rho: Pearson's r of the average ranks. */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  return pearson(averageRanks(x), averageRanks(y));
}

/**
 * Matthews' correlation over confusion[true][predicted], in sklearn's multiclass form:
 * (c·s − Σ t_k·p_k) / √((s² − Σ p_k²)(s² − Σ t_k²)), with c the correct count, s the total, t_k and p_k the
 * true and predicted counts of class k. With two classes it is the usual (tp·tn − fp·fn) / √(…).
 */
export function matthewsFromConfusion(confusion: readonly (readonly number[])[]): number {
  const k = confusion.length;
  let c = 0;
  let s = 0;
  const t = new Array<number>(k).fill(0);
  const p = new Array<number>(k).fill(0);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const v = confusion[i]![j]!;
      s += v;
      t[i]! += v;
      p[j]! += v;
      if (i === j) c += v;
    }
  }
  let tp = 0;
  let pp = 0;
  let tt = 0;
  for (let i = 0; i < k; i++) {
    tp += t[i]! * p[i]!;
    pp += p[i]! * p[i]!;
    tt += t[i]! * t[i]!;
  }
  const denominator = Math.sqrt((s * s - pp) * (s * s - tt));
  return denominator === 0 ? 0 : (c * s - tp) / denominator;
}
