/**
 * The boundary between the TypeScript trainer and the PyTorch worker (python/finetune_worker/): the job file the
 * trainer writes (`<run>/.engine/job.json`, read by python/finetune_worker/job.py), and the two messages that
 * only this pair exchanges on top of the trainer protocol (common/protocol.ts): the worker's `eval_outputs`
 * (logits, so that metrics have one definition, common/metrics.ts) and the bridge's `eval_metrics` answer.
 * Everything else the worker prints is an ordinary trainer message, checked with `parseTrainerMessage`.
 */
import { arr, bool, count, int, lit, nonNegative, num, obj, oneOf, opt, record, str, unknownValue } from './guard';
import type { Infer } from './guard';
import { evaluationTables, trainerMessages } from './protocol';
import type { ParseResult, TrainerMessage } from './protocol';

export const ENGINE_JOB_VERSION = 1;

/** The folder in a run that holds the job and what the worker reads besides (weights, tokenizer files). */
export const ENGINE_DIR = '.engine';

const example = obj({ ids: arr(count), types: arr(count), label: opt(int) });

export const engineJobGuard = obj({
  formatVersion: lit(ENGINE_JOB_VERSION),
  engineVersion: str,
  runDir: str,
  task: oneOf(['text-classification', 'masked-lm'] as const),
  /** The model to build: its config.json, head and the weights to start from (safetensors). */
  model: obj({
    config: record(unknownValue),
    head: oneOf(['sequence-classification', 'masked-lm'] as const),
    weights: str,
  }),
  /** What each checkpoint's config.json says (hfConfigJson of the TypeScript engine). */
  configJson: record(unknownValue),
  /** Tokenizer files copied into each checkpoint. */
  tokenizerDir: str,
  padId: count,
  mlm: opt(obj({ probability: nonNegative, maskId: count, vocabSize: count, specialIds: arr(count) })),
  data: obj({ train: arr(example), validation: arr(example), test: arr(example) }),
  /** trainer/engine/schedulePlan.ts's batches (example indices of each micro-batch) for each epoch the run reaches. */
  plan: obj({ totalSteps: count, stepsPerEpoch: count, accumulation: count, batches: arr(arr(arr(count))) }),
  /** Every parameter: whether it trains, its peak rate and weight decay (trainer/optim/paramGroups.ts). */
  params: arr(obj({ name: str, trainable: bool, lr: num, weightDecay: num })),
  /** The schedule's factor of each 0-based step (trainer/optim/schedule.ts). */
  lrFactors: arr(num),
  training: record(unknownValue),
  metricName: str,
  greaterIsBetter: bool,
  /** trainer_state.json as the run starts (restored from the checkpoint when resuming). */
  state: record(unknownValue),
  resume: opt(obj({ dir: str })),
  checkpoints: arr(str),
  elapsedBeforeMs: nonNegative,
});
export type EngineJob = Infer<typeof engineJobGuard>;

/** Logits of a split, a chunk at a time (the last has `final`); masked-LM sends its sums instead. */
export const evalOutputs = obj({
  type: lit('eval_outputs'),
  split: oneOf(['validation', 'test'] as const),
  step: count,
  epoch: nonNegative,
  logits: opt(arr(arr(num))),
  labels: opt(arr(int)),
  maskedLm: opt(obj({ lossSum: num, hits: count, scored: count, examples: count })),
  final: bool,
});
export type EvalOutputs = Infer<typeof evalOutputs>;

/** The bridge's answer to a final `eval_outputs`: the metrics and the class tables of the `eval` to send. */
export const evalMetrics = obj({ type: lit('eval_metrics'), metrics: record(num), ...evaluationTables });
export type EvalMetrics = Infer<typeof evalMetrics>;

export type WorkerMessage = TrainerMessage | EvalOutputs;

/** A line the worker printed: a trainer message, or `eval_outputs`. */
export function parseWorkerMessage(line: string): ParseResult<WorkerMessage> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, error: `not JSON: ${line.slice(0, 200)}` };
  }
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  const guard =
    type === 'eval_outputs'
      ? evalOutputs
      : typeof type === 'string' && Object.prototype.hasOwnProperty.call(trainerMessages, type)
        ? trainerMessages[type as keyof typeof trainerMessages]
        : undefined;
  if (!guard) return { ok: false, error: `unknown message type ${JSON.stringify(String(type)).slice(0, 200)}` };
  const problem = guard.check(value);
  return problem
    ? { ok: false, error: `invalid "${String(type)}" message: ${problem}` }
    : { ok: true, message: value as WorkerMessage };
}
