/**
 * The configuration of a BERT-family model (Hugging Face `BertConfig` field names for every family; DistilBERT's
 * own names are mapped when its config.json is read and written) and the parameter inventory derived from it.
 * The inventory is pure (no tfjs), so parameter counts and the module tree can be shown before anything is
 * allocated: bert-base's word embeddings alone are 94 MB.
 */
import { bertParameters } from './bertParams';
import type { ArchitectureConfig } from './config/schema';
import { LIMITS } from './config/schema';
import { FineTuneError } from './errors';
import type { ProblemType } from './problemType';
import type { BertHead as CommonBertHead } from './bertParams';
import { ACTIVATIONS, isActivation, isModelType } from './modelFamilies';
import type { Activation, ModelType } from './modelFamilies';

/** The architecture keys that only some families have, or that default from another key. */
type FamilyKeys = 'model_type' | 'hidden_act' | 'embedding_size';

/**
 * A model's config.json fields: the architecture a user can write under `model.architecture` (declared once in
 * common/config/schema.ts), with the vocabulary size settled, plus what only a saved model carries.
 */
export interface BertConfig extends Required<Omit<ArchitectureConfig, FamilyKeys>> {
  /** Absent: BERT. */
  model_type?: ModelType;
  /** ELECTRA: the embeddings' width (absent: hidden_size). */
  embedding_size?: number;
  pad_token_id: number;
  hidden_act: Activation;
  classifier_dropout?: number | null;
  num_labels?: number;
  /** What a classification head predicts (common/problemType.ts); absent means single-label, as in HF. */
  problem_type?: ProblemType;
  id2label?: Record<string, string>;
  label2id?: Record<string, number>;
}

export type BertHead = Exclude<CommonBertHead, 'none'>;

/** How a parameter is initialised and stored; `linear` weights are transposed between memory and disk. */
export type ParamKind = 'linear-weight' | 'bias' | 'embedding' | 'layernorm-weight' | 'layernorm-bias';

export interface ParamSpec {
  /** Hugging Face state-dict name. */
  readonly name: string;
  /** In-memory shape; for a Linear weight that is `[in, out]`, the transpose of PyTorch's. */
  readonly shape: readonly number[];
  readonly kind: ParamKind;
}

export const BERT_BASE_UNCASED: BertConfig = {
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  layer_norm_eps: 1e-12,
  initializer_range: 0.02,
  pad_token_id: 0,
  hidden_act: 'gelu',
};

/**
 * Checks the parts of a config that would otherwise fail deep inside a matmul, or as an impossible allocation.
 * A config.json was checked with its file and line by files/hf/bertConfig.ts already; this is the last guard
 * before any tensor is allocated, for configs built in code.
 */
export function validateConfig(c: BertConfig): void {
  for (const [k, max] of Object.entries(MAXIMA) as [keyof typeof MAXIMA, number][]) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      bad(`${k} must be a positive integer, got ${JSON.stringify(v)}`);
    }
    if (v > max) bad(`${k} is ${v}, above the limit of ${max}`);
  }
  if (c.hidden_size % c.num_attention_heads !== 0) {
    bad(`hidden_size (${c.hidden_size}) must be a multiple of num_attention_heads (${c.num_attention_heads})`);
  }
  if (!isActivation(c.hidden_act)) {
    bad(`hidden_act '${String(c.hidden_act)}' is not supported (only ${ACTIVATIONS.join(', ')})`);
  }
  if (c.model_type !== undefined && !isModelType(c.model_type)) bad(`model_type '${String(c.model_type)}' is unknown`);
  const e = c.embedding_size;
  if (e !== undefined && !(Number.isInteger(e) && e > 0 && e <= LIMITS.hiddenSize)) {
    bad(`embedding_size must be a positive integer up to ${LIMITS.hiddenSize}, got ${JSON.stringify(e)}`);
  }
  for (const k of ['hidden_dropout_prob', 'attention_probs_dropout_prob'] as const) {
    if (!(c[k] >= 0 && c[k] < 1)) bad(`${k} must be in [0, 1), got ${c[k]}`);
  }
}

/** The sizes a model needs, each a positive integer up to the config schema's limit. */
const MAXIMA = {
  vocab_size: LIMITS.vocabSize,
  hidden_size: LIMITS.hiddenSize,
  num_hidden_layers: LIMITS.layers,
  num_attention_heads: LIMITS.attentionHeads,
  intermediate_size: LIMITS.intermediateSize,
  max_position_embeddings: LIMITS.positions,
  type_vocab_size: LIMITS.typeVocabSize,
} as const;

function bad(problem: string): never {
  throw new FineTuneError('model-bad-config', `the model config is invalid: ${problem}`, {
    fix: "Fix the architecture (model.architecture in the config, or the model's config.json).",
  });
}

/** How common/bertParams' names map to initialisation and layout, in every family's naming. */
function kindOf(name: string, rank: number): ParamKind {
  if (/\.embeddings\.(word|position|token_type)_embeddings\.weight$/.test(name)) return 'embedding';
  if (/(LayerNorm|layer_norm)\.(weight|bias)$/.test(name)) {
    return name.endsWith('.weight') ? 'layernorm-weight' : 'layernorm-bias';
  }
  return rank === 2 ? 'linear-weight' : 'bias';
}

/**
 * Every parameter of the family's ForSequenceClassification / ForMaskedLM model, in Hugging Face order, as the model holds
 * them: the inventory is common/bertParams.ts (the one the language server and panels use, in PyTorch's layout);
 * here Linear weights are transposed to `[in, out]`. The MLM decoder weight is not listed: it is the
 * word-embedding matrix itself (tied), as HF counts and saves it.
 */
export function parameterSpecs(c: BertConfig, head: BertHead, numLabels = c.num_labels ?? 2): ParamSpec[] {
  return bertParameters(c, head, numLabels).map(({ name, shape }) => {
    const kind = kindOf(name, shape.length);
    return { name, kind, shape: kind === 'linear-weight' ? [shape[1]!, shape[0]!] : shape };
  });
}

/**
 * The longest input the position embeddings cover: RoBERTa's positions start at pad_token_id + 1 (roberta-base
 * has 514 position embeddings and takes 512 tokens), every other family's at 0.
 */
export function maxSequenceLength(c: {
  model_type?: string | undefined;
  max_position_embeddings: number;
  pad_token_id: number;
}): number {
  const roberta = c.model_type === 'roberta' || c.model_type === 'xlm-roberta';
  return roberta ? c.max_position_embeddings - c.pad_token_id - 1 : c.max_position_embeddings;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Unique parameter count, as `model.num_parameters()` reports it in transformers (tied weights once). */
export function countParameters(c: BertConfig, head: BertHead, numLabels = c.num_labels ?? 2): number {
  return parameterSpecs(c, head, numLabels).reduce((n, s) => n + sizeOf(s.shape), 0);
}
