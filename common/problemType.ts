/**
 * The head's problem type, as Hugging Face's `config.problem_type`, and the metrics each one reports. It is a
 * property of the model (HF keeps it in config.json next to `num_labels` and `id2label`), so a config writes it
 * as `model.problem_type` and every checkpoint's config.json carries it. Imports nothing: the webviews use it too.
 */

export const PROBLEM_TYPES = ['single_label_classification', 'multi_label_classification', 'regression'] as const;
export type ProblemType = (typeof PROBLEM_TYPES)[number];

export function isProblemType(v: unknown): v is ProblemType {
  return typeof v === 'string' && (PROBLEM_TYPES as readonly string[]).includes(v);
}

/** The task of a run as the metrics see it: a problem type of text-classification, or masked-lm. */
export type MetricTask = ProblemType | 'masked-lm';

/**
 * Metric names (bare, without `eval_`) an evaluation reports, per task, as HF `evaluate` names them.
 * Single-label: `f1` is GLUE's (the F1 of label id 1) with two labels, the macro average with more; `f1_macro`
 * is always the macro average. Multi-label: `accuracy` is subset accuracy (every label of a row right), as
 * sklearn's accuracy_score on label sets.
 */
export const TASK_METRICS: Readonly<Record<MetricTask, readonly string[]>> = {
  single_label_classification: ['loss', 'accuracy', 'f1', 'f1_macro', 'matthews_correlation'],
  multi_label_classification: ['loss', 'accuracy', 'f1_micro', 'f1_macro'],
  regression: ['loss', 'pearson', 'spearmanr'],
  'masked-lm': ['loss', 'perplexity', 'accuracy'],
};

/**
 * HF TrainingArguments' default of `greater_is_better`: true unless the metric's name ends with `loss`.
 * Perplexity is the one more exception: it is exp(loss), so lower is better, whatever the rule says.
 */
export function defaultGreaterIsBetter(metric: string): boolean {
  const bare = metric.startsWith('eval_') ? metric.slice('eval_'.length) : metric;
  return !(bare.endsWith('loss') || bare === 'perplexity');
}

/** What the data says about the problem type, for inferProblemType. */
export interface ProblemEvidence {
  /** `model.problem_type` as written. */
  declared?: ProblemType;
  /** Whether some training row's label is a list (a JSON array). */
  listLabels: boolean;
  /** The pre-trained model's config.json `problem_type` and `num_labels`, when fine-tuning. */
  pretrained?: { problem_type?: unknown; num_labels?: unknown; id2label?: unknown };
}

/**
 * The problem type of a run, as HF decides it: the declared one wins; then list labels mean multi-label; then
 * the pre-trained model's own `problem_type`, or `num_labels: 1` (regression); otherwise single-label.
 */
export function inferProblemType(e: ProblemEvidence): ProblemType {
  if (e.declared) return e.declared;
  if (e.listLabels) return 'multi_label_classification';
  const p = e.pretrained;
  if (p && isProblemType(p.problem_type)) return p.problem_type;
  const labels = p?.id2label && typeof p.id2label === 'object' ? Object.keys(p.id2label).length : undefined;
  if (p && (p.num_labels ?? labels) === 1) return 'regression';
  return 'single_label_classification';
}

/**
 * The metrics a config's run can report, before its data is read: its problem type's when declared; otherwise
 * any classification problem type's, since the data or the pre-trained model may still decide (the trainer then
 * checks the metric against the type it settles on).
 */
export function metricsOfConfig(task: 'text-classification' | 'masked-lm', declared?: ProblemType): readonly string[] {
  if (task === 'masked-lm') return TASK_METRICS['masked-lm'];
  if (declared) return TASK_METRICS[declared];
  return [...new Set(PROBLEM_TYPES.flatMap((p) => TASK_METRICS[p]))];
}
