/**
 * The `*.finetune.yaml` schema: the one source of truth for the trainer's validation, the language server's
 * completion, hover and diagnostics, and the JSON Schema contributed in package.json.
 * Key names follow Hugging Face `TrainingArguments` and `BertConfig`, so what users know carries over.
 */
import { distributedSection, engineField, precisionFields } from './engineSchema';
import type { DistributedConfig, EngineName } from './engineSchema';
import type { FieldsOf, SectionSpec } from './spec';
import { ACTIVATIONS, MODEL_TYPES } from '../modelFamilies';
import type { Activation, ModelType } from '../modelFamilies';
import { PROBLEM_TYPES } from '../problemType';
import type { ProblemType } from '../problemType';

/**
 * Upper bounds on sizes and counts. Each is far above any BERT that trains in this tool (bert-large has 1024
 * hidden units and 24 layers; the largest multilingual vocabularies have 250,000 tokens), and low enough that a
 * typo such as `hidden_size: 1e9` is an error on its line instead of a failed allocation deep in the trainer.
 * files/hf/bertConfig.ts applies the same bounds to a model's config.json.
 */
export const LIMITS = {
  vocabSize: 1_000_000,
  hiddenSize: 8192,
  intermediateSize: 65_536,
  layers: 48,
  attentionHeads: 128,
  positions: 16_384,
  typeVocabSize: 1024,
  /** Step counters stay far from 2^53, where counting would stop being exact. */
  steps: 1_000_000_000,
  epochs: 100_000,
  /** Seeds are 32-bit, as common/random.ts uses them. */
  seed: 2 ** 32 - 1,
} as const;

export const MODES = ['fine-tune', 'from-scratch'] as const;
export type Mode = (typeof MODES)[number];
export const TASKS = ['text-classification', 'masked-lm'] as const;
export type Task = (typeof TASKS)[number];
export const BACKEND_PREFERENCES = ['auto', 'webgpu', 'gpu', 'node', 'wasm', 'cpu'] as const;
export type BackendPreference = (typeof BACKEND_PREFERENCES)[number];
export const SCHEDULERS = ['linear', 'cosine', 'constant', 'constant_with_warmup'] as const;
export type Scheduler = (typeof SCHEDULERS)[number];
export const STRATEGIES = ['no', 'steps', 'epoch'] as const;
export type Strategy = (typeof STRATEGIES)[number];
/** Where metrics go besides metrics.jsonl, in HF's `report_to` vocabulary (`all` is every integration there is). */
export const REPORT_TO = ['none', 'all', 'tensorboard'] as const;
export type ReportTo = (typeof REPORT_TO)[number];

export interface ArchitectureConfig {
  /** Filled by the schema's default (bert) when validated; absent in architectures built in code. */
  model_type?: ModelType;
  /** Filled by the schema's default (gelu) when validated. */
  hidden_act?: Activation;
  /** ELECTRA only; defaults to hidden_size. */
  embedding_size?: number;
  vocab_size?: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  layer_norm_eps: number;
  initializer_range: number;
}

export interface ModelConfig {
  name_or_path?: string;
  /** The Hub revision of `name_or_path` (and of a Hub `tokenizer`). */
  revision?: string;
  tokenizer?: string;
  architecture?: ArchitectureConfig;
  problem_type?: ProblemType;
  /** Defaulted by the validator; optional so that code building a model section need not name it. */
  threshold?: number;
}

export interface DataConfig {
  train_file?: string;
  validation_file?: string;
  test_file?: string;
  dataset_name?: string;
  dataset_config_name?: string;
  revision?: string;
  train_split_name: string;
  validation_split_name: string;
  test_split_name: string;
  validation_split?: number;
  split_seed: number;
  text_column: string;
  text_pair_column?: string;
  label_column: string;
  label_separator: string;
  max_labels: number;
  max_length: number;
  group_by_length: boolean;
  mlm_probability: number;
}

