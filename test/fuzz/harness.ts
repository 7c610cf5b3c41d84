/**
 * A small seeded fuzz harness shared by the fuzz suites. Each suite draws its inputs from one seeded stream, so a
 * failure is reproduced by its seed alone: `FUZZ_SEED=<seed> node --import tsx --test test/fuzz/<suite>.test.ts`.
 * Every case is timed (no input may take over `caseMs`), the whole suite has a time budget (it stops drawing new
 * cases when the budget is spent, but only after `minCases`), and the heap may not grow past `maxHeapGrowthMb`.
 * On a failure it throws an error that names the suite, the seed, the case number and the input.
 */
import { deriveSeed, mulberry32, randInt } from '../../common/random';
import type { Rng } from '../../common/random';

export interface FuzzOptions<T> {
  /** How many cases at least (the floor), and at most. */
  minCases: number;
  maxCases?: number;
  /** Stop drawing past `minCases` when this much time has gone; default 15 s. */
  budgetMs?: number;
  /** The most one case may take; default 2 s. */
  caseMs?: number;
  /** The most the JS heap may grow over the suite (after a GC when --expose-gc is on); default 256 MB. */
  maxHeapGrowthMb?: number;
  generate: (rng: Rng, index: number) => T;
  /** Throws (or rejects) when the input is handled wrongly. */
  check: (input: T, rng: Rng) => void | Promise<void>;
  /** How to print an input in a failure message; default JSON, cut to 2,000 characters. */
  show?: (input: T) => string;
}

export interface FuzzReport {
  cases: number;
  elapsedMs: number;
  slowestMs: number;
}

/** The suite's seed: `FUZZ_SEED` when set (to reproduce a failure), else a fixed one so CI is repeatable. */
export function fuzzSeed(): number {
  const s = process.env.FUZZ_SEED;
  return s !== undefined && /^\d+$/.test(s) ? Number(s) >>> 0 : 20261206;
}

export async function fuzz<T>(name: string, o: FuzzOptions<T>): Promise<FuzzReport> {
  const seed = fuzzSeed();
  const budget = o.budgetMs ?? 15_000;
  const caseMs = o.caseMs ?? 2_000;
  const show = o.show ?? ((x: T) => JSON.stringify(x)?.slice(0, 2000) ?? String(x));
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  let slowest = 0;
  let i = 0;
  for (; i < (o.maxCases ?? Infinity); i++) {
    if (i >= o.minCases && performance.now() - t0 > budget) break;
    // Each case has its own stream, so case N is reproducible without replaying cases 0..N-1.
    const rng = mulberry32(deriveSeed(seed, i));
    const input = o.generate(rng, i);
    const c0 = performance.now();
    try {
      await o.check(input, rng);
    } catch (e) {
      throw new Error(
        `fuzz ${name}: case ${i} failed (FUZZ_SEED=${seed}): ${e instanceof Error ? e.stack : String(e)}\ninput: ${show(input)}`,
      );
    }
    const took = performance.now() - c0;
    slowest = Math.max(slowest, took);
    if (took > caseMs)
      throw new Error(
        `fuzz ${name}: case ${i} took ${took.toFixed(0)} ms (limit ${caseMs}; FUZZ_SEED=${seed})\ninput: ${show(input)}`,
      );
  }
  gc?.();
  const growthMb = (process.memoryUsage().heapUsed - heap0) / 1e6;
  const maxGrowth = o.maxHeapGrowthMb ?? 256;
  if (growthMb > maxGrowth)
    throw new Error(`fuzz ${name}: the heap grew by ${growthMb.toFixed(0)} MB (bound ${maxGrowth}; FUZZ_SEED=${seed})`);
  return { cases: i, elapsedMs: performance.now() - t0, slowestMs: slowest };
}

/** Picks one element. */
export function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[randInt(rng, xs.length)] as T;
}

/** Mutates a string: flips, inserts, deletes or duplicates a few characters or slices. */
export function mutateText(
  rng: Rng,
  s: string,
  alphabet = '\u0000\t\n\r "\'[]{}:,-#&*!|>%@`\\/.0123456789eE+aZ_\u00e9\u{1F600}',
): string {
  let out = s;
  const edits = 1 + randInt(rng, 4);
  for (let k = 0; k < edits; k++) {
    const at = randInt(rng, out.length + 1);
    const op = randInt(rng, 5);
    const ch = pick(rng, [...alphabet]);
    if (op === 0) out = out.slice(0, at) + ch + out.slice(at);
    else if (op === 1) out = out.slice(0, at) + out.slice(at + 1 + randInt(rng, 8));
    else if (op === 2) out = out.slice(0, at) + ch + out.slice(at + 1);
    else if (op === 3) out = out.slice(0, at) + out.slice(at, at + randInt(rng, 40)) + out.slice(at);
    else out = out.slice(0, at) + ch.repeat(1 + randInt(rng, 200)) + out.slice(at);
  }
  return out;
}

/** Mutates bytes: flips bits, overwrites with boundary values, truncates or extends. */
export function mutateBytes(rng: Rng, b: Uint8Array): Uint8Array {
  let out = Uint8Array.from(b);
  const edits = 1 + randInt(rng, 4);
  for (let k = 0; k < edits; k++) {
    const op = randInt(rng, 4);
    const at = randInt(rng, Math.max(out.length, 1));
    if (op === 0 && out.length) out[at] = (out[at] ?? 0) ^ (1 << randInt(rng, 8));
    else if (op === 1 && out.length) out[at] = pick(rng, [0, 0x7f, 0x80, 0xff, 0x22, 0x5c, 0x7b, 0x7d]);
    else if (op === 2) out = out.slice(0, at);
    else {
      const extra = new Uint8Array(1 + randInt(rng, 64)).map(() => randInt(rng, 256));
      const grown = new Uint8Array(out.length + extra.length);
      grown.set(out.subarray(0, at));
      grown.set(extra, at);
      grown.set(out.subarray(at), at + extra.length);
      out = grown;
    }
  }
  return out;
}
