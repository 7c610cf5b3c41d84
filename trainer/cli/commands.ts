/**
 * The commands of `finetune-studio` and the trainer subprocess, their flags and their help: one table that the
 * parser (args.ts), the help text and the README describe. The CLI and the trainer parse the same way, so a flag
 * the CLI accepts is never one the trainer ignores.
 */

export const COMMANDS = ['train', 'evaluate', 'predict'] as const;
export type CommandName = (typeof COMMANDS)[number];

export interface FlagSpec {
  name: string;
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** The value's placeholder in the help: `DIR`, `FILE`. */
  value?: string;
  help: string;
}

export interface CommandSpec {
  name: CommandName;
  summary: string;
  usage: string;
  /** The positional arguments it takes: names in the help, and how many at most. */
  positionals: { name: string; help: string }[];
  flags: FlagSpec[];
  /** Whether `--<config key> VALUE` overrides are accepted (train). */
  overrides: boolean;
  examples: string[];
}

/** Process exit statuses, the same for the CLI and the trainer. */
export const EXIT = { done: 0, failed: 1, badInput: 2, interrupted: 130 } as const;

const BACKEND: FlagSpec = {
  name: 'backend',
  type: 'string',
  value: 'auto|webgpu|gpu|node|wasm|cpu',
  help: "the TensorFlow.js backend (default: the config's `backend`, else auto)",
};
const JSON_FLAG: FlagSpec = { name: 'json', type: 'boolean', help: 'print the protocol messages as JSON lines' };
const HELP_FLAG: FlagSpec = { name: 'help', short: 'h', type: 'boolean', help: 'show this help' };
/** The run's data.max_length for evaluate and predict, so that texts are cut where training cut them. */
const MAX_LENGTH: FlagSpec = {
  name: 'max-length',
  type: 'string',
  value: 'N',
  help: "cut texts (pairs: the longest first) to N tokens, as the run's data.max_length did",
};

export const COMMAND_SPECS: Record<CommandName, CommandSpec> = {
  train: {
    name: 'train',
    summary: 'train or fine-tune the model a *.finetune.yaml describes',
    usage: 'finetune-studio train <config.finetune.yaml> [--<key> VALUE …] [options]',
    positionals: [{ name: 'config', help: 'the *.finetune.yaml to run' }],
    flags: [
      {
        name: 'resume-from-checkpoint',
        type: 'string',
        value: 'DIR',
        help: 'continue from a checkpoint-<step> folder (relative to the working directory)',
      },
      BACKEND,
      JSON_FLAG,
      HELP_FLAG,
    ],
    overrides: true,
    examples: [
      'finetune-studio train sst2.finetune.yaml',
      'finetune-studio train sst2.finetune.yaml --learning_rate 3e-5 --max_steps 200',
      'finetune-studio train sst2.finetune.yaml --model.name_or_path ./models/bert-mini --per_device_train_batch_size 8',
      'finetune-studio train sst2.finetune.yaml --resume-from-checkpoint .finetune/runs/sst2-20250101-120000/checkpoint-200',
    ],
  },
  evaluate: {
    name: 'evaluate',
    summary: 'evaluate a checkpoint (or any BERT model folder) on a data file',
    usage: 'finetune-studio evaluate --model DIR --data FILE [options]',
    positionals: [],
    flags: [
      { name: 'model', type: 'string', value: 'DIR', help: 'a checkpoint-<step> folder or Hugging Face model folder' },
      { name: 'data', type: 'string', value: 'FILE', help: 'a .csv, .tsv, .jsonl or .json file with labels' },
      { name: 'text-column', type: 'string', value: 'C', help: 'the text column (default: text)' },
      {
        name: 'label-separator',
        type: 'string',
        value: 'S',
        help: "what joins a multi-label model's labels in one CSV/TSV cell (default: ,)",
      },
      { name: 'text-pair-column', type: 'string', value: 'C', help: 'the second text of a sentence pair' },
      { name: 'label-column', type: 'string', value: 'C', help: 'the label column (default: label)' },
      MAX_LENGTH,
      BACKEND,
      JSON_FLAG,
      HELP_FLAG,
    ],
    overrides: false,
    examples: ['finetune-studio evaluate --model RUN/checkpoint-200 --data test.csv'],
  },
  predict: {
    name: 'predict',
    summary: 'classify texts with a checkpoint: a table, or JSON lines with --json',
    usage: 'finetune-studio predict --model DIR (--text T … | --file FILE) [options]',
    positionals: [],
    flags: [
      { name: 'model', type: 'string', value: 'DIR', help: 'a text-classification checkpoint or model folder' },
      { name: 'text', type: 'string', multiple: true, value: 'T', help: 'a text to classify (repeat for more)' },
      {
        name: 'text-pair',
        type: 'string',
        multiple: true,
        value: 'P',
        help: 'the second text of a pair, for each --text in order',
      },
      { name: 'file', type: 'string', value: 'FILE', help: 'classify each non-empty line of a UTF-8 text file' },
      MAX_LENGTH,
      BACKEND,
      JSON_FLAG,
      HELP_FLAG,
    ],
    overrides: false,
    examples: [
      'finetune-studio predict --model RUN/checkpoint-200 --text "great lamp" --text "broke in a day"',
      'finetune-studio predict --model RUN/checkpoint-200 --file reviews.txt --json',
    ],
  },
};

export function isCommand(s: string | undefined): s is CommandName {
  return (COMMANDS as readonly (string | undefined)[]).includes(s);
}