export interface TrainingConfig {
  num_train_epochs: number;
  max_steps: number;
  per_device_train_batch_size: number;
  per_device_eval_batch_size: number;
  learning_rate: number;
  weight_decay: number;
  adam_beta1: number;
  adam_beta2: number;
  adam_epsilon: number;
  max_grad_norm: number;
  lr_scheduler_type: Scheduler;
  warmup_ratio: number;
  warmup_steps: number;
  gradient_accumulation_steps: number;
  seed: number;
  eval_strategy: Strategy;
  eval_steps?: number;
  save_strategy: Strategy;
  save_steps: number;
  save_total_limit?: number;
  load_best_model_at_end: boolean;
  metric_for_best_model?: string;
  greater_is_better?: boolean;
  early_stopping_patience?: number;
  early_stopping_threshold: number;
  logging_steps: number;
  report_to: ReportTo[];
  resume_from_checkpoint?: string;
  no_decay: string[];
  layerwise_lr_decay: number;
  learning_rates?: Record<string, number>;
  fp16: boolean;
  bf16: boolean;
}

export interface FineTuneConfig {
  mode: Mode;
  task: Task;
  run_name?: string;
  output_dir: string;
  backend: BackendPreference;
  engine: EngineName;
  distributed: DistributedConfig;
  model: ModelConfig;
  data: DataConfig;
  training: TrainingConfig;
  freeze: string[];
  unfreeze: string[];
}

const architecture: SectionSpec<ArchitectureConfig> = {
  type: 'section',
  description:
    'The architecture of a model trained from scratch, named as in Hugging Face `BertConfig` for every family (a DistilBERT checkpoint still saves `dim`, `n_layers`, ...). Only with `mode: from-scratch`; a pre-trained model brings its own `config.json`.',
  fields: {
    model_type: {
      type: 'enum',
      values: MODEL_TYPES,
      default: 'bert',
      description:
        'The model family, as `model_type` in config.json. Each saves the parameter names and config.json that its transformers class loads.',
      hf: 'PretrainedConfig.model_type',
      valueDocs: {
        bert: 'BERT: token-type embeddings, a tanh pooler under the classifier, `cls.predictions` for masked LM.',
        roberta:
          'RoBERTa: positions counted from pad_token_id + 1, classifier.dense + out_proj on `<s>`, `lm_head` for masked LM. Use a byte-level BPE tokenizer.',
        'xlm-roberta': 'XLM-RoBERTa: RoBERTa with a SentencePiece (Unigram) tokenizer.',
        distilbert:
          'DistilBERT: no token types, pre_classifier + ReLU + classifier, vocab_transform/vocab_projector for masked LM. Saved with `dim`, `n_layers`, `n_heads`, `hidden_dim`.',
        electra:
          'ELECTRA (discriminator for classification): embeddings of `embedding_size` projected to hidden_size. Masked LM trains ElectraForMaskedLM (the generator-style head), not replaced-token detection.',
      },
    },
    hidden_act: {
      type: 'enum',
      values: ACTIVATIONS,
      default: 'gelu',
      description: 'Activation of the feed-forward layers (DistilBERT saves it as `activation`).',
      hf: 'BertConfig.hidden_act',
      valueDocs: {
        gelu: 'Exact GELU, 0.5·x·(1 + erf(x/√2)).',
        gelu_new: 'GELU with the tanh approximation (GPT-2, some ELECTRA and RoBERTa variants).',
        relu: 'ReLU.',
      },
    },
    embedding_size: {
      type: 'integer',
      minimum: 1,
      maximum: LIMITS.hiddenSize,
      description:
        'ELECTRA only: the width of the embeddings; when it differs from hidden_size a linear `embeddings_project` maps them. Defaults to hidden_size.',
      hf: 'ElectraConfig.embedding_size',
      examples: [128],
    },
    vocab_size: {
      type: 'integer',
      minimum: 1,
      maximum: LIMITS.vocabSize,
      description: "Size of the token vocabulary. Defaults to the tokenizer's vocabulary size; must be at least that.",
      hf: 'BertConfig.vocab_size',
    },
    hidden_size: {
      type: 'integer',
      minimum: 1,
      maximum: LIMITS.hiddenSize,
      default: 256,
      description: 'Dimension of the hidden states.',
      hf: 'BertConfig.hidden_size',
      examples: [128, 256, 512, 768],
    },
    num_hidden_layers: {
      type: 'integer',
      minimum: 1,
      maximum: LIMITS.layers,
      default: 4,
      description: 'Number of Transformer encoder layers.',
      hf: 'BertConfig.num_hidden_layers',
      examples: [2, 4, 6, 12],
    },
    num_attention_heads: {
      type: 'integer',
      minimum: 1,
      maximum: LIMITS.attentionHeads,
      default: 4,
      description: 'Attention heads per layer. `hidden_size` must be divisible by it.',
      hf: 'BertConfig.num_attention_heads',
      examples: [2, 4, 8, 12],
    },
    intermediate_size: {
      type: 'integer',
      minimum: 1,
      maximum: LIMITS.intermediateSize,
      default: 1024,
      description: 'Dimension of the feed-forward layer, usually 4 × hidden_size.',
      hf: 'BertConfig.intermediate_size',
    },
    max_position_embeddings: {
      type: 'integer',
      minimum: 1,
      maximum: LIMITS.positions,
      default: 512,
      description: 'Longest sequence the model can take.',
      hf: 'BertConfig.max_position_embeddings',
    },
    type_vocab_size: {
      type: 'integer',
      minimum: 1,
      maximum: LIMITS.typeVocabSize,
      default: 2,
      description: 'Number of segment types (2 for sentence pairs).',
      hf: 'BertConfig.type_vocab_size',
    },
    hidden_dropout_prob: {
      type: 'number',
      minimum: 0,
      exclusiveMaximum: 1,
      default: 0.1,
      description: 'Dropout probability on embeddings, attention output and feed-forward output.',
      hf: 'BertConfig.hidden_dropout_prob',
    },
    attention_probs_dropout_prob: {
      type: 'number',
      minimum: 0,
      exclusiveMaximum: 1,
      default: 0.1,
      description: 'Dropout probability on attention weights.',
      hf: 'BertConfig.attention_probs_dropout_prob',
    },
    layer_norm_eps: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 0.1,
      default: 1e-12,
      description: 'Epsilon of the LayerNorm layers.',
      hf: 'BertConfig.layer_norm_eps',
    },
    initializer_range: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 1,
      default: 0.02,
      description: 'Standard deviation of the normal initialiser of all weight matrices.',
      hf: 'BertConfig.initializer_range',
    },
  },
};

