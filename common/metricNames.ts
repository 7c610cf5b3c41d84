/**
 * One vocabulary for metric names. The trainer's `eval` messages name a metric bare (`accuracy`); Hugging Face's
 * files (trainer_state.json's log_history, a checkpoint's metrics) name it with the `eval_` prefix; a config may
 * write either. Only this module adds or strips the prefix; it imports nothing, so the webviews use it too.
 */
const PREFIX = 'eval_';

/** `eval_accuracy` and `accuracy` name the same metric, as in HF: this gives the bare name. */
export function normaliseMetricName(name: string): string {
  return name.startsWith(PREFIX) ? name.slice(PREFIX.length) : name;
}

/** `accuracy` or `eval_accuracy` → `eval_accuracy`: the key Hugging Face's files use. */
export function evalMetricKey(name: string): string {
  return PREFIX + normaliseMetricName(name);
}

/** Whether a key of Hugging Face's files names an evaluation metric (rather than a training one, like `loss`). */
export function isEvalMetricKey(key: string): boolean {
  return key.startsWith(PREFIX);
}

/** Where the extension learns which metric decides "best", most direct first. */
export interface DecidingMetricSources {
  /** What the trainer's `plan` message says, when it says it. */
  plan?: { type: 'plan'; metricForBestModel?: string; greaterIsBetter?: boolean };
  /** What run.json says. */
  run?: { metricForBestModel?: string; greaterIsBetter?: boolean };
  /** The config as the validator resolves it: its metric, or the default (`loss`), and which way is better. */
  config?: { metric: string; greaterIsBetter: boolean };
}

/**
 * The metric that decides "best", bare, and which way is better when known: the trainer's word first, then the
 * run folder's, then the config's. Never a guess from the metrics at hand.
 */
export function decidingMetric(s: DecidingMetricSources): { metric: string; greaterIsBetter?: boolean } {
  for (const source of [s.plan, s.run]) {
    if (source?.metricForBestModel === undefined) continue;
    const metric = normaliseMetricName(source.metricForBestModel);
    const greater = source.greaterIsBetter ?? (s.config?.metric === metric ? s.config.greaterIsBetter : undefined);
    return greater === undefined ? { metric } : { metric, greaterIsBetter: greater };
  }
  if (s.config) return { metric: s.config.metric, greaterIsBetter: s.config.greaterIsBetter };
  // The validator's default for a config that says nothing (common/config/rules.ts greaterIsBetter).
  return { metric: 'loss', greaterIsBetter: false };
}

/** How the panels title a metric: the bare names HF's `evaluate` uses are terse (`spearmanr`, `f1_micro`). */
const TITLES: ReadonlyMap<string, string> = new Map([
  ['loss', 'loss'],
  ['accuracy', 'accuracy'],
  ['f1', 'F1'],
  ['f1_macro', 'macro-F1'],
  ['f1_micro', 'micro-F1'],
  ['matthews_correlation', 'Matthews correlation'],
  ['pearson', 'Pearson r'],
  ['spearmanr', 'Spearman ρ'],
  ['perplexity', 'perplexity'],
]);

/** A metric's title for a chart, with its HF key so that it can be found in trainer_state.json: `F1 (eval_f1)`. */
export function metricTitle(name: string): string {
  const bare = normaliseMetricName(name);
  const title = TITLES.get(bare);
  return title && title !== bare ? `${title} (${evalMetricKey(bare)})` : evalMetricKey(bare);
}
