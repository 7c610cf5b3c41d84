/**
 * The finish stage of a run: the final checkpoint, the best model loaded back (load_best_model_at_end), the test
 * evaluation, `done`, and run.json's end status.
 */
import * as path from 'node:path';
import type { TrainerMessageOf } from '../../common/protocol';
import { checkpointName } from '../../common/runFolder/checkpoints';
import { loadModelWeights } from './checkpoint';
import { testEval } from './trainEval';
import type { RunStatusAtEnd } from './trainLoop';
import { saveAt } from './trainSave';
import type { Session } from './trainSession';

type Done = TrainerMessageOf<'done'>;

export async function finishRun(s: Session, status: RunStatusAtEnd): Promise<Done> {
  const p = s.progress;
  const ranToEnd = status === 'completed' || status === 'early-stopped';
  if (ranToEnd) await saveFinal(s);
  let finalMetrics = p.lastEval?.metrics;
  if (s.data.testSet.length && ranToEnd) finalMetrics = await testEval(s);
  const doneMsg: Done = {
    type: 'done',
    status,
    step: p.step,
    ...(s.state.best_metric !== undefined ? { bestMetric: s.state.best_metric } : {}),
    ...(s.state.best_model_checkpoint ? { bestCheckpoint: s.state.best_model_checkpoint } : {}),
    ...(p.lastSaved >= 0 ? { lastCheckpoint: path.join(s.out.rf.dir, checkpointName(p.lastSaved)) } : {}),
    ...(finalMetrics ? { finalMetrics } : {}),
    elapsedMs: Date.now() - s.t0,
  };
  s.out.emit(doneMsg);
  await s.out.rf.update({ status, step: p.step, endedAt: new Date().toISOString() });
  return doneMsg;
}

/** Saves the last step (unless just saved) and, when asked, loads the best checkpoint's weights back. */
async function saveFinal(s: Session): Promise<void> {
  const p = s.progress;
  if (p.lastSaved !== p.step) await saveAt(s, p.step);
  const best = s.state.best_model_checkpoint;
  const last = path.join(s.out.rf.dir, checkpointName(p.step));
  if (!s.data.config.training.load_best_model_at_end || !best || path.resolve(best) === path.resolve(last)) return;
  await loadModelWeights(s.model, best);
  p.stale = p.staleAll = true;
  s.out.log('info', `Loaded the best model (${s.metricName} = ${s.state.best_metric}) from ${best}.`);
}
