/**
 * Resolves a config's `name_or_path` to a model folder: a local folder, or a Hub id fetched into the cache.
 * Checks what the folder holds (config.json, safetensors weights, single or sharded) and explains what is
 * missing; loads the state dict, or only the parameter names and shapes.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FineTuneError } from '../../common/errors';
import { readBertConfig, type BertConfig } from '../../files/hf/bertConfig';
import { fetchHubModel, isHubId, type HubOptions } from './hub';
import { readSafetensors, readSafetensorsHeader, type Tensor, type TensorInfo } from '../../files/hf/safetensors';
import { readShardIndex } from '../../files/hf/shardIndex';
import { resolveInside } from '../../common/safeName';
import { isLocalReference, missingPathMessage } from '../../common/localPath';
import { pathExists } from '../../common/fsProbe';

export type Weights =
  | { kind: 'single'; file: string }
  | { kind: 'sharded'; indexFile: string; shards: string[]; weightMap: Map<string, string> }
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
  let weights: Weights;
  if (await has('model.safetensors')) {
    weights = { kind: 'single', file: path.join(dir, 'model.safetensors') };
  } else if (await has('model.safetensors.index.json')) {
    weights = await readIndex(dir, path.join(dir, 'model.safetensors.index.json'));
  } else {
    weights = { kind: 'none' };
    if (requireWeights) {
      const pickles = ['pytorch_model.bin', 'pytorch_model.bin.index.json', 'tf_model.h5', 'flax_model.msgpack'];
      const found: string[] = [];
      for (const p of pickles) if (await has(p)) found.push(p);
      const where = hubId ?? dir;
      if (found.length > 0) {
        throw new FineTuneError(
          'model-pytorch-only',
          `${dir} has weights only as ${found.join(', ')}, which cannot be read here (only safetensors can)`,
          {
            file: dir,
            detail: 'PyTorch .bin files are Python pickles; reading them safely needs Python.',
            fix:
              `Convert once in Python: from transformers import AutoModelForPreTraining; ` +
              `AutoModelForPreTraining.from_pretrained('${where}').save_pretrained('${where}', safe_serialization=True) ` +
              `(use the model's own class, e.g. AutoModelForSequenceClassification, to keep a classification head).`,
          },
        );
      }
      throw new FineTuneError('model-missing-weights', `${dir} has config.json but no model.safetensors`, {
        file: dir,
        fix: 'Copy the weights (model.safetensors) into the folder, or set init: scratch to train from a random initialisation.',
      });
    }
  }
  return { dir, config, configFile, weights, source };
}

async function readIndex(dir: string, indexFile: string): Promise<Weights> {
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
  if (w.kind === 'single') return (await readSafetensors(w.file)).tensors;
  const out = new Map<string, Tensor>();
  for (const shard of w.shards) {
    for (const [name, t] of (await readSafetensors(shard)).tensors) out.set(name, t);
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

/** Parameter names, dtypes and shapes, from the headers only (cheap; the language server uses it). */
export async function readParameterInfo(folder: ModelFolder): Promise<Map<string, TensorInfo>> {
  const w = folder.weights;
  const files = w.kind === 'single' ? [w.file] : w.kind === 'sharded' ? w.shards : [];
  const out = new Map<string, TensorInfo>();
  for (const f of files) for (const [name, info] of (await readSafetensorsHeader(f)).tensors) out.set(name, info);
  return out;
}

function expandHome(p: string): string {
  if (p === '~' || p.startsWith('~/')) return path.join(process.env.HOME ?? process.env.USERPROFILE ?? '~', p.slice(1));
  return p;
}
