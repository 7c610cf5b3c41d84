/**
 * What a run's protocol messages become in TensorBoard: the scalars Hugging Face's `TensorBoardCallback` writes,
 * under the same tags (`rewrite_logs`: `eval_x` → `eval/x`, `test_x` → `test/x`, the rest under `train/`), at
 * the global step. A user comparing a run of this tool with one of `transformers` finds the same curves.
 */
import { normaliseMetricName } from '../../common/metricNames';
import type { TrainerMessage } from '../../common/protocol';
import type { Scalar } from './protobuf';

export interface StepScalars {
  step: number;
  scalars: Scalar[];
}

/** The scalars of one message, or null for messages TensorBoard has no curve for. */
export function scalarsOf(m: TrainerMessage): StepScalars | null {
  if (m.type === 'step') {
    const scalars: Scalar[] = [];
    // A diverged step reports no loss: nothing to plot, but the learning rate and epoch still are.
    if (m.loss !== null) scalars.push({ tag: 'train/loss', value: m.loss });
    if (m.gradNorm !== null) scalars.push({ tag: 'train/grad_norm', value: m.gradNorm });
    scalars.push({ tag: 'train/learning_rate', value: m.learningRate }, { tag: 'train/epoch', value: m.epoch });
    return { step: m.step, scalars };
  }
  if (m.type === 'eval') {
    const prefix = m.split === 'test' ? 'test' : 'eval';
    const scalars: Scalar[] = [];
    for (const [name, value] of Object.entries(m.metrics)) {
      if (Number.isFinite(value)) scalars.push({ tag: `${prefix}/${normaliseMetricName(name)}`, value });
    }
    scalars.push({ tag: 'train/epoch', value: m.epoch });
    return { step: m.step, scalars };
  }
  return null;
}
