/**
 * Parameter names and shapes of a BERT-family model (BERT, RoBERTa, XLM-RoBERTa, DistilBERT, ELECTRA), derived
 * from its config alone, without weights: the language server uses it to complete and check freeze patterns, the
 * panels to show the module tree before a run, and the engine to count parameters. Names are the state-dict keys
 * `transformers` saves; shapes are PyTorch's (`[out, in]` for Linear weights), as in `model.safetensors`.
 */
import { familyOf } from './modelFamilies';

export type BertHead = 'sequence-classification' | 'masked-lm' | 'none';

/** The sizes of a model, under `BertConfig`'s names whatever the family (DistilBERT's `dim` is hidden_size). */
export interface BertShapeConfig {
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  intermediate_size: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  /** A ModelType; absent: BERT. */
  model_type?: string | undefined;
  /** ELECTRA only: the width of its embeddings, projected to hidden_size when they differ. */
  embedding_size?: number | undefined;
}

export interface ParamInfo {
  name: string;
  shape: number[];
}

/** Appends parameters in the order `state_dict()` lists them. */
class Inventory {
  readonly out: ParamInfo[] = [];
  p(name: string, ...shape: number[]): void {
    this.out.push({ name, shape });
  }
  linear(prefix: string, outDim: number, inDim: number): void {
    this.p(`${prefix}.weight`, outDim, inDim);
    this.p(`${prefix}.bias`, outDim);
  }
  norm(prefix: string, dim: number): void {
    this.p(`${prefix}.weight`, dim);
    this.p(`${prefix}.bias`, dim);
  }
}

/** BertModel's embeddings and encoder, also RoBERTa's and ELECTRA's (with ELECTRA's embedding width). */
function bertEncoder(inv: Inventory, c: BertShapeConfig, prefix: string, embed = c.hidden_size): void {
  const H = c.hidden_size;
  inv.p(`${prefix}.embeddings.word_embeddings.weight`, c.vocab_size, embed);
  inv.p(`${prefix}.embeddings.position_embeddings.weight`, c.max_position_embeddings, embed);
  inv.p(`${prefix}.embeddings.token_type_embeddings.weight`, c.type_vocab_size, embed);
  inv.norm(`${prefix}.embeddings.LayerNorm`, embed);
  if (embed !== H) inv.linear(`${prefix}.embeddings_project`, H, embed);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const l = `${prefix}.encoder.layer.${i}`;
    inv.linear(`${l}.attention.self.query`, H, H);
    inv.linear(`${l}.attention.self.key`, H, H);
    inv.linear(`${l}.attention.self.value`, H, H);
    inv.linear(`${l}.attention.output.dense`, H, H);
    inv.norm(`${l}.attention.output.LayerNorm`, H);
    inv.linear(`${l}.intermediate.dense`, c.intermediate_size, H);
    inv.linear(`${l}.output.dense`, H, c.intermediate_size);
    inv.norm(`${l}.output.LayerNorm`, H);
  }
}

function bert(inv: Inventory, c: BertShapeConfig, head: BertHead, numLabels: number): void {
  const H = c.hidden_size;
  bertEncoder(inv, c, 'bert');
  if (head === 'masked-lm') {
    // BertForMaskedLM has no pooler; the decoder weight is tied to the word embeddings and not a parameter of its own.
    inv.linear('cls.predictions.transform.dense', H, H);
    inv.norm('cls.predictions.transform.LayerNorm', H);
    inv.p('cls.predictions.bias', c.vocab_size);
    return;
  }
  inv.linear('bert.pooler.dense', H, H);
  if (head === 'sequence-classification') inv.linear('classifier', numLabels, H);
}

/** RobertaForSequenceClassification / RobertaForMaskedLM (and XLM-R's): no pooler, a two-layer head. */
function roberta(inv: Inventory, c: BertShapeConfig, head: BertHead, numLabels: number): void {
  const H = c.hidden_size;
  bertEncoder(inv, c, 'roberta');
  if (head === 'sequence-classification') {
    inv.linear('classifier.dense', H, H);
    inv.linear('classifier.out_proj', numLabels, H);
  } else if (head === 'masked-lm') {
    // lm_head.decoder.weight is the word embeddings and lm_head.decoder.bias is lm_head.bias: neither is stored.
    inv.linear('lm_head.dense', H, H);
    inv.norm('lm_head.layer_norm', H);
    inv.p('lm_head.bias', c.vocab_size);
  }
}

/** DistilBertForSequenceClassification / DistilBertForMaskedLM: no token types, no pooler. */
function distilbert(inv: Inventory, c: BertShapeConfig, head: BertHead, numLabels: number): void {
  const H = c.hidden_size;
  inv.p('distilbert.embeddings.word_embeddings.weight', c.vocab_size, H);
  inv.p('distilbert.embeddings.position_embeddings.weight', c.max_position_embeddings, H);
  inv.norm('distilbert.embeddings.LayerNorm', H);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const l = `distilbert.transformer.layer.${i}`;
    inv.linear(`${l}.attention.q_lin`, H, H);
    inv.linear(`${l}.attention.k_lin`, H, H);
    inv.linear(`${l}.attention.v_lin`, H, H);
    inv.linear(`${l}.attention.out_lin`, H, H);
    inv.norm(`${l}.sa_layer_norm`, H);
    inv.linear(`${l}.ffn.lin1`, c.intermediate_size, H);
    inv.linear(`${l}.ffn.lin2`, H, c.intermediate_size);
    inv.norm(`${l}.output_layer_norm`, H);
  }
  if (head === 'sequence-classification') {
    inv.linear('pre_classifier', H, H);
    inv.linear('classifier', numLabels, H);
  } else if (head === 'masked-lm') {
    // vocab_projector.weight is tied to the word embeddings; its bias is its own.
    inv.linear('vocab_transform', H, H);
    inv.norm('vocab_layer_norm', H);
    inv.p('vocab_projector.bias', c.vocab_size);
  }
}

/**
 * ElectraForSequenceClassification, and ElectraForMaskedLM for masked-LM: the generator-style head (dense to the
 * embedding width, GELU, LayerNorm, then the tied embeddings), not the discriminator's replaced-token head.
 */
function electra(inv: Inventory, c: BertShapeConfig, head: BertHead, numLabels: number): void {
  const H = c.hidden_size;
  const E = c.embedding_size ?? H;
  bertEncoder(inv, c, 'electra', E);
  if (head === 'sequence-classification') {
    inv.linear('classifier.dense', H, H);
    inv.linear('classifier.out_proj', numLabels, H);
  } else if (head === 'masked-lm') {
    inv.norm('generator_predictions.LayerNorm', E);
    inv.linear('generator_predictions.dense', E, H);
    inv.p('generator_lm_head.bias', c.vocab_size);
  }
}

const BUILDERS = { bert, roberta, 'xlm-roberta': roberta, distilbert, electra } as const;

/** Every parameter of the family's model with this head (`none`: the bare encoder, BERT's with its pooler). */
export function bertParameters(c: BertShapeConfig, head: BertHead, numLabels = 2): ParamInfo[] {
  const inv = new Inventory();
  BUILDERS[familyOf(c.model_type).modelType](inv, c, head, numLabels);
  return inv.out;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function countParameters(params: readonly ParamInfo[]): number {
  return params.reduce((s, p) => s + numel(p.shape), 0);
}
