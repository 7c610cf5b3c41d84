/**
 * Learning-rate schedules with the exact formulas of Hugging Face's `get_*_schedule_with_warmup`
 * (transformers/optimization.py). A schedule maps the 0-based optimiser step to a multiplier of the peak rate;
 * as with torch's LambdaLR, the update at step k uses factor(k), so the very first update of a warm-up is 0.
 */
import type { Scheduler } from '../../common/config/schema';

/** HF `TrainingArguments.get_warmup_steps`: explicit steps win, otherwise ceil(ratio × total). */
export function warmupSteps(totalSteps: number, warmupRatio: number, warmupStepsSetting: number): number {
  return warmupStepsSetting > 0 ? warmupStepsSetting : Math.ceil(totalSteps * warmupRatio);
}

export type LrLambda = (step: number) => number;

export function lrLambda(kind: Scheduler, totalSteps: number, warmup: number): LrLambda {
  const warm = (step: number) => step / Math.max(1, warmup);
  switch (kind) {
    case 'constant':
      return () => 1;
    case 'constant_with_warmup':
      return (step) => (step < warmup ? warm(step) : 1);
    case 'linear':
      return (step) =>
        step < warmup ? warm(step) : Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmup));
    case 'cosine': {
      const numCycles = 0.5;
      return (step) => {
        if (step < warmup) return warm(step);
        const progress = (step - warmup) / Math.max(1, totalSteps - warmup);
        return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * numCycles * 2 * progress)));
      };
    }
  }
}
