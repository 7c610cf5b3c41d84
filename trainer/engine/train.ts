/**
 * A training run, in four named stages: plan (data, labels, tokenizer, batches; the run folder and `plan`),
 * build (model, optimiser, resume state, worker threads), loop (step, eval, checkpoint, early stop) and finish
 * (final save, load-best, test eval, `done`). It talks to the outside only through `emit` (protocol messages)
 * and `control` (flags the host sets), so the subprocess entry, the CLI and the tests all drive the same code.
 */
import { FineTuneError } from '../../common/errors';
import type { TrainerMessageOf } from '../../common/protocol';
import type { RunFolder } from './runFolder';
import { outOfMemoryError } from './outOfMemory';
import { buildSession } from './trainBuild';
import { finishRun } from './trainFinish';
import { runLoop } from './trainLoop';
import type { TrainOptions } from './trainOptions';
import { openRun, planData } from './trainPlan';
import type { Session } from './trainSession';

// The options are declared beside the stages that read them; callers have always imported them from here.
export type { RunControl, TrainOptions } from './trainOptions';

type Done = TrainerMessageOf<'done'>;

export async function train(o: TrainOptions): Promise<Done> {
  let folder: RunFolder | undefined;
  const t0 = Date.now();
  try {
    const created = (rf: RunFolder) => (folder = rf);
    // engine: pytorch plans and opens the run here, then hands the loop to the Python worker (trainer/pytorch/).
    if (o.loaded.config.engine === 'pytorch') {
      const { trainWithPytorch } = await import('../pytorch/bridge');
      return await trainWithPytorch(o, created);
    }
    return await trainIn(o, created);
  } catch (thrown) {
    // Running out of memory is the user's to fix (a smaller batch), never an internal error.
    const e = outOfMemoryError(thrown, o.loaded.config, o.backend) ?? thrown;
    if (downloadAborted(e, o)) return cancelledBeforeTraining(o, folder, t0);
    // Set-up can fail after the run folder exists (a bad checkpoint to resume, weights that do not fit):
    // run.json must then say failed, not running.
    if (folder && folder.info.status === 'running') await markFailed(folder, e);
    throw e;
  }
}

/** The host's stop or cancel aborts a Hub download in progress (hf/hubProgress.ts): that run is cancelled, not failed. */
function downloadAborted(e: unknown, o: TrainOptions): boolean {
  return e instanceof FineTuneError && e.code === 'hub-download-cancelled' && (o.control.cancel || o.control.stop);
}

async function cancelledBeforeTraining(o: TrainOptions, folder: RunFolder | undefined, t0: number): Promise<Done> {
  const done: Done = { type: 'done', status: 'cancelled', step: 0, elapsedMs: Date.now() - t0 };
  folder?.record(done);
  await folder?.update({ status: 'cancelled', endedAt: new Date().toISOString() });
  o.emit(done);
  return done;
}

async function markFailed(folder: RunFolder, e: unknown): Promise<void> {
  const err =
    e instanceof FineTuneError
      ? e.toUserError()
      : { code: 'internal', message: e instanceof Error ? e.message : String(e) };
  const error = { code: err.code, message: err.message };
  await folder.update({ status: 'failed', endedAt: new Date().toISOString(), error });
}

async function trainIn(o: TrainOptions, created: (rf: RunFolder) => void): Promise<Done> {
  const t0 = Date.now();
  const data = await planData(o);
  const { out, resume } = await openRun(o, data, created);
  const s = await buildSession(o, t0, data, out, resume);
  try {
    return await finishRun(s, await runLoop(s));
  } catch (e) {
    await out.rf.update({ step: s.progress.step });
    throw e;
  } finally {
    await closeSession(s);
  }
}

async function closeSession(s: Session): Promise<void> {
  await s.replicas?.close();
  s.accum.clear();
  s.optimizer.dispose();
  s.model.dispose();
}
