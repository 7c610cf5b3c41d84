/**
 * Parameter names and shapes of a BERT model, derived from its config alone, without weights: the language
 * server uses it to complete and check freeze patterns, the panels to show the module tree before a run, and the
 * engine to count parameters. Shapes are PyTorch's (`[out, in]` for Linear weights), as in `model.safetensors`.
 */

export type BertHead = 'sequence-classification' | 'masked-lm' | 'none';

export interface BertShapeConfig {
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  intermediate_size: number;
  max_position_embeddings: number;
  type_vocab_size: number;
}

export interface ParamInfo {
  name: string;
  shape: number[];
}

export function bertParameters(c: BertShapeConfig, head: BertHead, numLabels = 2): ParamInfo[] {
  const H = c.hidden_size;
  const out: ParamInfo[] = [];
  const p = (name: string, ...shape: number[]) => out.push({ name, shape });
  const linear = (prefix: string, outDim: number, inDim: number) => {
    p(`${prefix}.weight`, outDim, inDim);
    p(`${prefix}.bias`, outDim);
  };
  const layerNorm = (prefix: string) => {
    p(`${prefix}.weight`, H);
    p(`${prefix}.bias`, H);
  };
  p('bert.embeddings.word_embeddings.weight', c.vocab_size, H);
  p('bert.embeddings.position_embeddings.weight', c.max_position_embeddings, H);
  p('bert.embeddings.token_type_embeddings.weight', c.type_vocab_size, H);
  layerNorm('bert.embeddings.LayerNorm');
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const l = `bert.encoder.layer.${i}`;
    linear(`${l}.attention.self.query`, H, H);
    linear(`${l}.attention.self.key`, H, H);
    linear(`${l}.attention.self.value`, H, H);
    linear(`${l}.attention.output.dense`, H, H);
    layerNorm(`${l}.attention.output.LayerNorm`);
    linear(`${l}.intermediate.dense`, c.intermediate_size, H);
    linear(`${l}.output.dense`, H, c.intermediate_size);
    layerNorm(`${l}.output.LayerNorm`);
  }
  if (head === 'sequence-classification') {
    linear('bert.pooler.dense', H, H);
    linear('classifier', numLabels, H);
  } else if (head === 'masked-lm') {
    // BertForMaskedLM has no pooler; the decoder weight is tied to the word embeddings and not a parameter of its own.
    linear('cls.predictions.transform.dense', H, H);
    layerNorm('cls.predictions.transform.LayerNorm');
    p('cls.predictions.bias', c.vocab_size);
  } else {
    linear('bert.pooler.dense', H, H);
  }
  return out;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function countParameters(params: readonly ParamInfo[]): number {
  return params.reduce((s, p) => s + numel(p.shape), 0);
}
