/**
 * Resolves a config's `name_or_path` to a model folder: a local folder, or a Hub id fetched into the cache.
 * Checks what the folder holds (config.json, weights single or sharded, safetensors preferred over PyTorch's
 * `pytorch_model.bin`, as transformers does) and explains what is missing; loads the state dict, or only the
 * parameter names and shapes.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FineTuneError } from '../../common/errors';
import { readBertConfig, type BertConfig } from '../../files/hf/bertConfig';
import { fetchHubModel, isHubId, type HubOptions } from './hub';
import { readSafetensors, readSafetensorsHeader, type Tensor } from '../../files/hf/safetensors';
import { readShardIndex } from '../../files/hf/shardIndex';
import { resolveInside } from '../../common/safeName';
import {
  readTorchCheckpoint,
  readTorchCheckpointInfo,
  TORCH_INDEX_FILE,
  TORCH_WEIGHTS_FILE,
} from '../../files/hf/torchBin/torchBin';
import { isLocalReference, missingPathMessage } from '../../common/localPath';
import { pathExists } from '../../common/fsProbe';

/** `format` is absent for safetensors; 'pytorch' for `pytorch_model.bin` files (read by files/hf/torchBin). */
export type Weights =
  | { kind: 'single'; file: string; format?: 'pytorch' }
  | { kind: 'sharded'; indexFile: string; shards: string[]; weightMap: Map<string, string>; format?: 'pytorch' }
  | { kind: 'none' };

export interface ModelFolder {
  dir: string;
  config: BertConfig;
  configFile: string;
  weights: Weights;
  source: 'local' | 'hub';
  hubId?: string;
}

export interface ResolveOptions extends HubOptions {
  /** Relative paths are resolved against this (the config file's folder). */
  baseDir?: string;
  /** Default true. False for training from scratch, where only config.json is needed. */
  requireWeights?: boolean;
}

export async function resolveModelFolder(nameOrPath: string, options: ResolveOptions = {}): Promise<ModelFolder> {
  const local = path.resolve(options.baseDir ?? process.cwd(), expandHome(nameOrPath));
  const stat = await fs.stat(local).catch(() => undefined);
  if (stat?.isDirectory()) return inspectFolder(local, 'local', options.requireWeights ?? true);
  if (stat !== undefined) {
    throw new FineTuneError('model-not-found', `${local} is a file, not a model folder`, {
      file: local,
      fix: 'Set name_or_path to the folder that holds config.json and model.safetensors.',
    });
  }
  const base = options.baseDir ?? process.cwd();
  if (!isHubId(nameOrPath) || (await isLocalReference(nameOrPath, (p) => path.resolve(base, p), pathExists))) {
    throw new FineTuneError('model-not-found', missingPathMessage('folder', nameOrPath, local), {
      file: local,
      fix: `Check the path (relative paths are relative to ${options.baseDir ? "the config file's folder" : 'the working directory'}), or give a Hub id such as bert-base-uncased.`,
    });
  }
  const dir = await fetchHubModel(nameOrPath, { ...options, weights: options.requireWeights ?? true });
  const folder = await inspectFolder(dir, 'hub', options.requireWeights ?? true, nameOrPath);
  // Where the weights came from travels with the config into every checkpoint's config.json: the Hub id as
  // transformers records it, and the exact commit (the snapshot folder's name), whatever revision named it.
  const config = { ...folder.config, _name_or_path: nameOrPath, finetune_studio_revision: path.basename(dir) };
  return { ...folder, config, hubId: nameOrPath };
}

async function inspectFolder(
  dir: string,
  source: 'local' | 'hub',
  requireWeights: boolean,
  hubId?: string,
): Promise<ModelFolder> {
  const configFile = path.join(dir, 'config.json');
  const has = async (f: string): Promise<boolean> =>
    (await fs.stat(path.join(dir, f)).catch(() => undefined))?.isFile() ?? false;
  if (!(await has('config.json'))) {
    throw new FineTuneError(
      'model-missing-config',
      `${dir} has no config.json, so it is not a Hugging Face model folder`,
      {
        file: dir,
        fix: 'Point name_or_path at the folder save_pretrained wrote (it has config.json and model.safetensors).',
      },
    );
  }
  const config = await readBertConfig(configFile);
  const weights = await findWeights(dir, has);
  if (weights.kind === 'none' && requireWeights) throw await noWeights(dir, has, hubId);
  return { dir, config, configFile, weights, source };
}

