/**
 * The Node implementation of `ConfigFileHost`: answers the config checks (columns, labels, model folders,
 * tokenizers) from the real file system, reading only headers. The trainer uses it before a run and the
 * language server on every change, so it must stay cheap and must not import tfjs.
 */
import * as path from 'node:path';
import type { ConfigFileHost, Lookup, ModelInfo } from '../common/config/fileChecks';
import type { SnapshotFiles } from '../common/config/hubModel';
import type { ParamInfo } from '../common/bertParams';
import { bertParameters } from '../common/bertParams';
import { HubCacheRepo, hubCacheLocation } from './hf/hubCache';
import { readSample, summarizeSample } from './data/sample';
import { readParquetInfo } from './data/parquet';
import { cachedSplitFiles } from './hf/datasetSplits';
import { readBertConfig } from './hf/bertConfig';
import { familyOf } from '../common/modelFamilies';
import { readSafetensorsHeader } from './hf/safetensors';
import { readShardIndex, SHARD_INDEX_FILE } from './hf/shardIndex';
import { readTorchCheckpointInfo, TORCH_INDEX_FILE, TORCH_WEIGHTS_FILE } from './hf/torchBin/torchBin';
import { resolveInside } from '../common/safeName';
import { FineTuneError } from '../common/errors';
import { isDirectory, pathExists } from '../common/fsProbe';

function reasonOf(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}

/** A failed data read as the checks take it: the reason, and the code for those that are not the file's fault. */
function failure(e: unknown): { ok: false; reason: string; code?: string } {
  if (!(e instanceof FineTuneError)) return { ok: false, reason: reasonOf(e) };
  // "line 7 has 3 fields" needs the file's name; "/ws/a.csv is empty" has it already.
  const where = e.file !== undefined && !e.message.includes(e.file) ? `${path.basename(e.file)}: ` : '';
  const fix = e.fix !== undefined && e.code !== 'data-read-cancelled' ? ` ${e.fix}` : '';
  return { ok: false, reason: `${where}${e.message}.${fix}`, code: e.code };
}

/**
 * Parameter names as we name them: checkpoints of a bare encoder (BertModel, RobertaModel, ...) have no `bert.` /
 * `roberta.` prefix.
 */
export function canonicalParamNames(params: ParamInfo[], modelType?: string): ParamInfo[] {
  const bare = /^(embeddings|encoder|pooler|transformer|embeddings_project)\./;
  const prefix = familyOf(modelType).prefix;
  return params
    .filter((p) => !p.name.endsWith('.position_ids'))
    .map((p) => ({
      name: (bare.test(p.name) ? `${prefix}.${p.name}` : p.name)
        .replace(/\.gamma$/, '.weight')
        .replace(/\.beta$/, '.bias'),
      shape: p.shape,
    }));
}

/**
 * config.json and the safetensors header(s) (or pytorch_model.bin's pickle) of a model folder; never the weights.
 * This does what hf/modelFolder.ts's resolveModelFolder checks for a local folder, without its Hub client, whose
 * import of transformers.js costs the language server a second at start-up.
 */
export async function inspectModelFolder(dir: string): Promise<Lookup<ModelInfo>> {
  const read = await readModelFolder(dir, false);
  return read.ok ? { ok: true, value: read.value.info } : read;
}

/**
 * A snapshot of the Hub cache, read as a folder; without its weights (a run downloads them when online) the
 * parameters come from config.json. undefined when the snapshot has no config.json: nothing is known of it.
 */
export async function inspectHubSnapshot(dir: string): Promise<Lookup<ModelInfo & SnapshotFiles> | undefined> {
  if (!(await pathExists(path.join(dir, 'config.json')))) return undefined;
  const read = await readModelFolder(dir, true);
  if (!read.ok) return read;
  const tokenizer = await anyExists(TOKENIZER_FILES.map((f) => path.join(dir, f)));
  return { ok: true, value: { ...read.value.info, complete: read.value.complete, tokenizer } };
}

/** What trainer/hf/tokenizer.ts loads a tokenizer from (vocab.json with its merges.txt). */
const TOKENIZER_FILES = ['tokenizer.json', 'vocab.txt', 'vocab.json'];

async function anyExists(files: readonly string[]): Promise<boolean> {
  for (const f of files) if (await pathExists(f)) return true;
  return false;
}