export const configSchema: SectionSpec<FineTuneConfig> = {
  type: 'section',
  description: 'A Fine-Tune Studio training configuration.',
  fields: {
    mode: {
      type: 'enum',
      values: MODES,
      required: true,
      description:
        'Fine-tune a pre-trained model (`model.name_or_path`), or train a new one from scratch (`model.architecture`).',
      valueDocs: {
        'fine-tune': 'Start from pre-trained weights: a local Hugging Face model folder or a Hub id.',
        'from-scratch': 'Start from random weights, with the architecture given under `model.architecture`.',
      },
    },
    task: {
      type: 'enum',
      values: TASKS,
      default: 'text-classification',
      description: 'What the model learns.',
      valueDocs: {
        'text-classification': 'One label per text or text pair (BertForSequenceClassification).',
        'masked-lm': 'Predict masked tokens of unlabelled text (BertForMaskedLM): pre-training.',
      },
    },
    run_name: {
      type: 'string',
      description: 'A name for the run, shown in the run explorer. Defaults to the config file name.',
    },
    output_dir: {
      type: 'string',
      kind: 'folder',
      default: '.finetune/runs',
      description: 'Folder (relative to the config file) where run folders are written.',
      hf: 'TrainingArguments.output_dir',
    },
    backend: {
      type: 'enum',
      values: BACKEND_PREFERENCES,
      default: 'auto',
      description: 'TensorFlow.js backend. `auto` picks the fastest available and says why.',
      valueDocs: {
        auto:
          'A hardware GPU through WebGPU, else tfjs-node-gpu (CUDA) if installed and working, else tfjs-node, ' +
          'else WebAssembly, else pure JavaScript.',
        webgpu: 'WebGPU (Dawn: Vulkan, Metal or Direct3D 12) on any GPU; forced, a software adapter included.',
        gpu: '@tensorflow/tfjs-node-gpu: needs CUDA and cuDNN.',
        node: '@tensorflow/tfjs-node: native TensorFlow on the CPU.',
        wasm: 'WebAssembly (SIMD, XNNPACK): the default when native TensorFlow is not installed.',
        cpu: 'Pure JavaScript: slow, always available.',
      },
    },
    engine: engineField,
    distributed: distributedSection,
    model: {
      type: 'section',
      description: 'The model to train.',
      fields: {
        name_or_path: {
          type: 'string',
          kind: 'model',
          description:
            'Pre-trained model: a local folder with `config.json` and `model.safetensors`, a checkpoint of an earlier run, or a Hugging Face Hub id such as `bert-base-uncased`.',
          hf: 'from_pretrained(pretrained_model_name_or_path)',
          examples: ['prajjwal1/bert-tiny', 'google/bert_uncased_L-4_H-256_A-4', 'bert-base-uncased'],
        },
        revision: {
          type: 'string',
          kind: 'model-revision',
          description:
            'For a Hub id: the branch, tag, commit sha or `refs/pr/N` of `name_or_path` (and of its own ' +
            'tokenizer) to download; default `main`. A commit pins the exact weights; many older models have ' +
            "safetensors only on a `refs/pr/N` branch. The commit used is recorded in each checkpoint's config.json.",
          hf: 'from_pretrained(revision=...)',
          examples: ['main', 'refs/pr/1'],
        },
        tokenizer: {
          type: 'string',
          kind: 'tokenizer',
          description:
            'Tokenizer: a folder with `tokenizer.json` or `vocab.txt`, or a Hub id. Defaults to the tokenizer of `name_or_path`; required with `mode: from-scratch`.',
        },
        architecture,
        problem_type: {
          type: 'enum',
          values: PROBLEM_TYPES,
          description:
            "What the head predicts, as Hugging Face `config.problem_type` (saved in every checkpoint's config.json). " +
            "Unset, it is inferred as HF does: labels written as lists mean multi-label; a pre-trained model's own " +
            '`problem_type` (or `num_labels: 1`, regression) comes next; otherwise single-label. Text-classification only.',
          hf: 'PretrainedConfig.problem_type',
          valueDocs: {
            single_label_classification: 'One class per text; cross-entropy loss; accuracy, F1, Matthews correlation.',
            multi_label_classification:
              'A set of labels per text (a JSON list, or `label_separator`-joined text); BCE-with-logits loss; ' +
              'a label is predicted when its sigmoid exceeds `threshold`.',
            regression: 'A number per text (`num_labels: 1`); mean squared error; Pearson and Spearman correlation.',
          },
        },
        threshold: {
          type: 'number',
          exclusiveMinimum: 0,
          exclusiveMaximum: 1,
          default: 0.5,
          description:
            'Multi-label only: a label is predicted when the sigmoid of its logit is above this (evaluation and predict).',
          examples: [0.5, 0.3],
        },
      },
    },
    data: {
      type: 'section',
      description: 'The data set.',
      fields: {
        train_file: {
          type: 'string',
          kind: 'data-file',
          required: true,
          requiredUnless: 'dataset_name',
          description:
            'Training data: a CSV, TSV, JSONL or JSON file, relative to the config file. Or name a Hub data set with `dataset_name` instead.',
        },
        validation_file: {
          type: 'string',
          kind: 'data-file',
          description: 'Validation data, same columns as the training data.',
        },
        test_file: {
          type: 'string',
          kind: 'data-file',
          description: 'Test data, evaluated once at the end of training.',
        },
        dataset_name: {
          type: 'string',
          kind: 'dataset',
          description:
            "A data set on the Hugging Face Hub (`nyu-mll/glue`), read from the Hub's Parquet files and cached like models; instead of `train_file`.",
          hf: 'datasets.load_dataset(path)',
          examples: ['nyu-mll/glue', 'stanfordnlp/imdb'],
        },
        dataset_config_name: {
          type: 'string',
          kind: 'dataset-config',
          description:
            'The configuration (subset) of `dataset_name`, e.g. `mrpc` of `nyu-mll/glue`. Default `default`.',
          hf: 'datasets.load_dataset(name)',
          examples: ['mrpc', 'sst2', 'cola', 'default'],
        },
        revision: {
          type: 'string',
          description:
            "The revision of `dataset_name` to read: a branch, tag or commit whose files are Parquet. Default `refs/convert/parquet`, the Hub's own Parquet conversion; a commit of it pins the data.",
          hf: 'datasets.load_dataset(revision)',
          examples: ['refs/convert/parquet', 'main'],
        },
        train_split_name: {
          type: 'string',
          default: 'train',
          description: 'The split of `dataset_name` to train on.',
          hf: 'run_classification.py train_split_name',
        },
        validation_split_name: {
          type: 'string',
          default: 'validation',
          description:
            'The split of `dataset_name` to evaluate on. When the data set has no such split, `validation_split` (if set) holds out part of the training split.',
          hf: 'run_classification.py validation_split_name',
        },
        test_split_name: {
          type: 'string',
          default: 'test',
          description:
            'The split of `dataset_name` evaluated at the end, if the data set has it and it is labelled (GLUE hides its test labels: -1).',
          hf: 'run_classification.py test_split_name',
        },
        validation_split: {
          type: 'number',
          exclusiveMinimum: 0,
          exclusiveMaximum: 1,
          description:
            'Without `validation_file`: the fraction of the training data held out for validation (stratified by label).',
          examples: [0.1, 0.2],
        },
        split_seed: {
          type: 'integer',
          minimum: 0,
          maximum: LIMITS.seed,
          default: 42,
          description: 'Seed of the validation split, so the split is the same on every run.',
        },
        text_column: { type: 'string', kind: 'column', default: 'text', description: 'Column holding the text.' },
        text_pair_column: {
          type: 'string',
          kind: 'column',
          description: 'Column holding the second text of a sentence pair (e.g. NLI, paraphrase).',
        },
        label_column: {
          type: 'string',
          kind: 'column',
          default: 'label',
          description:
            'Column holding the label (strings or integers; a number for regression; a list for multi-label). ' +
            'Ignored by masked-lm.',
        },
        label_separator: {
          type: 'string',
          default: ',',
          description:
            'Multi-label only: the separator of the labels in a text cell (CSV, TSV, or a JSONL string), e.g. `sports,politics`. ' +
            'A JSON list needs none.',
          examples: [',', '|', ';'],
        },
        max_labels: {
          type: 'integer',
          minimum: 2,
          default: 1000,
          description: 'Most classes a run may have; more usually means `label_column` is free text.',
          examples: [1000, 5000],
        },
        max_length: {
          type: 'integer',
          minimum: 8,
          maximum: 8192,
          default: 128,
          description:
            'Texts are truncated to this many tokens, [CLS] and [SEP] included. Batches are padded only to their longest text.',
          examples: [64, 128, 256, 512],
        },
        group_by_length: {
          type: 'boolean',
          default: false,
          description:
            'Batch texts of similar length together, which wastes less on padding. Faster; slightly less random.',
          hf: 'TrainingArguments.group_by_length',
        },
        mlm_probability: {
          type: 'number',
          exclusiveMinimum: 0,
          exclusiveMaximum: 1,
          default: 0.15,
          description: 'masked-lm: fraction of tokens selected for prediction (80% masked, 10% random, 10% kept).',
          hf: 'DataCollatorForLanguageModeling.mlm_probability',
        },
      },
    },
    training: {
      type: 'section',
      description: 'Optimisation and evaluation, named as in Hugging Face `TrainingArguments`.',
      fields: {
        num_train_epochs: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: LIMITS.epochs,
          default: 3,
          description: 'Number of passes over the training data.',
          hf: 'TrainingArguments.num_train_epochs',
        },
        max_steps: {
          type: 'integer',
          minimum: -1,
          maximum: LIMITS.steps,
          default: -1,
          description: 'If > 0: total number of optimiser steps, overriding `num_train_epochs`.',
          hf: 'TrainingArguments.max_steps',
        },
        per_device_train_batch_size: {
          type: 'integer',
          minimum: 1,
          maximum: 4096,
          default: 16,
          description: 'Examples per training batch.',
          hf: 'TrainingArguments.per_device_train_batch_size',
          examples: [8, 16, 32],
        },
        per_device_eval_batch_size: {
          type: 'integer',
          minimum: 1,
          maximum: 4096,
          default: 32,
          description: 'Examples per evaluation batch.',
          hf: 'TrainingArguments.per_device_eval_batch_size',
        },
        learning_rate: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 10,
          default: 5e-5,
          description:
            'Peak learning rate of AdamW. Fine-tuning BERT usually wants 2e-5 to 5e-5; training from scratch tolerates 1e-4 to 1e-3.',
          hf: 'TrainingArguments.learning_rate',
          examples: [2e-5, 3e-5, 5e-5, 1e-4, 5e-4],
        },
        weight_decay: {
          type: 'number',
          minimum: 0,
          maximum: 1,
          default: 0,
          description: 'Decoupled weight decay of AdamW, not applied to parameters matching `no_decay`.',
          hf: 'TrainingArguments.weight_decay',
          examples: [0, 0.01, 0.1],
        },
        adam_beta1: {
          type: 'number',
          minimum: 0,
          exclusiveMaximum: 1,
          default: 0.9,
          description: 'AdamW β1.',
          hf: 'TrainingArguments.adam_beta1',
        },
        adam_beta2: {
          type: 'number',
          minimum: 0,
          exclusiveMaximum: 1,
          default: 0.999,
          description: 'AdamW β2.',
          hf: 'TrainingArguments.adam_beta2',
        },
        adam_epsilon: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 1,
          default: 1e-8,
          description: 'AdamW ε.',
          hf: 'TrainingArguments.adam_epsilon',
        },
        max_grad_norm: {
          type: 'number',
          minimum: 0,
          maximum: 1e6,
          default: 1,
          description: 'Clip the global gradient norm to this value; 0 turns clipping off.',
          hf: 'TrainingArguments.max_grad_norm',
        },
        lr_scheduler_type: {
          type: 'enum',
          values: SCHEDULERS,
          default: 'linear',
          description: 'Learning-rate schedule after warm-up.',
          hf: 'TrainingArguments.lr_scheduler_type',
          valueDocs: {
            linear: 'Linear warm-up, then linear decay to 0.',
            cosine: 'Linear warm-up, then a half cosine to 0.',
            constant: 'The same learning rate throughout, no warm-up.',
            constant_with_warmup: 'Linear warm-up, then constant.',
          },
        },
        warmup_ratio: {
          type: 'number',
          minimum: 0,
          maximum: 1,
          default: 0,
          description: 'Fraction of the total steps spent warming up linearly from 0.',
          hf: 'TrainingArguments.warmup_ratio',
        },
        warmup_steps: {
          type: 'integer',
          minimum: 0,
          maximum: LIMITS.steps,
          default: 0,
          description: 'Warm-up steps; overrides `warmup_ratio` when > 0.',
          hf: 'TrainingArguments.warmup_steps',
        },
        gradient_accumulation_steps: {
          type: 'integer',
          minimum: 1,
          maximum: 1024,
          default: 1,
          description: 'Batches whose gradients are summed before one optimiser step.',
          hf: 'TrainingArguments.gradient_accumulation_steps',
        },
        seed: {
          type: 'integer',
          minimum: 0,
          maximum: LIMITS.seed,
          default: 42,
          description:
            'Seed for initialisation, shuffling, dropout and masking: the same seed on the same backend gives the same loss curve.',
          hf: 'TrainingArguments.seed',
        },
        eval_strategy: {
          type: 'enum',
          values: STRATEGIES,
          default: 'epoch',
          description: 'When to evaluate on the validation data.',
          hf: 'TrainingArguments.eval_strategy',
          valueDocs: {
            no: 'Never.',
            steps: 'Every `eval_steps` optimiser steps.',
            epoch: 'At the end of every epoch.',
          },
        },
        eval_steps: {
          type: 'integer',
          minimum: 1,
          maximum: LIMITS.steps,
          description: 'With `eval_strategy: steps`: evaluate every this many steps. Defaults to `logging_steps`.',
          hf: 'TrainingArguments.eval_steps',
        },
        save_strategy: {
          type: 'enum',
          values: STRATEGIES,
          default: 'epoch',
          description: 'When to save a checkpoint.',
          hf: 'TrainingArguments.save_strategy',
          valueDocs: {
            no: 'Only at the end (and on stop).',
            steps: 'Every `save_steps` optimiser steps.',
            epoch: 'At the end of every epoch.',
          },
        },
        save_steps: {
          type: 'integer',
          minimum: 1,
          maximum: LIMITS.steps,
          default: 500,
          description: 'With `save_strategy: steps`: save every this many steps.',
          hf: 'TrainingArguments.save_steps',
        },
        save_total_limit: {
          type: 'integer',
          minimum: 1,
          maximum: LIMITS.steps,
          nullable: true,
          description: 'Keep at most this many checkpoints, deleting the oldest; the best one is never deleted.',
          hf: 'TrainingArguments.save_total_limit',
        },
        load_best_model_at_end: {
          type: 'boolean',
          default: false,
          description:
            'At the end, load the best checkpoint (by `metric_for_best_model`). Needs `save_strategy` equal to `eval_strategy`.',
          hf: 'TrainingArguments.load_best_model_at_end',
        },
        metric_for_best_model: {
          type: 'string',
          description:
            'Metric that picks the best checkpoint, with or without `eval_`. Single-label: `loss`, `accuracy`, `f1` ' +
            '(the positive class, label id 1, with two labels as GLUE; macro otherwise), `f1_macro`, ' +
            '`matthews_correlation`. Multi-label: `loss`, `accuracy` (subset), `f1_micro`, `f1_macro`. Regression: ' +
            '`loss`, `pearson`, `spearmanr`. Masked-lm: `loss`, `perplexity`, `accuracy`. Defaults to `loss`.',
          hf: 'TrainingArguments.metric_for_best_model',
          examples: ['accuracy', 'f1', 'matthews_correlation', 'pearson', 'loss'],
        },
        greater_is_better: {
          type: 'boolean',
          description:
            'Whether a larger `metric_for_best_model` is better. Defaults as in HF: false for a name ending in `loss` ' +
            '(and for perplexity), true otherwise.',
          hf: 'TrainingArguments.greater_is_better',
        },
        early_stopping_patience: {
          type: 'integer',
          minimum: 1,
          maximum: LIMITS.steps,
          description: 'Stop after this many evaluations without improvement of `metric_for_best_model`.',
          hf: 'EarlyStoppingCallback.early_stopping_patience',
        },
        early_stopping_threshold: {
          type: 'number',
          minimum: 0,
          maximum: 1e6,
          default: 0,
          description: 'How much the metric must improve to count as an improvement.',
          hf: 'EarlyStoppingCallback.early_stopping_threshold',
        },
        logging_steps: {
          type: 'integer',
          minimum: 1,
          maximum: LIMITS.steps,
          default: 10,
          description: 'Write metrics every this many steps.',
          hf: 'TrainingArguments.logging_steps',
        },
        report_to: {
          type: 'string[]',
          values: REPORT_TO,
          valueDocs: {
            none: 'Only metrics.jsonl (always written).',
            all: 'Every integration this tool has: TensorBoard.',
            tensorboard:
              'TensorBoard event files (`events.out.tfevents.*`) in the run folder: `tensorboard --logdir <output_dir>`.',
          },
          default: ['none'],
          description:
            "Where metrics are logged besides the run folder's metrics.jsonl: `tensorboard` writes TensorBoard event files into the run folder, with the tags of Hugging Face's Trainer (`train/loss`, `eval/accuracy`, …). One value or a list.",
          hf: 'TrainingArguments.report_to',
          examples: [['tensorboard'], ['none']],
        },
        resume_from_checkpoint: {
          type: 'string',
          kind: 'checkpoint',
          description: 'Continue a run from this checkpoint folder (optimizer, schedule and data order included).',
          hf: 'Trainer.train(resume_from_checkpoint)',
        },
        no_decay: {
          type: 'string[]',
          kind: 'param-pattern',
          default: ['bias', 'LayerNorm.weight', 'layer_norm.weight'],
          description:
            "Parameters matching any of these patterns get no weight decay. The default covers every family's LayerNorms (BERT's `LayerNorm`, DistilBERT's `sa_layer_norm`, RoBERTa's `lm_head.layer_norm`), as HF's Trainer exempts all LayerNorm weights.",
        },
        layerwise_lr_decay: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 1,
          default: 1,
          description:
            'Layer-wise learning-rate decay: layer i of L gets learning_rate × decay^(L − i); embeddings get decay^(L+1). 1 turns it off. 0.8–0.95 often helps fine-tuning.',
        },
        learning_rates: {
          type: 'map<number>',
          kind: 'param-pattern',
          exclusiveMinimum: 0,
          maximum: 10,
          description:
            'Learning rates for parameters matching a pattern, e.g. `classifier.*: 1e-3`; the first matching pattern wins over `learning_rate`.',
        },
        ...precisionFields,
      },
    },
    freeze: {
      type: 'string[]',
      kind: 'param-pattern',
      default: [],
      description:
        'Parameters to freeze: glob patterns over parameter names (`*` matches any characters; a module name matches everything under it), e.g. `bert.embeddings`, `bert.encoder.layer.[0-3].*`.',
    },
    unfreeze: {
      type: 'string[]',
      kind: 'param-pattern',
      default: [],
      description: 'Patterns re-opened after `freeze`, e.g. freeze `bert` and unfreeze `bert.encoder.layer.11`.',
    },
  },
};
