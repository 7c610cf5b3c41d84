/**
 * The workspace of one training-loop case (loop.ts): a generated data file and a `*.finetune.yaml` that the
 * trainer reads as a user's, so that both engines run the product's whole path (config checks, tokenizer, data
 * plan, run folder) on the same config, differing only in `engine` (and `backend` for tfjs).
 *
 * The model is bench/models.ts's shape with BERT's 30,522-token vocabulary (so the embeddings and the
 * optimiser's work match the model-step cases); the tokenizer is examples/tokenizer's word pieces. Each row
 * holds more words than `max_length`, all whole-word tokens, so every example is cut to exactly `seq` tokens
 * and a step does the same work as the synthetic batch of case.ts.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import type { EngineName } from '../common/config/engineSchema';
import { mulberry32 } from '../common/random';
import { BENCH_MODELS } from './models';
import type { BenchBackend, ModelName } from './models';

const ROOT = path.resolve(__dirname, '..');
const TOKENIZER = path.join(ROOT, 'examples', 'tokenizer');

export interface LoopShape {
  model: ModelName;
  batch: number;
  seq: number;
  warmup: number;
  steps: number;
  seed: number;
}

export interface LoopWorkspace {
  configFile: string;
  trainRows: number;
}

/** Words of the tokenizer's vocabulary that are one token each (no `##` pieces, no special or short tokens). */
function wholeWords(): string[] {
  const vocab = readFileSync(path.join(TOKENIZER, 'vocab.txt'), 'utf8').split('\n');
  return vocab.map((w) => w.trim()).filter((w) => /^[a-z]{3,}$/.test(w));
}

/** `rows` lines of `words` random words each and a balanced random label, as CSV; the same for a seed. */
export function generateRows(rows: number, words: number, seed: number): string {
  const vocab = wholeWords();
  const rng = mulberry32(seed);
  const lines = ['text,label'];
  for (let r = 0; r < rows; r++) {
    const text = Array.from({ length: words }, () => vocab[Math.floor(rng() * vocab.length)]!).join(' ');
    lines.push(`${text},${rng() < 0.5 ? 'negative' : 'positive'}`);
  }
  return lines.join('\n') + '\n';
}

/** The run's config: AdamW with HF's defaults, a fixed seed, no evaluation and no checkpoints while timing. */
export function loopConfig(
  shape: LoopShape,
  engine: EngineName,
  backend: BenchBackend | undefined,
  dir: string,
): Record<string, unknown> {
  const a = BENCH_MODELS[shape.model];
  return {
    mode: 'from-scratch',
    task: 'text-classification',
    engine,
    ...(backend ? { backend } : {}),
    run_name: `bench-${shape.model}-${engine}${backend ? `-${backend}` : ''}`,
    output_dir: path.join(dir, 'runs'),
    model: {
      tokenizer: TOKENIZER,
      architecture: {
        vocab_size: a.vocab_size,
        hidden_size: a.hidden_size,
        num_hidden_layers: a.num_hidden_layers,
        num_attention_heads: a.num_attention_heads,
        intermediate_size: a.intermediate_size,
        max_position_embeddings: a.max_position_embeddings,
      },
    },
    data: {
      train_file: path.join(dir, 'train.csv'),
      text_column: 'text',
      label_column: 'label',
      max_length: shape.seq,
    },
    training: {
      max_steps: shape.warmup + shape.steps,
      per_device_train_batch_size: shape.batch,
      learning_rate: 5e-5,
      weight_decay: 0.01,
      eval_strategy: 'no',
      save_strategy: 'no',
      // One `step` message per step: the numbers of the timed steps come from them.
      logging_steps: 1,
      seed: shape.seed,
    },
  };
}

/** Writes the data (one batch per step, no partial batch) and the config under `dir`. */
export function writeLoopWorkspace(
  dir: string,
  shape: LoopShape,
  engine: EngineName,
  backend: BenchBackend | undefined,
): LoopWorkspace {
  mkdirSync(dir, { recursive: true });
  const trainRows = (shape.warmup + shape.steps) * shape.batch;
  writeFileSync(path.join(dir, 'train.csv'), generateRows(trainRows, shape.seq + 8, shape.seed));
  const configFile = path.join(dir, 'bench.finetune.yaml');
  writeFileSync(configFile, stringify(loopConfig(shape, engine, backend, dir)));
  return { configFile, trainRows };
}