async function readModelFolder(
  dir: string,
  weightsOptional: boolean,
): Promise<Lookup<{ info: ModelInfo; complete: boolean }>> {
  try {
    const config = await readBertConfig(path.join(dir, 'config.json'));
    const weights = await weightFiles(dir);
    const complete = weights !== undefined && (await allExist(weights.files));
    if (!complete && weightsOptional) {
      const parameters = bertParameters(config, 'sequence-classification');
      return { ok: true, value: { info: { source: dir, config, parameters }, complete } };
    }
    if (weights === undefined) return { ok: false, reason: await noWeights(dir) };
    const parameters: ParamInfo[] = [];
    for (const f of weights.files) {
      const infos = weights.pytorch ? await readTorchCheckpointInfo(f) : (await readSafetensorsHeader(f)).tensors;
      for (const [name, t] of infos) parameters.push({ name, shape: [...t.shape] });
    }
    const info = { source: dir, config, parameters: canonicalParamNames(parameters, config.model_type) };
    return { ok: true, value: { info, complete } };
  } catch (e) {
    const reason = reasonOf(e).replace(/\.?$/, '.');
    return { ok: false, reason: e instanceof FineTuneError && e.fix ? `${reason} ${e.fix}` : reason };
  }
}

async function allExist(files: readonly string[]): Promise<boolean> {
  for (const f of files) if (!(await pathExists(f))) return false;
  return true;
}

async function noWeights(dir: string): Promise<string> {
  const others: string[] = [];
  for (const f of ['tf_model.h5', 'flax_model.msgpack']) if (await pathExists(path.join(dir, f))) others.push(f);
  return others.length
    ? `${dir} has its weights only as ${others.join(', ')} (TensorFlow or Flax); convert them to model.safetensors in Python: \`AutoModel.from_pretrained(dir, from_tf=True).save_pretrained(dir)\`.`
    : `${dir} has config.json but no model.safetensors or pytorch_model.bin. Copy the model's weights into the folder.`;
}

/** The weight files of a folder, in transformers' order of preference: safetensors first, then PyTorch's. */
async function weightFiles(dir: string): Promise<{ files: string[]; pytorch: boolean } | undefined> {
  const choices = [
    { single: 'model.safetensors', index: SHARD_INDEX_FILE, pytorch: false },
    { single: TORCH_WEIGHTS_FILE, index: TORCH_INDEX_FILE, pytorch: true },
  ];
  for (const c of choices) {
    if (await pathExists(path.join(dir, c.single))) return { files: [path.join(dir, c.single)], pytorch: c.pytorch };
    const indexFile = path.join(dir, c.index);
    if (await pathExists(indexFile)) {
      const where = { origin: c.index, file: indexFile };
      const files = (await readShardIndex(indexFile)).shards.map((f) => resolveInside(dir, f, where));
      return { files, pytorch: c.pytorch };
    }
  }
  return undefined;
}

export function nodeConfigHost(configDir: string): ConfigFileHost {
  const resolve = (p: string) => (path.isAbsolute(p) ? p : path.resolve(configDir, p));
  return {
    resolve,
    fileExists: pathExists,
    async readColumns(absPath, signal) {
      try {
        return {
          ok: true,
          value: (await readSample(absPath, { ...(signal ? { signal } : {}), maxRows: 100 })).columns,
        };
      } catch (e) {
        return failure(e);
      }
    },
    async sampleColumns(absPath, signal) {
      try {
        return { ok: true, value: summarizeSample(await readSample(absPath, signal ? { signal } : {})) };
      } catch (e) {
        return failure(e);
      }
    },
    async localModel(nameOrPath) {
      const dir = resolve(nameOrPath);
      if (!(await isDirectory(dir))) return undefined;
      return inspectModelFolder(dir);
    },
    async localTokenizer(nameOrPath) {
      const dir = resolve(nameOrPath);
      if (!(await isDirectory(dir))) return undefined;
      if ((await pathExists(path.join(dir, 'tokenizer.json'))) || (await pathExists(path.join(dir, 'vocab.txt'))))
        return { ok: true, value: true };
      return { ok: false, reason: `${nameOrPath} has neither tokenizer.json nor vocab.txt.` };
    },
    async hubModelCache(id) {
      // Read from the environment on each call: it is the one the trainer would get (HF_HOME, HF_HUB_OFFLINE, ...).
      const { cacheDir, offline } = hubCacheLocation();
      const repo = new HubCacheRepo(cacheDir, id);
      return { dir: repo.dir, offline, refs: await repo.refs(), snapshots: await repo.snapshots() };
    },
    async hubSnapshotModel(id, sha) {
      return inspectHubSnapshot(new HubCacheRepo(hubCacheLocation().cacheDir, id).snapshotDir(sha));
    },
    async hubDatasetColumns(q) {
      try {
        const files = await cachedSplitFiles(q);
        return files === undefined
          ? undefined
          : { ok: true, value: (await readParquetInfo(files[0] as string)).columns };
      } catch (e) {
        return failure(e);
      }
    },
  };
}
