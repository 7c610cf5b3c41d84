/**
 * The numbers of the sample-efficiency curve, as pure functions: mean ± std of the test score over seeds at each
 * training-set size, per arm; the gain of fine-tuning over scratch at each size, judged against the seeds' noise;
 * and where the two curves meet. The report's sentences are made from these, never written by hand.
 */
import { meanStd, type MeanStd } from './runMetrics';

export interface CurveRun {
  arm: string;
  /** Labelled training examples the run saw. */
  size: number;
  /** Test score (headline metric, 0–1); null when the run wrote none. */
  score: number | null;
}

export interface CurvePoint extends MeanStd {
  size: number;
}

/** Per arm, the mean ± std at each size (sizes ascending); sizes where no run has a score are left out. */
export function curveStats(runs: readonly CurveRun[]): Map<string, CurvePoint[]> {
  const out = new Map<string, CurvePoint[]>();
  for (const arm of new Set(runs.map((r) => r.arm))) {
    const mine = runs.filter((r) => r.arm === arm);
    const sizes = [...new Set(mine.map((r) => r.size))].sort((a, b) => a - b);
    const points = sizes.flatMap((size) => {
      const m = meanStd(mine.filter((r) => r.size === size).map((r) => r.score));
      return m ? [{ size, ...m }] : [];
    });
    out.set(arm, points);
  }
  return out;
}

export type Verdict = 'helps' | 'hurts' | 'even';

export interface SizeComparison {
  size: number;
  /** Mean of the tuned arm minus mean of the base arm. */
  gain: number;
  /**
   * The standard error of that difference, √(s₁²/n₁ + s₂²/n₂); null when either arm has a single seed (no spread
   * to judge by, and the verdict is the sign alone).
   */
  noise: number | null;
  verdict: Verdict;
}

/** How many standard errors a gain must exceed to count (about a 95% interval that leaves out zero). */
export const NOISE_FACTOR = 2;

/** The gain at every size both arms have, judged against NOISE_FACTOR standard errors. */
export function compareArms(base: readonly CurvePoint[], tuned: readonly CurvePoint[]): SizeComparison[] {
  return tuned.flatMap((t) => {
    const b = base.find((p) => p.size === t.size);
    if (!b) return [];
    const gain = t.mean - b.mean;
    const noise = t.n > 1 && b.n > 1 ? Math.sqrt(t.std ** 2 / t.n + b.std ** 2 / b.n) : null;
    const bar = NOISE_FACTOR * (noise ?? 0);
    const verdict: Verdict = gain > bar && gain > 0 ? 'helps' : gain < -bar && gain < 0 ? 'hurts' : 'even';
    return [{ size: t.size, gain, noise, verdict }];
  });
}

export interface Meeting {
  /**
   * `never-ahead`: fine-tuning helps at no size; `meet`: it helps up to some size and not from `size` on;
   * `apart`: it still helps at the largest size tried; `none`: nothing to compare.
   */
  kind: 'never-ahead' | 'meet' | 'apart' | 'none';
  /** `meet`: the smallest size from which on fine-tuning no longer helps beyond the noise. */
  size?: number;
  /** Where the mean curves cross (the gain falls through zero), interpolated on log(size); absent if they never do. */
  crossing?: number;
}

/** Where the curves meet: from which size on fine-tuning stops paying, and where the means cross. */
export function whereTheyMeet(comparisons: readonly SizeComparison[]): Meeting {
  const c = [...comparisons].sort((a, b) => a.size - b.size);
  if (c.length === 0) return { kind: 'none' };
  const crossing = lastCrossing(c);
  const withCrossing = crossing === undefined ? {} : { crossing };
  const lastHelp = c.map((x) => x.verdict).lastIndexOf('helps');
  if (lastHelp < 0) return { kind: 'never-ahead', ...withCrossing };
  if (lastHelp === c.length - 1) return { kind: 'apart', ...withCrossing };
  return { kind: 'meet', size: (c[lastHelp + 1] as SizeComparison).size, ...withCrossing };
}

/** The size at which the gain last falls from above zero to zero or below, linear in log(size). */
function lastCrossing(c: readonly SizeComparison[]): number | undefined {
  for (let i = c.length - 1; i > 0; i--) {
    const a = c[i - 1] as SizeComparison;
    const b = c[i] as SizeComparison;
    if (a.gain > 0 && b.gain <= 0) {
      const t = a.gain / (a.gain - b.gain);
      return Math.exp(Math.log(a.size) + t * (Math.log(b.size) - Math.log(a.size)));
    }
  }
  return undefined;
}
