/**
 * The loop stage of a run: one optimiser step at a time (gradient accumulation, clipping, AdamW, the schedule),
 * then the step report, evaluation, checkpoints and the host's stop / save_now / cancel, and early stopping.
 */
import { deriveSeed, mulberry32 } from '../../common/random';
import { FineTuneError } from '../../common/errors';
import type { TrainerMessageOf } from '../../common/protocol';
import { collate } from '../data/collate';
import { maskTokens } from '../data/mlm';
import { clipByGlobalNorm } from '../optim/clip';
import { withGpuFaults } from '../gpu/faults';
import { evalAt } from './trainEval';
import { saveAt } from './trainSave';
import { emptyWindow, freshReplicas } from './trainSession';
import type { Session } from './trainSession';
import { plural } from '../../common/plural';

export type RunStatusAtEnd = TrainerMessageOf<'done'>['status'];

const SALT_DROPOUT = 0xd40f;
const SALT_MASK = 0x3a5c;
const REPORT_EVERY_MS = 5000;

/** Steps until the plan is done or the host, early stopping or a divergence ends the run. */
export async function runLoop(s: Session): Promise<RunStatusAtEnd> {
  const p = s.progress;
  // A GPU out-of-memory or lost device ends the run with the sizes to lower (trainer/gpu/faults.ts).
  const c = s.data.config;
  const sizes = {
    batchSize: c.training.per_device_train_batch_size,
    maxLength: c.data.max_length,
    backend: s.o.backend.name,
  };
  while (p.step < s.data.plan.totalSteps) {
    const started = Date.now();
    const { loss, gradNorm, factor } = await withGpuFaults(sizes, () => trainStep(s, p.step));
    p.step += 1;
    p.win.loss += loss;
    p.win.steps += 1;
    p.win.ms += Date.now() - started;
    s.o.onStepEnd?.(p.step);
    reportStep(s, gradNorm, factor);
    const ended = await withGpuFaults(sizes, () => afterStep(s));
    if (ended) return ended;
  }
  return 'completed';
}

export interface StepResult {
  /** The mean loss over the step's micro-batches. */
  loss: number;
  gradNorm: number;
  /** The learning-rate factor the step was taken with. */
  factor: number;
}

/**
 * One optimiser step: forward and backward over each micro-batch of `step`, then clip and apply. The batches,
 * MLM masks and dropout masks are functions of (seed, step, micro-batch), so a resumed run takes the same steps.
 */
export async function trainStep(s: Session, step: number): Promise<StepResult> {
  const { config: c, tokenizer, plan, trainSet } = s.data;
  const t = c.training;
  const micro = plan.microBatches(step);
  let loss = 0;
  for (let j = 0; j < micro.length; j++) {
    let batch = collate(
      micro[j]!.map((i) => trainSet[i]!),
      tokenizer.padId,
      c.task,
    );
    if (c.task === 'masked-lm') {
      const rng = mulberry32(deriveSeed(t.seed, SALT_MASK, step, j));
      batch = maskTokens(batch, tokenizer, c.data.mlm_probability, rng);
    }
    const seed = deriveSeed(t.seed, SALT_DROPOUT, step, j);
    const workers = await freshReplicas(s);
    const r = workers
      ? await workers.lossAndGrads(s.model, batch, seed, s.isTrainable)
      : await s.model.lossAndGrads(batch, { training: true, seed }, s.isTrainable);
    s.accum.add(r.grads, 1 / micro.length);
    loss += r.loss / micro.length;
    s.progress.win.samples += batch.size;
    for (const m of batch.attentionMask) s.progress.win.tokens += m;
  }
  // Read asynchronously: the webgpu backend has no synchronous read in Node.
  const gradNorm = await clipByGlobalNorm(s.accum.grads, t.max_grad_norm);
  const factor = s.lambda(step);
  if (!Number.isFinite(loss)) diverged(s, step, loss, factor);
  s.optimizer.apply(s.accum.grads, factor);
  s.progress.stale = true;
  s.accum.clear();
  return { loss, gradNorm, factor };
}

