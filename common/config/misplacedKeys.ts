/**
 * Hugging Face names that users bring from `transformers` scripts (`run_glue.py`'s arguments, `TrainingArguments`)
 * but that this schema spells differently or does not have. An unknown key in the config, or an unknown flag on
 * the command line, is looked up here before did-you-mean, so `model_name_or_path` points at `model.name_or_path`
 * instead of suggesting `mode`. A key that the schema gains later stops being looked up here by itself: the
 * validator asks the schema first.
 */
import type { ConfigFix } from './diagnostic';
import { isScalar } from './yamlDoc';
import type { ConfigDocument } from './yamlDoc';
import type { KeyPath } from './yamlDoc';

export type MisplacedKey =
  /** The key exists here under another path. */
  | { kind: 'renamed'; path: readonly string[] }
  /** There is no such setting here; `why` says what to do instead. */
  | { kind: 'unsupported'; why: string };

const renamed = (...path: string[]): MisplacedKey => ({ kind: 'renamed', path });
const unsupported = (why: string): MisplacedKey => ({ kind: 'unsupported', why });

const SINGLE_PROCESS =
  'the tfjs engine trains in one process; for several GPUs or machines use `engine: pytorch` with `distributed`.';
const PRECISION =
  'the tfjs engine computes in float32; `engine: pytorch` has `training.fp16` and `training.bf16` (autocast).';

/** One small table; keys the schema has (under any section) never reach it. */
const TABLE = new Map<string, MisplacedKey>([
  ['model_name_or_path', renamed('model', 'name_or_path')],
  ['tokenizer_name', renamed('model', 'tokenizer')],
  ['model_revision', renamed('model', 'revision')],
  ['max_seq_length', renamed('data', 'max_length')],
  ['text_column_name', renamed('data', 'text_column')],
  ['label_column_name', renamed('data', 'label_column')],
  ['evaluation_strategy', renamed('training', 'eval_strategy')],
  ['num_epochs', renamed('training', 'num_train_epochs')],
  ['batch_size', renamed('training', 'per_device_train_batch_size')],
  ['train_batch_size', renamed('training', 'per_device_train_batch_size')],
  ['eval_batch_size', renamed('training', 'per_device_eval_batch_size')],
  ['lr', renamed('training', 'learning_rate')],
  ['tf32', unsupported(PRECISION)],
  ['half_precision_backend', unsupported(PRECISION)],
  [
    'push_to_hub',
    unsupported('export a checkpoint from the Checkpoints panel, then upload that folder (`huggingface-cli upload`).'),
  ],
  [
    'hub_model_id',
    unsupported('nothing is uploaded: export a checkpoint and upload it with `huggingface-cli upload`.'),
  ],
  [
    'hub_token',
    unsupported('nothing is uploaded; a token for downloads is read from HF_TOKEN or `huggingface-cli login`.'),
  ],
  ['do_train', unsupported('`finetune-studio train` (or Start run) trains; there is nothing to switch on.')],
  ['do_eval', unsupported('evaluation runs when there is validation data; when, is `training.eval_strategy`.')],
  [
    'do_predict',
    unsupported('the test set (`data.test_file`) is evaluated at the end; `finetune-studio predict` predicts.'),
  ],
  ['overwrite_output_dir', unsupported('each run gets a new folder under `output_dir`, so nothing is overwritten.')],
  ['logging_dir', unsupported('logs go into the run folder under `output_dir`.')],
  ['optim', unsupported("the optimizer is AdamW (PyTorch's `adamw_torch` update); tune it with `training.adam_*`.")],
  ['num_labels', unsupported('the number of labels is read from the data (`data.label_column`).')],
  ['gradient_checkpointing', unsupported('not implemented; lower `per_device_train_batch_size` or `data.max_length`.')],
  ['torch_compile', unsupported('not used: the tfjs engine has no PyTorch, and the PyTorch engine runs eagerly.')],
  ['use_cpu', unsupported('pick the backend with `backend: cpu` (or `wasm`, `node`, `webgpu`).')],
  ['no_cuda', unsupported('pick the backend with `backend` (`wasm`, `node` or `cpu` keep off the GPU).')],
  ['dataloader_num_workers', unsupported('the data is read in the trainer; FINETUNE_THREADS sets its worker threads.')],
  ['deepspeed', unsupported(SINGLE_PROCESS)],
  ['fsdp', unsupported(SINGLE_PROCESS)],
  ['local_rank', unsupported(SINGLE_PROCESS)],
  ['ddp_backend', unsupported(SINGLE_PROCESS)],
]);

/** What a Hugging Face name is here, if the table knows it. */
export function misplacedKey(key: string): MisplacedKey | undefined {
  return TABLE.get(key);
}

/** The sentence for a config key or a flag: where it lives here, or why there is no such setting. */
export function describeMisplaced(key: string, m: MisplacedKey, as: 'key' | 'flag'): string {
  const name = as === 'flag' ? `--${key}` : `\`${key}\``;
  if (m.kind === 'renamed') {
    const here = as === 'flag' ? `--${m.path.join('.')}` : `\`${m.path.join('.')}\``;
    return `${name} is Hugging Face's name; here it is ${here}.`;
  }
  return `${name} is not supported: ${m.why}`;
}

/**
 * "Move to `model.name_or_path`": the pair's line removed, the key inserted into its section with the same value.
 * Offered for a one-line scalar when the target is free and the two edits do not touch (else no fix: the message
 * says where the key goes).
 */
export function moveKeyFix(document: ConfigDocument, from: KeyPath, to: readonly string[]): ConfigFix | undefined {
  const pair = document.pair(from);
  const value = pair?.value;
  if (!pair || !isScalar(value) || !value.range || !isScalar(pair.key) || !pair.key.range) return undefined;
  if (document.pair(to) !== undefined) return undefined;
  const text = document.text;
  const start = text.lastIndexOf('\n', pair.key.range[0] - 1) + 1;
  const newline = text.indexOf('\n', value.range[1]);
  if (text.slice(start, pair.key.range[0]).trim() !== '') return undefined; // a flow mapping: not a line of its own
  if (text.slice(pair.key.range[0], newline < 0 ? text.length : newline).includes('\n')) return undefined;
  const end = newline < 0 ? text.length : newline + 1;
  const insert = document.insertKeyEdit(to.slice(0, -1), to.at(-1)!, text.slice(value.range[0], value.range[1]));
  if (insert.range.start >= start && insert.range.start <= end) return undefined;
  return {
    title: `Move to \`${to.join('.')}\``,
    edits: [{ range: { start, end }, newText: '' }, insert],
    preferred: true,
  };
}
