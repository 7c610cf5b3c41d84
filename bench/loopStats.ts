/**
 * The numbers of a training-loop case, from the run's own `step` messages (common/protocol.ts): both engines
 * send one per step (logging_steps: 1) with `elapsedMs` (the engine's clock since the run started) and the
 * step's `samplesPerSecond` / `tokensPerSecond`. The rate is the loop's, from elapsedMs between the end of
 * the last warm-up step and the end of the last timed step: everything the loop does per step counts (data,
 * collation, the optimiser, reporting), as a user waiting for the run sees it.
 */
import { median } from './util';

/** A `step` message as it arrived, with the process tree's CPU seconds read at that moment (null off Linux). */
export interface TimedStep {
  step: number;
  elapsedMs: number;
  samplesPerSecond: number;
  tokensPerSecond: number;
  cpuS: number | null;
}

export interface LoopStats {
  /** Timed steps counted (those after the warm-up). */
  steps: number;
  samples_per_s: number;
  tokens_per_s: number;
  /** Median of the timed steps' durations on the engine's clock, ms. */
  step_ms_median: number;
  /**
   * What the step messages themselves said, over the timed steps (samples / the sum of each step's own time):
   * the engine's compute window only, so above samples_per_s by the loop's overhead between steps.
   */
  reported_samples_per_s: number;
  /** Samples per CPU second of the whole process tree (all threads): the work per sample, less load-sensitive. */
  samples_per_cpu_s: number | null;
}

/**
 * `steps` as they arrived; every step holds `batch` examples (the bench's data has no partial batch). Returns
 * why no numbers can be given, rather than numbers from an incomplete run.
 */
export function loopStats(
  steps: readonly TimedStep[],
  batch: number,
  warmup: number,
  timed: number,
): LoopStats | string {
  const start = steps.find((s) => s.step === warmup);
  if (!start) return `no step message for the last warm-up step (${warmup})`;
  const after = steps.filter((s) => s.step > warmup).sort((a, b) => a.step - b.step);
  const numbers = after.map((s) => s.step);
  const expected = Array.from({ length: timed }, (_, i) => warmup + 1 + i);
  if (numbers.join() !== expected.join())
    return `expected step messages ${warmup + 1}..${warmup + timed}, got ${numbers.length ? numbers.join(', ') : 'none'}`;
  const last = after[after.length - 1]!;
  const spanMs = last.elapsedMs - start.elapsedMs;
  if (!(spanMs > 0)) return `the timed steps took ${spanMs} ms on the engine's clock`;
  const samples = after.length * batch;
  const samplesPerS = (samples * 1000) / spanMs;
  const durations = after.map((s, i) => s.elapsedMs - (i === 0 ? start : after[i - 1]!).elapsedMs);
  const ownSeconds = after.reduce((sum, s) => sum + (s.samplesPerSecond > 0 ? batch / s.samplesPerSecond : 0), 0);
  const cpu = last.cpuS !== null && start.cpuS !== null ? last.cpuS - start.cpuS : null;
  return {
    steps: after.length,
    samples_per_s: samplesPerS,
    tokens_per_s: samplesPerS * tokensPerSample(after),
    step_ms_median: median(durations),
    reported_samples_per_s: ownSeconds > 0 ? samples / ownSeconds : 0,
    samples_per_cpu_s: cpu !== null && cpu > 0 ? samples / cpu : null,
  };
}

/** Non-padding tokens per example, as the engines count them (the attention mask's ones). */
function tokensPerSample(steps: readonly TimedStep[]): number {
  const ratios = steps.filter((s) => s.samplesPerSecond > 0).map((s) => s.tokensPerSecond / s.samplesPerSecond);
  return ratios.length ? ratios.reduce((a, b) => a + b, 0) / ratios.length : 0;
}
