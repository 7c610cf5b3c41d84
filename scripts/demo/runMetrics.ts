/**
 * Reads a run's `metrics.jsonl` (the engine's step/eval/checkpoint/done messages, one JSON object a line) into
 * the few numbers the demo report compares: test accuracy and macro-F1, training time, samples/s, the step of
 * the best validation accuracy, and the curves for the chart. Lines that do not parse are counted, not fatal,
 * so a run killed mid-write still reports what it has.
 */

export interface CurvePoint {
  step: number;
  value: number;
}

export interface RunSummary {
  /** null when the run wrote no test evaluation (e.g. it failed or stopped early). */
  testAccuracy: number | null;
  testF1: number | null;
  /** Every metric of the test evaluation, by the engine's bare name (`accuracy`, `f1`, ...); empty without one. */
  testMetrics: Map<string, number>;
  bestValidationAccuracy: number | null;
  /** The first step at which validation accuracy reached its maximum. */
  stepsToBest: number | null;
  steps: number;
  /** From the `done` message; null when the run has none. */
  trainSeconds: number | null;
  /** Mean of the engine's per-step samples/s. */
  samplesPerSecond: number | null;
  status: string | null;
  validationAccuracy: CurvePoint[];
  trainLoss: CurvePoint[];
  badLines: number;
}

interface Msg {
  type?: unknown;
  step?: unknown;
  loss?: unknown;
  samplesPerSecond?: unknown;
  split?: unknown;
  metrics?: Record<string, unknown>;
  elapsedMs?: unknown;
  status?: unknown;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function summariseMetrics(jsonl: string): RunSummary {
  const s: RunSummary = {
    testAccuracy: null,
    testF1: null,
    testMetrics: new Map(),
    bestValidationAccuracy: null,
    stepsToBest: null,
    steps: 0,
    trainSeconds: null,
    samplesPerSecond: null,
    status: null,
    validationAccuracy: [],
    trainLoss: [],
    badLines: 0,
  };
  const speeds: number[] = [];
  for (const line of jsonl.split('\n')) {
    if (line.trim() === '') continue;
    let m: Msg;
    try {
      m = JSON.parse(line) as Msg;
    } catch {
      s.badLines++;
      continue;
    }
    const step = num(m.step);
    if (step !== null) s.steps = Math.max(s.steps, step);
    if (m.type === 'step') {
      const loss = num(m.loss);
      if (step !== null && loss !== null) s.trainLoss.push({ step, value: loss });
      const sps = num(m.samplesPerSecond);
      if (sps !== null && sps > 0) speeds.push(sps);
    } else if (m.type === 'eval' && m.metrics) {
      const acc = num(m.metrics.accuracy);
      if (m.split === 'validation' && step !== null && acc !== null) {
        s.validationAccuracy.push({ step, value: acc });
        if (s.bestValidationAccuracy === null || acc > s.bestValidationAccuracy) {
          s.bestValidationAccuracy = acc;
          s.stepsToBest = step;
        }
      } else if (m.split === 'test') {
        s.testAccuracy = acc;
        // The report's column is macro-F1: `f1_macro` since `f1` became GLUE's positive-class F1 for two
        // labels; older runs' `f1` was the macro average.
        s.testF1 = num(m.metrics.f1_macro ?? m.metrics.f1);
        s.testMetrics = numericEntries(m.metrics);
      }
    } else if (m.type === 'done') {
      const ms = num(m.elapsedMs);
      s.trainSeconds = ms === null ? null : ms / 1000;
      s.status = typeof m.status === 'string' ? m.status : null;
    }
  }
  s.samplesPerSecond = speeds.length ? speeds.reduce((a, b) => a + b, 0) / speeds.length : null;
  return s;
}

/** The finite numbers of a parsed JSON object, in a Map (its keys come from a file, so never a plain lookup). */
function numericEntries(o: Record<string, unknown>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of Object.entries(o)) {
    const n = num(v);
    if (n !== null) out.set(k, n);
  }
  return out;
}

export interface MeanStd {
  mean: number;
  std: number;
  n: number;
}

/** Mean and sample standard deviation (n − 1; 0 for a single value) of the values that are not null. */
export function meanStd(values: readonly (number | null)[]): MeanStd | null {
  const v = values.filter((x): x is number => x !== null);
  if (v.length === 0) return null;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const variance = v.length > 1 ? v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1) : 0;
  return { mean, std: Math.sqrt(variance), n: v.length };
}
