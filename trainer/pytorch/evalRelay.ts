/**
 * The worker's evaluations turned into metrics by the TypeScript engine's own code (evaluate.ts,
 * common/metrics.ts): logits arrive in chunks, and the last chunk of a split gets the `eval_metrics` answer that
 * the worker puts in its `eval` message and judges the best model and early stopping by.
 */
import type { EngineJob, EvalMetrics, EvalOutputs } from '../../common/engineJob';
import { ClassificationScores, maskedLmResult, tablesOf } from '../engine/evaluate';
import type { EvalResult } from '../engine/evaluate';

export class EvalCollector {
  private scores: ClassificationScores | undefined;
  readonly metricName: string;
  private readonly names: readonly string[];

  constructor(job: EngineJob) {
    this.metricName = job.metricName;
    const labels = job.state.labels;
    this.names = Array.isArray(labels) ? labels.map(String) : [];
  }

  /** Adds a chunk; returns the answer once the split is complete. */
  add(m: EvalOutputs): EvalMetrics | undefined {
    if (m.maskedLm) {
      const r = m.maskedLm;
      return answer(maskedLmResult(r.lossSum, r.hits, r.scored, r.examples));
    }
    const rows = m.logits ?? [];
    const cols = rows[0]?.length ?? 0;
    const names = this.names.length ? this.names : Array.from({ length: cols }, (_, i) => `LABEL_${i}`);
    this.scores ??= new ClassificationScores(names);
    this.scores.add(rows.flat(), cols, m.labels ?? []);
    if (!m.final) return undefined;
    const result = this.scores.result();
    this.scores = undefined;
    return answer(result);
  }
}

function answer(r: EvalResult): EvalMetrics {
  return { type: 'eval_metrics', metrics: r.metrics, ...tablesOf(r) };
}

export function encodeEvalMetrics(m: EvalMetrics): string {
  return JSON.stringify(m) + '\n';
}
