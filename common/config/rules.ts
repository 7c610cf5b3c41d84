/**
 * Rules that involve more than one key. Each catches a mistake that Hugging Face users otherwise meet only at
 * run time (or never: a silently ignored key), and says how to fix it.
 */
import type { ConfigDiagnostic } from './diagnostic';
import type { FineTuneConfig } from './schema';
import type { ConfigDocument } from './yamlDoc';
import { diag } from './makeDiagnostic';
import { normaliseMetricName } from '../metricNames';
import { defaultGreaterIsBetter, metricsOfConfig } from '../problemType';
import type { ArchitectureConfig } from './schema';
import { estimateForShape, formatBytes, WASM_HEAP_BYTES } from '../memoryEstimate';
import { isFrozen } from '../freeze';
import { headFor } from './fileChecks';
import { columnRules } from './columnRules';
import { dataSourceRules } from './dataSourceRules';
import { revisionRules } from './hubModel';

/** The vocabulary assumed when `vocab_size` is left to the tokenizer: BERT's own, 30,522 tokens. */
const DEFAULT_VOCAB_SIZE = 30_522;

// Declared with the rest of the metric vocabulary; kept importable from here for the trainer and the tests.
export { normaliseMetricName } from '../metricNames';

export function greaterIsBetter(c: FineTuneConfig): boolean {
  if (c.training.greater_is_better !== undefined) return c.training.greater_is_better;
  return defaultGreaterIsBetter(c.training.metric_for_best_model ?? 'loss');
}

export function hasValidation(c: FineTuneConfig): boolean {
  // A Hub data set is assumed to have its validation split; the trainer says so when it has none.
  return (
    c.data.validation_file !== undefined || c.data.validation_split !== undefined || c.data.dataset_name !== undefined
  );
}

