/** Evaluations during and at the end of a run, with best-model tracking and the early-stopping patience. */
import { evalMetricKey } from '../../common/metricNames';
import type { TrainerMessageOf } from '../../common/protocol';
import { evaluate, tablesOf } from './evaluate';
import type { EvalResult } from './evaluate';
import { freshReplicas } from './trainSession';
import type { Session } from './trainSession';

type EvalMessage = TrainerMessageOf<'eval'>;

/** Evaluates on the validation set at `atStep`; true when early stopping says the run should end. */
export async function evalAt(s: Session, atStep: number): Promise<boolean> {
  const r = await evaluate(s.model, s.data.valSet, { ...s.evalOpts, replicas: await freshReplicas(s) });
  s.progress.lastEval = r;
  const { isBest, stopEarly } = judge(s, atStep, r.metrics[s.metricName]);
  const epoch = atStep / s.data.plan.stepsPerEpoch;
  const prefixed = Object.entries(r.metrics).map(([k, x]) => [evalMetricKey(k), x]);
  s.state.log_history.push({ step: atStep, epoch, ...Object.fromEntries(prefixed) });
  const patience = s.data.config.training.early_stopping_patience;
  s.out.emit({
    ...evalMessage(r, atStep, epoch, 'validation', isBest),
    ...(patience !== undefined ? { patienceUsed: s.state.patience_used } : {}),
  });
  return stopEarly;
}

/** Whether `v` is the best value yet, and whether the patience is used up; updates the state. */
function judge(s: Session, atStep: number, v: number | undefined): { isBest: boolean; stopEarly: boolean } {
  if (v === undefined || !Number.isFinite(v)) return { isBest: false, stopEarly: false };
  const t = s.data.config.training;
  const best = s.state.best_metric;
  const isBest = best === undefined || (s.greaterIsBetter ? v > best : v < best);
  let stopEarly = false;
  if (t.early_stopping_patience !== undefined) {
    const improved = best === undefined || (isBest && Math.abs(v - best) > t.early_stopping_threshold);
    s.state.patience_used = improved ? 0 : s.state.patience_used + 1;
    stopEarly = s.state.patience_used >= t.early_stopping_patience;
  }
  if (isBest) {
    s.state.best_metric = v;
    s.progress.bestStep = atStep;
  }
  return { isBest, stopEarly };
}

/** Evaluates on the test set (the model as the run ends it); its metrics, sent as a `test` eval. */
export async function testEval(s: Session): Promise<Record<string, number>> {
  const r = await evaluate(s.model, s.data.testSet, { ...s.evalOpts, replicas: await freshReplicas(s) });
  const step = s.progress.step;
  s.out.emit(evalMessage(r, step, step / s.data.plan.stepsPerEpoch, 'test', false));
  return r.metrics;
}

function evalMessage(r: EvalResult, step: number, epoch: number, split: EvalMessage['split'], isBest: boolean) {
  return {
    type: 'eval' as const,
    step,
    epoch,
    split,
    metrics: r.metrics,
    ...tablesOf(r),
    isBest,
  };
}
