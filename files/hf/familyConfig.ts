/**
 * config.json keys per model family. We hold every family's config under BertConfig's names (hidden_size,
 * num_hidden_layers, ...); DistilBertConfig names the same things its own way (dim, n_layers, ...), so its
 * config.json is mapped on read and written back in its own names, which is what `from_pretrained` expects.
 */
import type { BertConfig } from '../../common/modelConfig';
import { familyOf } from '../../common/modelFamilies';
import type { FamilyHead } from '../../common/modelFamilies';

/** DistilBertConfig's key → BertConfig's, for the keys both have (DistilBERT's defaults where it has one). */
export const DISTILBERT_KEYS = [
  ['dim', 'hidden_size', 768],
  ['n_layers', 'num_hidden_layers', 6],
  ['n_heads', 'num_attention_heads', 12],
  ['hidden_dim', 'intermediate_size', 3072],
  ['dropout', 'hidden_dropout_prob', 0.1],
  ['attention_dropout', 'attention_probs_dropout_prob', 0.1],
  ['activation', 'hidden_act', 'gelu'],
  ['seq_classif_dropout', 'classifier_dropout', 0.2],
] as const;

/** DistilBERT's LayerNorms are built with eps 1e-12 in code; its config has no key for it. */
export const DISTILBERT_LAYER_NORM_EPS = 1e-12;

/** BertConfig's names for a DistilBERT config.json's keys (DistilBertConfig's defaults where one is absent). */
export function fromDistilBertKeys(c: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...c };
  for (const [theirs, ours, fallback] of DISTILBERT_KEYS) out[ours] = c[theirs] ?? fallback;
  out.layer_norm_eps = DISTILBERT_LAYER_NORM_EPS;
  // Not a DistilBERT input; kept so that the shared range checks hold (the model never reads it).
  out.type_vocab_size = 1;
  return out;
}

/** Keys only BERT-style configs have: dropped from a DistilBERT config.json, whose class would misread them. */
const BERT_ONLY = [
  ...DISTILBERT_KEYS.map(([, ours]) => ours),
  'type_vocab_size',
  'layer_norm_eps',
  'position_embedding_type',
  'embedding_size',
] as const;

/** The architecture part of config.json as `save_pretrained` writes it for the config's family and head. */
export function architectureJson(c: BertConfig, head: FamilyHead): Record<string, unknown> {
  const family = familyOf(c.model_type);
  const common = {
    architectures: [family.architectures[head]],
    model_type: family.modelType,
    vocab_size: c.vocab_size,
    max_position_embeddings: c.max_position_embeddings,
    initializer_range: c.initializer_range,
    pad_token_id: c.pad_token_id,
  };
  if (family.modelType === 'distilbert') {
    const out: Record<string, unknown> = { ...common, sinusoidal_pos_embds: false, tie_weights_: true };
    for (const [theirs, ours, fallback] of DISTILBERT_KEYS) out[theirs] = c[ours] ?? fallback;
    return out;
  }
  return {
    ...common,
    hidden_size: c.hidden_size,
    num_hidden_layers: c.num_hidden_layers,
    num_attention_heads: c.num_attention_heads,
    intermediate_size: c.intermediate_size,
    hidden_act: c.hidden_act,
    hidden_dropout_prob: c.hidden_dropout_prob,
    attention_probs_dropout_prob: c.attention_probs_dropout_prob,
    type_vocab_size: c.type_vocab_size,
    layer_norm_eps: c.layer_norm_eps,
    position_embedding_type: 'absolute',
    classifier_dropout: c.classifier_dropout ?? null,
    ...(family.modelType === 'electra' ? { embedding_size: c.embedding_size ?? c.hidden_size } : {}),
  };
}

/** What a source config.json carries besides the architecture, with keys its family does not have removed. */
export function passThroughKeys(base: Record<string, unknown>, c: BertConfig): Record<string, unknown> {
  // The label keys, the problem type and its threshold are the run's own, written after these.
  const {
    id2label: _a,
    label2id: _b,
    num_labels: _c,
    architectures: _d,
    problem_type: _e,
    threshold: _f,
    ...rest
  } = base;
  if (familyOf(c.model_type).modelType === 'distilbert') for (const k of BERT_ONLY) delete rest[k];
  return rest;
}
