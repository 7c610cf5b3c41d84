/**
 * The BERT-family encoders we train, keyed by Hugging Face's `model_type`: the prefix of their encoder's
 * parameters, the modules of each head, the classes `from_pretrained` builds for our checkpoints, and which
 * state-dict keys of theirs are dropped on load (other heads, tied copies, buffers). Pure data, shared by the
 * trainer (loading, saving), the language server (freeze completion) and the panels (module tree).
 */

export const MODEL_TYPES = ['bert', 'roberta', 'xlm-roberta', 'distilbert', 'electra'] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

/** `hidden_act` values, as transformers' ACT2FN names them: erf GELU, its tanh approximation, ReLU. */
export const ACTIVATIONS = ['gelu', 'gelu_new', 'relu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

export type FamilyHead = 'sequence-classification' | 'masked-lm';

export interface Family {
  readonly modelType: ModelType;
  /** `base_model_prefix`: the encoder's parameters are `<prefix>.embeddings…`, `<prefix>.encoder…`. */
  readonly prefix: string;
  /** The `architectures[0]` of a saved checkpoint, per head. */
  readonly architectures: Readonly<Record<FamilyHead, string>>;
  /** Prefixes of each head's own parameters: a pre-trained encoder without them gets them freshly initialised. */
  readonly headPrefixes: Readonly<Record<FamilyHead, readonly string[]>>;
  /** The decoder weight tied to the word embeddings (never stored), and a bias saved under a second name. */
  readonly tied: { readonly decoderWeight: string; readonly decoderBias?: readonly [alias: string, name: string] };
  /** Keys of other heads and buffers that a checkpoint may carry and a load drops (reported, not an error). */
  readonly droppable: readonly RegExp[];
  /** Whether the embeddings add token-type (segment) embeddings; DistilBERT has none. */
  readonly tokenTypes: boolean;
}

const BUFFERS = [/\.position_ids$/, /\.token_type_ids$/];

const ROBERTA_LIKE = (modelType: 'roberta' | 'xlm-roberta', name: string): Family => ({
  modelType,
  prefix: 'roberta',
  architectures: { 'sequence-classification': `${name}ForSequenceClassification`, 'masked-lm': `${name}ForMaskedLM` },
  headPrefixes: { 'sequence-classification': ['classifier.'], 'masked-lm': ['lm_head.'] },
  tied: { decoderWeight: 'lm_head.decoder.weight', decoderBias: ['lm_head.decoder.bias', 'lm_head.bias'] },
  // roberta-base and xlm-roberta-base carry a pooler that RobertaForSequenceClassification does not use.
  droppable: [/^classifier\./, /^lm_head\./, /^roberta\.pooler\./, /^qa_outputs\./, ...BUFFERS],
  tokenTypes: true,
});

export const FAMILIES: ReadonlyMap<ModelType, Family> = new Map<ModelType, Family>([
  [
    'bert',
    {
      modelType: 'bert',
      prefix: 'bert',
      architectures: { 'sequence-classification': 'BertForSequenceClassification', 'masked-lm': 'BertForMaskedLM' },
      headPrefixes: { 'sequence-classification': ['classifier.', 'bert.pooler.'], 'masked-lm': ['cls.'] },
      tied: {
        decoderWeight: 'cls.predictions.decoder.weight',
        decoderBias: ['cls.predictions.decoder.bias', 'cls.predictions.bias'],
      },
      droppable: [/^cls\./, /^classifier\./, /^bert\.pooler\./, /^qa_outputs\./, ...BUFFERS],
      tokenTypes: true,
    },
  ],
  ['roberta', ROBERTA_LIKE('roberta', 'Roberta')],
  ['xlm-roberta', ROBERTA_LIKE('xlm-roberta', 'XLMRoberta')],
  [
    'distilbert',
    {
      modelType: 'distilbert',
      prefix: 'distilbert',
      architectures: {
        'sequence-classification': 'DistilBertForSequenceClassification',
        'masked-lm': 'DistilBertForMaskedLM',
      },
      headPrefixes: {
        'sequence-classification': ['pre_classifier.', 'classifier.'],
        'masked-lm': ['vocab_transform.', 'vocab_layer_norm.', 'vocab_projector.'],
      },
      tied: { decoderWeight: 'vocab_projector.weight' },
      droppable: [
        /^pre_classifier\./,
        /^classifier\./,
        /^vocab_(transform|layer_norm|projector)\./,
        /^qa_outputs\./,
        ...BUFFERS,
      ],
      tokenTypes: false,
    },
  ],
  [
    'electra',
    {
      modelType: 'electra',
      prefix: 'electra',
      architectures: {
        'sequence-classification': 'ElectraForSequenceClassification',
        'masked-lm': 'ElectraForMaskedLM',
      },
      headPrefixes: {
        'sequence-classification': ['classifier.'],
        'masked-lm': ['generator_predictions.', 'generator_lm_head.'],
      },
      tied: { decoderWeight: 'generator_lm_head.weight' },
      // A discriminator checkpoint (google/electra-*-discriminator) carries its replaced-token-detection head.
      droppable: [
        /^classifier\./,
        /^generator_(predictions|lm_head)\./,
        /^discriminator_predictions\./,
        /^qa_outputs\./,
        ...BUFFERS,
      ],
      tokenTypes: true,
    },
  ],
]);

export function isModelType(v: unknown): v is ModelType {
  return typeof v === 'string' && (MODEL_TYPES as readonly string[]).includes(v);
}

export function isActivation(v: unknown): v is Activation {
  return typeof v === 'string' && (ACTIVATIONS as readonly string[]).includes(v);
}

/**
 * The family of a model type; a config without one is BERT (what every config before model_type meant). An
 * unknown type never gets this far from a file (files/hf/bertConfig.ts refuses it) and is taken as BERT too.
 */
export function familyOf(modelType: string | undefined): Family {
  return FAMILIES.get(isModelType(modelType) ? modelType : 'bert')!;
}
