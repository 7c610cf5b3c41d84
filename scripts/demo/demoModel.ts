/**
 * The demo's `--model`: a local model folder or a Hub id, checked before any training (a missing folder, a model
 * that is not a BERT, an activation the engine cannot run, no weights, no tokenizer: each a clear error now
 * rather than a failed run later). The scratch arm copies the model's shape (config.json) and uses its tokenizer;
 * the fine-tune arms load its weights; the frozen arm freezes all its layers but the top one.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FineTuneError } from '../../common/errors';
import { readBertConfig, type BertConfig } from '../../files/hf/bertConfig';
import { SHARD_INDEX_FILE } from '../../files/hf/shardIndex';
import { fetchHubModel, isHubId } from '../../trainer/hf/hub';

export interface DemoModel {
  /** What the configs name: an absolute folder, or the Hub id as given. */
  nameOrPath: string;
  source: 'folder' | 'hub';
  /** The local folder holding config.json (for a Hub id, its snapshot in the Hub cache). */
  folder: string;
  config: BertConfig;
}

export const SHIPPED_MODEL = path.join('examples', 'pretrained');

/** Downloads (or finds in the cache) a Hub model's files; weights only when asked. */
export type HubFetch = (id: string, weights: boolean) => Promise<string>;

const defaultFetch: HubFetch = (id, weights) => fetchHubModel(id, { weights });

/**
 * Resolves `--model`: an existing path is a folder (relative to `cwd`); otherwise a string shaped like a Hub id
 * is downloaded (config and tokenizer, and the weights when a fine-tune arm needs them, once, before the runs
 * start, so that parallel runs find them cached).
 */
export async function resolveDemoModel(
  arg: string,
  o: { cwd: string; needWeights: boolean; fetch?: HubFetch },
): Promise<DemoModel> {
  const local = path.resolve(o.cwd, arg);
  if (existsSync(local)) return checkFolder(local, o.needWeights);
  const looksLikePath = arg.startsWith('.') || path.isAbsolute(arg) || arg.includes('\\') || arg.split('/').length > 2;
  if (looksLikePath || !isHubId(arg)) {
    throw new FineTuneError('model-not-found', `--model ${arg}: there is no folder ${local}`, {
      fix: 'Give a model folder (config.json, model.safetensors, tokenizer.json or vocab.txt) or a Hub id such as google-bert/bert-base-uncased.',
    });
  }
  const folder = await (o.fetch ?? defaultFetch)(arg, o.needWeights);
  const checked = await checkFolder(folder, o.needWeights);
  return { ...checked, nameOrPath: arg, source: 'hub' };
}

async function checkFolder(folder: string, needWeights: boolean): Promise<DemoModel> {
  const stat = await fs.stat(folder);
  if (!stat.isDirectory()) {
    throw new FineTuneError('model-not-found', `--model ${folder} is a file, not a model folder`, {
      fix: 'Give the folder that holds config.json and the weights.',
    });
  }
  const config = await readBertConfig(path.join(folder, 'config.json'));
  // The config reader refuses activations the engine cannot run; the demo's arms are BERT's (the frozen arm
  // freezes `bert.*` modules), so another family is refused here, before any training.
  if ((config.model_type ?? 'bert') !== 'bert') {
    throw new FineTuneError('model-unsupported-type', `--model ${folder} is a ${config.model_type} model`, {
      file: path.join(folder, 'config.json'),
      fix: 'The demo compares BERT models (its frozen arm freezes bert.* modules); train other families with a config of your own.',
    });
  }
  if (needWeights && !['model.safetensors', SHARD_INDEX_FILE].some((f) => existsSync(path.join(folder, f)))) {
    throw new FineTuneError('model-missing-weights', `--model ${folder} has no model.safetensors`, {
      fix: 'The fine-tune arms need the weights (save_pretrained writes model.safetensors); or run `--variants scratch`.',
    });
  }
  if (!['tokenizer.json', 'vocab.txt'].some((f) => existsSync(path.join(folder, f)))) {
    throw new FineTuneError('tokenizer-not-found', `--model ${folder} has no tokenizer.json or vocab.txt`, {
      fix: 'Save the tokenizer next to the model (tokenizer.save_pretrained): every arm tokenizes with it.',
    });
  }
  return { nameOrPath: folder, source: 'folder', folder, config };
}

/** `model.architecture` of the scratch arm: the model's shape; dropout stays the scratch template's. */
export function scratchArchitecture(
  config: BertConfig,
  template: Record<string, unknown> = {},
): Record<string, number> {
  const arch: Record<string, number> = {
    vocab_size: config.vocab_size,
    hidden_size: config.hidden_size,
    num_hidden_layers: config.num_hidden_layers,
    num_attention_heads: config.num_attention_heads,
    intermediate_size: config.intermediate_size,
    max_position_embeddings: config.max_position_embeddings,
    type_vocab_size: config.type_vocab_size,
    layer_norm_eps: config.layer_norm_eps,
    initializer_range: config.initializer_range,
  };
  // Dropout is a training choice, not the model's shape: the shipped model was pre-trained without it, and a
  // scratch run of it keeps BERT's 0.1 (the demo's tuned scratch config).
  for (const key of ['hidden_dropout_prob', 'attention_probs_dropout_prob']) {
    const v = template[key];
    arch[key] = typeof v === 'number' ? v : (config[key] as number);
  }
  return arch;
}

/** The frozen arm's patterns: the embeddings and every encoder layer but the top one. */
export function frozenPatterns(config: BertConfig): string[] {
  const layers = Array.from({ length: Math.max(0, config.num_hidden_layers - 1) }, (_, i) => `bert.encoder.layer.${i}`);
  return ['bert.embeddings', ...layers];
}
