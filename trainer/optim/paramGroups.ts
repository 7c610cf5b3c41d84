/**
 * Per-parameter optimiser settings: weight decay off for `no_decay` names, layer-wise learning-rate decay, and
 * explicit per-pattern learning rates. Each trainable parameter gets its own peak rate and decay, which is
 * what torch's parameter groups amount to.
 */
import type { TrainingConfig } from '../../common/config/schema';
import { matchesPattern } from '../../common/freeze';

export interface ParamSetting {
  /** Peak learning rate (before the schedule). */
  lr: number;
  weightDecay: number;
}

export interface GroupOptions {
  learningRate: number;
  weightDecay: number;
  /** Patterns whose parameters get no weight decay (default `bias`, `LayerNorm.weight`). */
  noDecay: readonly string[];
  /** 1 turns it off. */
  layerwiseLrDecay: number;
  numLayers: number;
  /** Pattern → peak rate; the first pattern (in insertion order) that matches wins over learning_rate. */
  learningRates?: Readonly<Record<string, number>>;
}

const GLOB_CHARS = /[*?[]/;

/**
 * A pattern matches as a glob over the dotted name (as `freeze` does) or, when it has no glob characters, as a
 * substring: HF's own recipe is `any(nd in n for nd in no_decay)`, so `bias` and `LayerNorm.weight` must
 * match `bert.encoder.layer.0.output.LayerNorm.weight`.
 */
export function nameMatches(name: string, pattern: string): boolean {
  if (matchesPattern(name, pattern)) return true;
  return !GLOB_CHARS.test(pattern) && name.includes(pattern);
}

/**
 * Depth of a parameter for layer-wise decay: embeddings 0, encoder layer i at i + 1, everything above the
 * encoder (pooler, classifier, MLM head) at L + 1. The rate is learning_rate × decay^(L + 1 − depth).
 */
export function layerDepth(name: string, numLayers: number): number {
  // Every family's names: bert./roberta./electra. (ELECTRA's embeddings_project too), distilbert.transformer.
  if (/^(bert|roberta|electra|distilbert)\.embeddings(_project)?\./.test(name)) return 0;
  const m = /^(?:bert|roberta|electra|distilbert)\.(?:encoder|transformer)\.layer\.(\d+)\./.exec(name);
  if (m) return Number(m[1]) + 1;
  return numLayers + 1;
}

/** The options of a run's training section, for a model of `numLayers` encoder layers (both engines use them). */
export function groupOptions(t: TrainingConfig, numLayers: number): GroupOptions {
  return {
    learningRate: t.learning_rate,
    weightDecay: t.weight_decay,
    noDecay: t.no_decay,
    layerwiseLrDecay: t.layerwise_lr_decay,
    numLayers,
    ...(t.learning_rates ? { learningRates: t.learning_rates } : {}),
  };
}

export function paramSetting(name: string, o: GroupOptions): ParamSetting {
  const weightDecay = o.noDecay.some((p) => nameMatches(name, p)) ? 0 : o.weightDecay;
  for (const [pattern, lr] of Object.entries(o.learningRates ?? {})) {
    // An explicit rate is taken as given: layer-wise decay only shapes the rates nobody set.
    if (nameMatches(name, pattern)) return { lr, weightDecay };
  }
  const lr = o.learningRate * o.layerwiseLrDecay ** (o.numLayers + 1 - layerDepth(name, o.numLayers));
  return { lr, weightDecay };
}