export function crossFieldRules(
  c: FineTuneConfig,
  raw: Record<string, unknown>,
  doc: ConfigDocument,
): ConfigDiagnostic[] {
  const out: ConfigDiagnostic[] = [];
  const has = (...path: string[]) => doc.pair(path) !== undefined;
  const t = c.training;
  if (!raw['mode']) return out; // `missing-required` already says it.
  out.push(...dataSourceRules(c, doc), ...revisionRules(c, doc));

  // Mode and model source.
  if (c.mode === 'fine-tune') {
    if (!c.model.name_or_path) {
      out.push(
        diag(
          'error',
          'fine-tune-needs-model',
          '`mode: fine-tune` needs `model.name_or_path`: a model folder, a checkpoint, or a Hub id.',
          has('model') ? ['model'] : ['mode'],
          doc,
          [
            {
              title: 'Add `model.name_or_path`',
              edits: [doc.insertKeyEdit(['model'], 'name_or_path', 'bert-base-uncased')],
              preferred: true,
            },
          ],
        ),
      );
    }
    if (has('model', 'architecture')) {
      out.push(
        diag(
          'error',
          'architecture-with-pretrained',
          'A pre-trained model brings its own architecture (its `config.json`): remove `model.architecture`, or use `mode: from-scratch`.',
          ['model', 'architecture'],
          doc,
          [
            {
              title: 'Switch to `mode: from-scratch`',
              edits: [{ range: doc.valueRange(['mode']), newText: 'from-scratch' }],
            },
          ],
        ),
      );
    }
  } else {
    if (has('model', 'name_or_path')) {
      out.push(
        diag(
          'error',
          'pretrained-with-from-scratch',
          '`mode: from-scratch` starts from random weights, so `model.name_or_path` would be ignored. Use `model.tokenizer` for its tokenizer, or `mode: fine-tune`.',
          ['model', 'name_or_path'],
          doc,
          [
            {
              title: 'Switch to `mode: fine-tune`',
              edits: [{ range: doc.valueRange(['mode']), newText: 'fine-tune' }],
            },
          ],
        ),
      );
    }
    if (!c.model.tokenizer) {
      out.push(
        diag(
          'error',
          'from-scratch-needs-tokenizer',
          '`mode: from-scratch` needs `model.tokenizer`: a folder with tokenizer.json or vocab.txt, or a Hub id such as `bert-base-uncased`.',
          has('model') ? ['model'] : ['mode'],
          doc,
          [
            {
              title: 'Add `model.tokenizer`',
              edits: [doc.insertKeyEdit(['model'], 'tokenizer', 'bert-base-uncased')],
              preferred: true,
            },
          ],
        ),
      );
    }
    const a = c.model.architecture;
    if (a && a.hidden_size % a.num_attention_heads !== 0) {
      out.push(
        diag(
          'error',
          'heads-divide-hidden',
          `\`hidden_size\` (${a.hidden_size}) must be divisible by \`num_attention_heads\` (${a.num_attention_heads}): each head gets hidden_size / heads dimensions.`,
          [
            'model',
            'architecture',
            has('model', 'architecture', 'num_attention_heads') ? 'num_attention_heads' : 'hidden_size',
          ],
          doc,
          [],
          'value',
        ),
      );
    }
    if (a && c.data.max_length > a.max_position_embeddings) {
      out.push(
        diag(
          'error',
          'max-length-over-positions',
          `\`data.max_length\` (${c.data.max_length}) is above \`max_position_embeddings\` (${a.max_position_embeddings}): the model has no position embedding for the extra tokens.`,
          ['data', 'max_length'],
          doc,
          [
            {
              title: `Set \`max_length\` to ${a.max_position_embeddings}`,
              edits: [{ range: doc.valueRange(['data', 'max_length']), newText: String(a.max_position_embeddings) }],
            },
          ],
          'value',
        ),
      );
    }
  }

  // Evaluation, best model, early stopping.
  const evaluates = t.eval_strategy !== 'no';
  if (t.load_best_model_at_end) {
    if (!evaluates) {
      out.push(
        diag(
          'error',
          'load-best-needs-eval',
          '`load_best_model_at_end` needs evaluation to know which checkpoint is best: set `eval_strategy` to `epoch` or `steps`.',
          ['training', 'load_best_model_at_end'],
          doc,
          [],
        ),
      );
    } else if (t.save_strategy !== t.eval_strategy) {
      const fixRange = has('training', 'save_strategy') ? doc.valueRange(['training', 'save_strategy']) : undefined;
      out.push(
        diag(
          'error',
          'load-best-needs-matching-strategies',
          `\`load_best_model_at_end\` needs \`save_strategy\` (${t.save_strategy}) to equal \`eval_strategy\` (${t.eval_strategy}), so that every evaluated model is saved.`,
          ['training', has('training', 'save_strategy') ? 'save_strategy' : 'load_best_model_at_end'],
          doc,
          [
            {
              title: `Set \`save_strategy\` to \`${t.eval_strategy}\``,
              edits: [
                fixRange
                  ? { range: fixRange, newText: t.eval_strategy }
                  : doc.insertKeyEdit(['training'], 'save_strategy', t.eval_strategy),
              ],
              preferred: true,
            },
          ],
          has('training', 'save_strategy') ? 'value' : 'key',
        ),
      );
    } else if (t.eval_strategy === 'steps' && t.save_steps % (t.eval_steps ?? t.logging_steps) !== 0) {
      out.push(
        diag(
          'error',
          'save-steps-multiple-of-eval-steps',
          `\`load_best_model_at_end\` needs \`save_steps\` (${t.save_steps}) to be a multiple of \`eval_steps\` (${t.eval_steps ?? t.logging_steps}).`,
          ['training', 'save_steps'],
          doc,
          [],
          'value',
        ),
      );
    }
  }
  for (const k of ['metric_for_best_model', 'early_stopping_patience'] as const) {
    if (t[k] !== undefined && !evaluates) {
      out.push(
        diag(
          'error',
          `${k.replace(/_/g, '-')}-needs-eval`,
          `\`${k}\` needs evaluation: set \`eval_strategy\` to \`epoch\` or \`steps\`.`,
          ['training', k],
          doc,
          [
            {
              title: 'Set `eval_strategy: epoch`',
              edits: [
                has('training', 'eval_strategy')
                  ? { range: doc.valueRange(['training', 'eval_strategy']), newText: 'epoch' }
                  : doc.insertKeyEdit(['training'], 'eval_strategy', 'epoch'),
              ],
            },
          ],
        ),
      );
    }
  }
  if (evaluates && !hasValidation(c) && has('training', 'eval_strategy')) {
    out.push(
      diag(
        'error',
        'eval-needs-validation-data',
        `\`eval_strategy: ${t.eval_strategy}\` needs validation data: set \`data.validation_file\` or \`data.validation_split\`.`,
        ['training', 'eval_strategy'],
        doc,
        [
          {
            title: 'Hold out 10% for validation',
            edits: [doc.insertKeyEdit(['data'], 'validation_split', '0.1')],
            preferred: true,
          },
        ],
        'value',
      ),
    );
  }
  if (c.data.validation_file && c.data.validation_split !== undefined) {
    out.push(
      diag(
        'warning',
        'validation-file-and-split',
        '`validation_split` is ignored because `validation_file` is given.',
        ['data', 'validation_split'],
        doc,
        [],
      ),
    );
  }
  if (t.metric_for_best_model !== undefined) {
    const known = metricsOfConfig(c.task, c.model.problem_type);
    if (!known.includes(normaliseMetricName(t.metric_for_best_model))) {
      const of = c.task === 'text-classification' && c.model.problem_type ? c.model.problem_type : c.task;
      out.push(
        diag(
          'error',
          'unknown-metric',
          `\`metric_for_best_model\`: \`${t.metric_for_best_model}\` is not a metric of ${of}; use one of ${known.map((m) => `\`${m}\``).join(', ')}.`,
          ['training', 'metric_for_best_model'],
          doc,
          [],
          'value',
        ),
      );
    }
  }

  if (c.task === 'masked-lm' && c.model.problem_type !== undefined) {
    const message = '`problem_type` is ignored by masked-lm: it is the kind of classification head a run trains.';
    out.push(diag('warning', 'problem-type-ignored', message, ['model', 'problem_type'], doc, []));
  }

  // Suspicious values.
  if (c.mode === 'fine-tune' && t.learning_rate > 1e-3) {
    out.push(
      diag(
        'warning',
        'high-learning-rate',
        `A learning rate of ${t.learning_rate} is very high for fine-tuning: pre-trained weights are usually destroyed above 1e-3. Try 2e-5 to 5e-5.`,
        ['training', 'learning_rate'],
        doc,
        [
          {
            title: 'Set `learning_rate` to 3e-5',
            edits: [{ range: doc.valueRange(['training', 'learning_rate']), newText: '3e-5' }],
          },
        ],
        'value',
      ),
    );
  }
  if (t.warmup_steps > 0 && has('training', 'warmup_ratio') && t.warmup_ratio > 0) {
    out.push(
      diag(
        'warning',
        'warmup-steps-and-ratio',
        '`warmup_ratio` is ignored because `warmup_steps` is set.',
        ['training', 'warmup_ratio'],
        doc,
        [],
      ),
    );
  }
  if (t.lr_scheduler_type === 'constant' && (t.warmup_steps > 0 || t.warmup_ratio > 0)) {
    out.push(
      diag(
        'warning',
        'constant-ignores-warmup',
        '`lr_scheduler_type: constant` has no warm-up; use `constant_with_warmup`.',
        ['training', 'lr_scheduler_type'],
        doc,
        [
          {
            title: 'Use `constant_with_warmup`',
            edits: [{ range: doc.valueRange(['training', 'lr_scheduler_type']), newText: 'constant_with_warmup' }],
            preferred: true,
          },
        ],
        'value',
      ),
    );
  }
  out.push(...columnRules(c, doc));
  if (c.task === 'masked-lm' && has('data', 'label_column')) {
    out.push(
      diag(
        'warning',
        'mlm-ignores-labels',
        '`masked-lm` learns from the text alone: `label_column` is ignored.',
        ['data', 'label_column'],
        doc,
        [],
      ),
    );
  }
  if (has('training', 'max_steps') && t.max_steps > 0 && has('training', 'num_train_epochs')) {
    out.push(
      diag(
        'info',
        'max-steps-overrides-epochs',
        '`max_steps` is set, so `num_train_epochs` is ignored.',
        ['training', 'num_train_epochs'],
        doc,
        [],
      ),
    );
  }
  if (t.eval_strategy !== 'steps' && has('training', 'eval_steps')) {
    out.push(
      diag(
        'warning',
        'eval-steps-unused',
        '`eval_steps` only applies with `eval_strategy: steps`.',
        ['training', 'eval_steps'],
        doc,
        [],
      ),
    );
  }
  if (c.freeze.length === 0 && c.unfreeze.length > 0) {
    out.push(
      diag(
        'warning',
        'unfreeze-without-freeze',
        '`unfreeze` only re-opens what `freeze` froze; nothing is frozen.',
        ['unfreeze'],
        doc,
        [],
      ),
    );
  }
  return out;
}