/** A loss that is NaN or infinite: report the step without numbers, then fail the run with a fix. */
function diverged(s: Session, step: number, loss: number, factor: number): never {
  s.accum.clear();
  const epoch = (step + 1) / s.data.plan.stepsPerEpoch;
  s.out.emit({
    type: 'step',
    step: step + 1,
    epoch,
    loss: null,
    learningRate: s.data.config.training.learning_rate * factor,
    gradNorm: null,
    samplesPerSecond: 0,
    tokensPerSecond: 0,
    elapsedMs: Date.now() - s.t0,
    etaMs: null,
  });
  throw new FineTuneError('loss-diverged', `the loss became ${loss} at step ${step + 1}`, {
    fix: 'Lower learning_rate, add warm-up (warmup_ratio: 0.1), or keep max_grad_norm at 1.',
  });
}

/**
 * HF logs every logging_steps; slow steps (a large model on a CPU) also report every few seconds, so that a
 * progress bar never sits still for minutes. The loss is averaged over the steps since the last report.
 */
function reportStep(s: Session, gradNorm: number, factor: number): void {
  const p = s.progress;
  const t = s.data.config.training;
  const total = s.data.plan.totalSteps;
  const due = p.step % t.logging_steps === 0 || p.step === total || p.step === p.firstStep + 1;
  if (!due && Date.now() - p.lastReport < REPORT_EVERY_MS) return;
  p.lastReport = Date.now();
  const sec = Math.max(p.win.ms, 1) / 1000;
  const perStep = (Date.now() - p.sessionStart) / (p.step - p.firstStep);
  const entry = {
    type: 'step' as const,
    step: p.step,
    epoch: p.step / s.data.plan.stepsPerEpoch,
    loss: p.win.loss / p.win.steps,
    learningRate: t.learning_rate * factor,
    gradNorm: Number.isFinite(gradNorm) ? gradNorm : null,
    samplesPerSecond: p.win.samples / sec,
    tokensPerSecond: p.win.tokens / sec,
    elapsedMs: Date.now() - s.t0,
    etaMs: perStep * (total - p.step),
  };
  const { epoch, loss } = entry;
  s.state.log_history.push({ step: p.step, epoch, loss, learning_rate: entry.learningRate, grad_norm: entry.gradNorm });
  s.out.emit(entry);
  p.win = emptyWindow();
}

/** Evaluation, the host's flags, a checkpoint and early stopping after a step; the end status, if the run ends. */
async function afterStep(s: Session): Promise<RunStatusAtEnd | undefined> {
  const { step } = s.progress;
  const t = s.data.config.training;
  const control = s.o.control;
  const epochEnd = s.data.plan.endsEpoch(step);
  const evalDue = t.eval_strategy === 'steps' && step % (t.eval_steps ?? t.logging_steps) === 0;
  const stopEarly =
    s.data.valSet.length > 0 && (evalDue || (t.eval_strategy === 'epoch' && epochEnd)) ? await evalAt(s, step) : false;
  // Yield so that stdin (stop / save_now / cancel) is read between steps.
  await new Promise<void>((r) => setImmediate(r));
  if (control.cancel) return 'cancelled';
  const scheduled =
    (t.save_strategy === 'steps' && step % t.save_steps === 0) || (t.save_strategy === 'epoch' && epochEnd);
  if (scheduled || control.saveNow || control.stop) {
    control.saveNow = false;
    await saveAt(s, step);
  }
  if (control.stop) return 'stopped';
  if (stopEarly) {
    s.out.log(
      'info',
      `Early stopping: ${s.metricName} did not improve for ${plural(s.state.patience_used, 'evaluation')}.`,
    );
    return 'early-stopped';
  }
  return undefined;
}
