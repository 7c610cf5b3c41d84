/** Damerau-Levenshtein (optimal string alignment) distance, for did-you-mean suggestions. */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  // Three rolling rows (i-2, i-1, i) instead of the full matrix: this runs for every unknown key on each keystroke.
  let before = new Int32Array(n + 1);
  let prev = Int32Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Int32Array(n + 1);
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, before[j - 2]! + 1);
      cur[j] = v;
    }
    [before, prev, cur] = [prev, cur, before];
  }
  return prev[n]!;
}

/**
 * The closest candidate, if it is close enough to be what the user meant: within a third of the word's length
 * (at least 1, at most 3 edits), or the candidate contains the word / the word contains the candidate.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  for (const c of candidates) {
    // The distance is at least the difference in length: skip the quadratic work for hopeless candidates.
    if (Math.abs(c.length - w.length) > limit) continue;
    const d = editDistance(w, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (best !== undefined && bestD <= limit) return best;
  for (const c of candidates) {
    const lc = c.toLowerCase();
    if (w.length >= 4 && (lc.includes(w) || w.includes(lc))) return c;
  }
  return undefined;
}