/** The first of: model.safetensors, its index, pytorch_model.bin, its index. */
async function findWeights(dir: string, has: (f: string) => Promise<boolean>): Promise<Weights> {
  if (await has('model.safetensors')) return { kind: 'single', file: path.join(dir, 'model.safetensors') };
  if (await has('model.safetensors.index.json')) return readIndex(dir, path.join(dir, 'model.safetensors.index.json'));
  if (await has(TORCH_WEIGHTS_FILE))
    return { kind: 'single', file: path.join(dir, TORCH_WEIGHTS_FILE), format: 'pytorch' };
  if (await has(TORCH_INDEX_FILE))
    return { ...(await readIndex(dir, path.join(dir, TORCH_INDEX_FILE))), format: 'pytorch' };
  return { kind: 'none' };
}

async function noWeights(dir: string, has: (f: string) => Promise<boolean>, hubId?: string): Promise<FineTuneError> {
  const others: string[] = [];
  for (const f of ['tf_model.h5', 'flax_model.msgpack']) if (await has(f)) others.push(f);
  if (others.length > 0) {
    const where = hubId ?? dir;
    return new FineTuneError(
      'model-unsupported-weights',
      `${dir} has weights only as ${others.join(', ')} (TensorFlow or Flax), which cannot be read here`,
      {
        file: dir,
        fix:
          `Convert once in Python: from transformers import AutoModelForPreTraining; ` +
          `AutoModelForPreTraining.from_pretrained('${where}', from_tf=True).save_pretrained('${where}') ` +
          `(from_flax=True for Flax weights; ` +
          `use the model's own class, e.g. AutoModelForSequenceClassification, to keep a classification head).`,
      },
    );
  }
  return new FineTuneError('model-missing-weights', `${dir} has config.json but no model.safetensors`, {
    file: dir,
    fix: 'Copy the weights (model.safetensors or pytorch_model.bin) into the folder, or set init: scratch to train from a random initialisation.',
  });
}

async function readIndex(dir: string, indexFile: string): Promise<Extract<Weights, { kind: 'sharded' }>> {
  const { weightMap, shards } = await readShardIndex(indexFile);
  const files: string[] = [];
  for (const s of shards) {
    // A hostile index must not make us open files outside the folder (the name check is in readShardIndex).
    const file = resolveInside(dir, s, { origin: path.basename(indexFile), file: indexFile });
    if (!(await fs.stat(file).catch(() => undefined))) {
      throw new FineTuneError(
        'model-missing-shard',
        `the shard ${s} listed in ${path.basename(indexFile)} is missing`,
        {
          file: indexFile,
          fix: 'Download the missing shard into the folder.',
        },
      );
    }
    files.push(file);
  }
  return { kind: 'sharded', indexFile, shards: files, weightMap };
}

/** All tensors of the folder's weights, shards merged; throws before returning anything if a file is bad. */
export async function loadStateDict(folder: ModelFolder): Promise<Map<string, Tensor>> {
  const w = folder.weights;
  if (w.kind === 'none') return new Map();
  const read = async (file: string) =>
    (w.format === 'pytorch' ? await readTorchCheckpoint(file) : await readSafetensors(file)).tensors;
  if (w.kind === 'single') return read(w.file);
  const out = new Map<string, Tensor>();
  for (const shard of w.shards) {
    for (const [name, t] of await read(shard)) out.set(name, t);
  }
  for (const [name, shard] of w.weightMap) {
    if (!out.has(name)) {
      throw new FineTuneError(
        'model-missing-shard',
        `tensor '${name}' is listed in ${path.basename(w.indexFile)} for ${shard} but is not in it`,
        {
          file: w.indexFile,
          fix: 'The shard and the index do not match; download the model again.',
        },
      );
    }
  }
  return out;
}

/** Parameter names and shapes, from the headers (or the pickle) only: no weights are read. */
export async function readParameterInfo(folder: ModelFolder): Promise<Map<string, ParameterShape>> {
  const w = folder.weights;
  if (w.kind === 'none') return new Map();
  const files = w.kind === 'single' ? [w.file] : w.shards;
  const out = new Map<string, ParameterShape>();
  for (const f of files) {
    const infos = w.format === 'pytorch' ? await readTorchCheckpointInfo(f) : (await readSafetensorsHeader(f)).tensors;
    for (const [name, info] of infos) out.set(name, { shape: info.shape });
  }
  return out;
}

export interface ParameterShape {
  readonly shape: readonly number[];
}

function expandHome(p: string): string {
  if (p === '~' || p.startsWith('~/')) return path.join(process.env.HOME ?? process.env.USERPROFILE ?? '~', p.slice(1));
  return p;
}
