/** A checkpoint of the run at a step, the retention rule applied after it, and run.json brought up to date. */
import * as path from 'node:path';
import { checkpointName } from '../../common/runFolder/checkpoints';
import { modelCardFacts, modelCardText } from '../../common/runFolder/modelCard';
import { pruneCheckpoints, saveCheckpoint } from './checkpoint';
import type { Session } from './trainSession';

export async function saveAt(s: Session, atStep: number): Promise<void> {
  const { state, progress: p, out, data } = s;
  const rf = out.rf;
  state.global_step = atStep;
  state.epoch = atStep / data.plan.stepsPerEpoch;
  state.data_position = { epoch: data.plan.epochOf(atStep), step_in_epoch: atStep % data.plan.stepsPerEpoch };
  const isBest = p.bestStep === atStep;
  const dir = path.join(rf.dir, checkpointName(atStep));
  if (isBest) state.best_model_checkpoint = dir;
  const parts = {
    runDir: rf.dir,
    step: atStep,
    model: s.model,
    ...(data.labels ? { labels: data.labels } : {}),
    tokenizer: data.tokenizer,
    optimizer: s.optimizer,
    state,
    ...(s.sourceConfig ? { sourceConfig: s.sourceConfig } : {}),
    card: modelCardText(modelCardFacts(data.config, s.sourceConfig, state, path.basename(rf.dir))),
  };
  await saveCheckpoint(parts, s.o.hooks);
  p.lastSaved = atStep;
  const limit = data.config.training.save_total_limit;
  const deleted = await pruneCheckpoints(rf.dir, limit, [state.best_model_checkpoint, dir], s.o.hooks);
  p.checkpoints = [...p.checkpoints.filter((d) => d !== dir), dir].filter((d) => !deleted.includes(d));
  out.emit({ type: 'checkpoint', step: atStep, path: dir, isBest, deleted });
  await rf.update({
    step: atStep,
    checkpoints: [...p.checkpoints],
    lastCheckpoint: dir,
    ...(state.best_model_checkpoint ? { bestCheckpoint: state.best_model_checkpoint } : {}),
    ...(state.best_metric !== undefined ? { bestMetric: state.best_metric, metricForBestModel: s.metricName } : {}),
  });
}
