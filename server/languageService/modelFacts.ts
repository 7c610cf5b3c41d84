/**
 * What the language service knows about the config's model without loading weights: its parameters (from the
 * host, or from the architecture, or from a table of well-known small Hub models, which cannot be fetched
 * while the user types), and summaries of what a freeze pattern matches.
 */
import type { BertShapeConfig, ParamInfo } from '../../common/bertParams';
import { bertParameters, countParameters, numel } from '../../common/bertParams';
import type { ConfigFileHost, ModelInfo } from '../../common/config/fileChecks';
import { configParameters, headFor } from '../../common/config/fileChecks';
import type { FineTuneConfig } from '../../common/config/schema';
import { isFrozen, matchesPattern } from '../../common/freeze';
import { formatCount } from '../../common/moduleTree';

export interface HubModel {
  id: string;
  description: string;
  config: BertShapeConfig & { num_attention_heads: number };
}

const bert = (L: number, H: number, A: number): HubModel['config'] => ({
  vocab_size: 30522,
  hidden_size: H,
  num_hidden_layers: L,
  num_attention_heads: A,
  intermediate_size: 4 * H,
  max_position_embeddings: 512,
  type_vocab_size: 2,
});

/** Small BERT checkpoints that fine-tune in minutes on a CPU (Turc et al., "Well-Read Students Learn Better"). */
export const WELL_KNOWN_MODELS: readonly HubModel[] = [
  {
    id: 'prajjwal1/bert-tiny',
    description: 'BERT-Tiny (L=2, H=128): seconds per epoch on small data sets.',
    config: bert(2, 128, 2),
  },
  { id: 'prajjwal1/bert-mini', description: 'BERT-Mini (L=4, H=256).', config: bert(4, 256, 4) },
  { id: 'prajjwal1/bert-small', description: 'BERT-Small (L=4, H=512).', config: bert(4, 512, 8) },
  { id: 'prajjwal1/bert-medium', description: 'BERT-Medium (L=8, H=512).', config: bert(8, 512, 8) },
  { id: 'google/bert_uncased_L-2_H-128_A-2', description: "Google's BERT-Tiny, uncased.", config: bert(2, 128, 2) },
  { id: 'google/bert_uncased_L-4_H-256_A-4', description: "Google's BERT-Mini, uncased.", config: bert(4, 256, 4) },
  { id: 'google/bert_uncased_L-4_H-512_A-8', description: "Google's BERT-Small, uncased.", config: bert(4, 512, 8) },
  {
    id: 'bert-base-uncased',
    description: 'BERT-Base (L=12, H=768): the reference model; slow on a CPU.',
    config: bert(12, 768, 12),
  },
  {
    id: 'distilbert-base-uncased',
    description: 'DistilBERT (L=6, H=768): BERT-Base distilled to half the layers.',
    config: { ...bert(6, 768, 12), model_type: 'distilbert' },
  },
  {
    id: 'roberta-base',
    description: 'RoBERTa-Base (L=12, H=768), byte-level BPE; slow on a CPU.',
    config: {
      ...bert(12, 768, 12),
      model_type: 'roberta',
      vocab_size: 50265,
      max_position_embeddings: 514,
      type_vocab_size: 1,
    },
  },
  {
    id: 'xlm-roberta-base',
    description: 'XLM-RoBERTa-Base (L=12, H=768), 100 languages; its 250k-token embeddings make it large.',
    config: {
      ...bert(12, 768, 12),
      model_type: 'xlm-roberta',
      vocab_size: 250002,
      max_position_embeddings: 514,
      type_vocab_size: 1,
    },
  },
  {
    id: 'google/electra-small-discriminator',
    description: 'ELECTRA-Small discriminator (L=12, H=256, embeddings 128): strong for its size.',
    config: { ...bert(12, 256, 4), model_type: 'electra', embedding_size: 128 },
  },
];

export function wellKnownModel(id: string): HubModel | undefined {
  // The Hub moved the original models under their organisations; both names resolve.
  const bare = id.replace(/^(google-bert|distilbert|FacebookAI)\//, '');
  return WELL_KNOWN_MODELS.find((m) => m.id === id || m.id === bare);
}

/** Bounds a promise: file checks must never keep an answer waiting (a slow network drive, a huge file). */
export function withTimeout<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fallback), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      () => {
        clearTimeout(timer);
        resolve(fallback);
      },
    );
  });
}

/** The parameters the config's model will have, or undefined when they cannot be known without a download. */
export async function modelParameters(c: FineTuneConfig, host: ConfigFileHost): Promise<ParamInfo[] | undefined> {
  const fromHost = await configParameters(c, host);
  if (fromHost) return fromHost;
  const known = c.mode === 'fine-tune' && c.model.name_or_path ? wellKnownModel(c.model.name_or_path) : undefined;
  return known ? bertParameters(known.config, headFor(c.task)) : undefined;
}

/** Module paths (every prefix) and parameter names, in model order. */
export function modulePaths(params: readonly ParamInfo[]): { path: string; count: number; leaf: boolean }[] {
  const counts = new Map<string, { count: number; leaf: boolean }>();
  for (const p of params) {
    const parts = p.name.split('.');
    for (let i = 1; i <= parts.length; i++) {
      const path = parts.slice(0, i).join('.');
      const e = counts.get(path) ?? { count: 0, leaf: i === parts.length };
      e.count += numel(p.shape);
      counts.set(path, e);
    }
  }
  return [...counts].map(([path, e]) => ({ path, ...e }));
}

export interface PatternSummary {
  /** The largest modules whose parameters all match (a parameter name when only part of a module matches). */
  modules: string[];
  matchedParams: number;
  matchedTensors: number;
  /** Of the matched ones, how many end up frozen once `unfreeze` is applied (for freeze patterns). */
  frozenParams: number;
}

export function summarisePattern(
  pattern: string,
  params: readonly ParamInfo[],
  c: Pick<FineTuneConfig, 'freeze' | 'unfreeze'>,
): PatternSummary {
  const matched = params.filter((p) => matchesPattern(p.name, pattern));
  const matchedNames = new Set(matched.map((p) => p.name));
  const modules: string[] = [];
  const all = modulePaths(params);
  for (const m of all) {
    if (modules.some((x) => m.path.startsWith(x + '.'))) continue;
    const under = params.filter((p) => p.name === m.path || p.name.startsWith(m.path + '.'));
    if (under.length && under.every((p) => matchedNames.has(p.name))) modules.push(m.path);
  }
  return {
    modules,
    matchedParams: countParameters(matched),
    matchedTensors: matched.length,
    frozenParams: countParameters(matched.filter((p) => isFrozen(p.name, c.freeze, c.unfreeze))),
  };
}

export function describeModel(
  info: Pick<ModelInfo, 'config'> & { parameters: readonly ParamInfo[] },
  where: string,
): string {
  const cfg = info.config;
  const total = countParameters(info.parameters);
  const parts = [
    cfg.num_hidden_layers !== undefined ? `${cfg.num_hidden_layers} layers` : undefined,
    cfg.hidden_size !== undefined ? `hidden size ${cfg.hidden_size}` : undefined,
    cfg.num_attention_heads !== undefined ? `${cfg.num_attention_heads} heads` : undefined,
    total ? `${formatCount(total)} parameters` : undefined,
    cfg.max_position_embeddings !== undefined ? `up to ${cfg.max_position_embeddings} tokens` : undefined,
  ].filter(Boolean);
  return `**${where}**: ${parts.join(', ')}`;
}
