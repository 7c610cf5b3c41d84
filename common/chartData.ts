/**
 * The numeric side of the metrics charts, kept apart from any canvas so that it runs (and is tested) under plain
 * node: smoothing, min/max-preserving downsampling, alignment of several runs for comparison, axis ticks, CSV.
 */

/**
 * Exponential moving average, debiased at the start the way TensorBoard does it: without the correction the
 * first values are pulled towards 0 (the initial accumulator), which makes every loss curve look like it starts
 * low. Non-finite values (a diverged loss sent as null) are passed through and do not enter the average.
 * `weight` is the smoothing slider, 0 (raw) to <1.
 */
export function emaSmooth(values: ArrayLike<number | null>, weight: number): (number | null)[] {
  const w = Math.min(Math.max(weight, 0), 0.999);
  const out: (number | null)[] = new Array(values.length);
  let last = 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v)) {
      out[i] = v ?? null;
      continue;
    }
    last = last * w + (1 - w) * v;
    count++;
    const debias = w === 0 ? 1 : 1 - Math.pow(w, count);
    out[i] = last / debias;
  }
  return out;
}

/** Index of the first element with `xs[i] >= x` in an ascending array (xs.length when none). */
export function lowerBound(xs: ArrayLike<number>, x: number, lo = 0, hi = xs.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the element whose x is closest to `x` (-1 for an empty array). */
export function nearestIndex(xs: ArrayLike<number>, x: number): number {
  if (xs.length === 0) return -1;
  const i = lowerBound(xs, x);
  if (i <= 0) return 0;
  if (i >= xs.length) return xs.length - 1;
  return x - xs[i - 1]! <= xs[i]! - x ? i - 1 : i;
}

export interface Downsampled {
  /** Indices into the original arrays, ascending. */
  indices: number[];
}

/**
 * Picks at most `4 * buckets` points of the part of a series with x in [x0, x1] (plus one point either side, so
 * the line reaches the edges), keeping in each bucket its first, last, minimum and maximum point. A spike stays a
 * spike at any zoom, which plain striding would lose; all the data is kept, only the drawing is thinned.
 */
export function downsampleMinMax(
  xs: ArrayLike<number>,
  ys: ArrayLike<number | null>,
  x0: number,
  x1: number,
  buckets: number,
  blocks?: MinMaxBlocks,
): Downsampled {
  blocks?.update(ys);
  const n = xs.length;
  const start = Math.max(0, lowerBound(xs, x0) - 1);
  const end = Math.min(n, lowerBound(xs, x1) + 1);
  const count = end - start;
  const indices: number[] = [];
  if (count <= 0) return { indices };
  if (count <= buckets * 4) {
    for (let i = start; i < end; i++) indices.push(i);
    return { indices };
  }
  const width = count / buckets;
  for (let k = 0; k < buckets; k++) {
    const lo = start + Math.floor(k * width);
    const hi = Math.min(end, start + Math.floor((k + 1) * width));
    if (hi <= lo) continue;
    let minI = -1;
    let maxI = -1;
    for (let i = lo; i < hi;) {
      // Whole precomputed blocks inside the bucket cost one comparison each instead of BLOCK.
      const blk = blocks && i % BLOCK === 0 && i + BLOCK <= hi ? blocks.at(i / BLOCK) : undefined;
      if (blk) {
        if (blk[0] >= 0 && (minI < 0 || (ys[blk[0]] as number) < (ys[minI] as number))) minI = blk[0];
        if (blk[1] >= 0 && (maxI < 0 || (ys[blk[1]] as number) > (ys[maxI] as number))) maxI = blk[1];
        i += BLOCK;
        continue;
      }
      const y = ys[i];
      if (y !== null && y !== undefined && Number.isFinite(y)) {
        if (minI < 0 || y < (ys[minI] as number)) minI = i;
        if (maxI < 0 || y > (ys[maxI] as number)) maxI = i;
      }
      i++;
    }
    // First, min, max, last in index order, without duplicates (no Set or sort: this runs per frame).
    const a = lo;
    const b = minI < 0 ? lo : Math.min(minI, maxI);
    const c = maxI < 0 ? lo : Math.max(minI, maxI);
    const d = hi - 1;
    indices.push(a);
    if (b !== a) indices.push(b);
    if (c !== b && c !== a) indices.push(c);
    if (d !== c && d !== b && d !== a) indices.push(d);
  }
  return { indices };
}

const BLOCK = 64;

/**
 * Index of the minimum and maximum of each complete block of 64 values of a growing series, extended as values
 * are appended, so that downsampling 100,000 points for a frame reads ~1,600 blocks instead of every point.
 * A different array, or a shorter one (a resumed run truncated it), starts it over.
 */
export class MinMaxBlocks {
  private ys: ArrayLike<number | null> | undefined;
  private readonly mins: number[] = [];
  private readonly maxs: number[] = [];
  update(ys: ArrayLike<number | null>): void {
    if (ys !== this.ys || ys.length < this.mins.length * BLOCK) {
      this.ys = ys;
      this.mins.length = 0;
      this.maxs.length = 0;
    }
    while ((this.mins.length + 1) * BLOCK <= ys.length) {
      const lo = this.mins.length * BLOCK;
      let minI = -1;
      let maxI = -1;
      for (let i = lo; i < lo + BLOCK; i++) {
        const y = ys[i];
        if (y === null || y === undefined || !Number.isFinite(y)) continue;
        if (minI < 0 || y < (ys[minI] as number)) minI = i;
        if (maxI < 0 || y > (ys[maxI] as number)) maxI = i;
      }
      this.mins.push(minI);
      this.maxs.push(maxI);
    }
  }
  at(block: number): [number, number] | undefined {
    return block < this.mins.length ? [this.mins[block]!, this.maxs[block]!] : undefined;
  }
}

/** One run's series, as the comparison view needs it. */
export interface RunSeriesInput {
  id: string;
  steps: ArrayLike<number>;
  epochs: ArrayLike<number>;
  values: ArrayLike<number | null>;
}

export type AlignBy = 'step' | 'epoch';

export interface AlignedTable {
  /** Sorted union of the x values of all runs. */
  x: number[];
  /** One column per run (in input order); null where that run has no value at that x. */
  columns: (number | null)[][];
}

/**
 * Puts several runs on one x axis, by step or by epoch. Epochs are compared at a fixed precision (1e-6) so that
 * 1/3 computed by two runs with different steps per epoch meets at the same x. Values at the same x within one
 * run (e.g. a resumed run re-logging a step) keep the last.
 */
export function alignRuns(runs: readonly RunSeriesInput[], by: AlignBy): AlignedTable {
  const key = (v: number) => (by === 'epoch' ? Math.round(v * 1e6) / 1e6 : v);
  const maps = runs.map((r) => {
    const xs = by === 'step' ? r.steps : r.epochs;
    const m = new Map<number, number | null>();
    for (let i = 0; i < r.values.length; i++) m.set(key(xs[i]!), r.values[i] ?? null);
    return m;
  });
  const all = new Set<number>();
  for (const m of maps) for (const x of m.keys()) all.add(x);
  const x = [...all].sort((a, b) => a - b);
  const columns = maps.map((m) => x.map((v) => (m.has(v) ? m.get(v)! : null)));
  return { x, columns };
}

/** Round tick values for an axis: 1, 2 or 5 times a power of ten (decades on a log axis). */
export function niceTicks(min: number, max: number, target: number, log = false): number[] {
  if (!(max > min)) return Number.isFinite(min) ? [min] : [];
  if (log) {
    const lo = Math.floor(Math.log10(Math.max(min, 1e-300)));
    const hi = Math.ceil(Math.log10(max));
    const stepDecades = Math.max(1, Math.ceil((hi - lo) / target));
    const out: number[] = [];
    for (let e = lo; e <= hi; e += stepDecades) {
      const v = Math.pow(10, e);
      if (v >= min && v <= max) out.push(v);
    }
    return out.length ? out : [min, max];
  }
  const raw = (max - min) / Math.max(1, target);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const norm = raw / mag;
  const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step)
    out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/** Short labels for ticks and read-outs: 3 significant digits, exponent form for very small or large values. */
export function formatValue(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2);
  if (Number.isInteger(v)) return String(v);
  return Number(v.toPrecision(4)).toString();
}

/** CSV with a header row; null as an empty cell, strings quoted when they need it (RFC 4180). */
export function toCsv(header: readonly string[], rows: readonly (readonly (number | string | null)[])[]): string {
  const cell = (v: number | string | null) => {
    if (v === null) return '';
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
    return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  };
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n';
}
