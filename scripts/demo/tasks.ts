/**
 * The demo's tasks (`--task`): where the data comes from, its columns, and the metrics the report shows, with
 * the one that heads the table and the sample-efficiency curve. A task is data, not code: adding one is a row.
 */

export interface MetricSpec {
  /** The names the engine's eval messages may carry it under, first found wins (see `sentiment`'s macro-F1). */
  keys: readonly string[];
  /** Column heading and prose name. */
  label: string;
}

export type TaskData =
  /** Three CSV files `train.csv`, `validation.csv`, `test.csv` in a folder of the repository. */
  | { kind: 'files'; folder: string }
  /** A Hub data set by name, as HF `datasets` names it (`data.dataset_name` / `data.dataset_config_name`). */
  | {
      kind: 'hub';
      dataset_name: string;
      dataset_config_name: string;
      train_split_name: string;
      validation_split_name: string;
      test_split_name: string;
    };

export interface DemoTask {
  name: string;
  /** One sentence for the report: what is classified, and from where. */
  description: string;
  data: TaskData;
  columns: { text_column: string; text_pair_column?: string; label_column: string };
  metrics: readonly MetricSpec[];
  /** Index into `metrics` of the headline metric: the curve's y axis and the gains in the text. */
  headline: number;
  /** Tokens per example (text + pair). */
  max_length: number;
  /**
   * Training settings that differ from the shipped configs' (examples/*.finetune.yaml: 200 steps of 16, an
   * evaluation every 25 steps, the best checkpoint on validation accuracy). Keys are TrainingArguments names;
   * `null` removes the shipped value.
   */
  training: Readonly<Record<string, string | number | boolean | null>>;
}

const ACCURACY: MetricSpec = { keys: ['accuracy'], label: 'accuracy' };

export const TASKS: readonly DemoTask[] = [
  {
    name: 'sentiment',
    description:
      'Sentiment of review sentences (UCI Sentiment Labelled Sentences, examples/sentiment; the shipped data, no download).',
    data: { kind: 'files', folder: 'examples/sentiment' },
    columns: { text_column: 'text', label_column: 'label' },
    // Issue 17's metrics name macro-F1 `f1_macro` (and `f1` the positive class's); engines before them wrote
    // macro-F1 as `f1`.
    metrics: [ACCURACY, { keys: ['f1_macro', 'f1'], label: 'macro-F1' }],
    headline: 0,
    max_length: 64,
    training: {},
  },
  {
    name: 'mrpc',
    description:
      "Paraphrase detection on sentence pairs (GLUE MRPC: nyu-mll/glue, config mrpc, from the Hugging Face Hub). GLUE's " +
      'test labels are hidden, so test scores are on its validation split, as BERT and HF run_glue report them.',
    data: {
      kind: 'hub',
      dataset_name: 'nyu-mll/glue',
      dataset_config_name: 'mrpc',
      train_split_name: 'train',
      validation_split_name: 'validation',
      test_split_name: 'validation',
    },
    columns: { text_column: 'sentence1', text_pair_column: 'sentence2', label_column: 'label' },
    metrics: [ACCURACY, { keys: ['f1'], label: 'F1 (paraphrase class)' }],
    headline: 1,
    max_length: 128,
    // HF run_glue's MRPC recipe: 3 epochs of 32, sequences of 128. Validation doubles as the test split, so no
    // checkpoint is chosen on it: the last model is the one scored, as in run_glue.
    training: {
      max_steps: null,
      num_train_epochs: 3,
      per_device_train_batch_size: 32,
      eval_strategy: 'epoch',
      save_strategy: 'epoch',
      eval_steps: null,
      save_steps: null,
      load_best_model_at_end: false,
      metric_for_best_model: 'f1',
    },
  },
];

export function findTask(name: string): DemoTask {
  const task = TASKS.find((t) => t.name === name);
  if (!task) throw new Error(`unknown --task '${name}'; known: ${TASKS.map((t) => t.name).join(', ')}`);
  return task;
}

/** The value of a metric in an eval message's metrics, under the first of its names that is there. */
export function metricValue(metrics: ReadonlyMap<string, number>, spec: MetricSpec): number | null {
  for (const key of spec.keys) {
    const v = metrics.get(key);
    if (v !== undefined) return v;
  }
  return null;
}
