/**
 * `model.safetensors.index.json`: which shard file holds each tensor. The index comes from whoever made the model
 * (a Hub repo, a folder someone shared), so its shard names are checked as plain relative names before any shard
 * is requested or opened, and its size is bounded before it is parsed. One reader for the trainer, the Hub client
 * and the language server.
 */
import { promises as fs } from 'node:fs';
import { FineTuneError } from '../../common/errors';
import { checkRelativeName } from '../../common/safeName';

export const SHARD_INDEX_FILE = 'model.safetensors.index.json';

/** Real indexes are a few hundred kB even for models with thousands of tensors. */
export const MAX_SHARD_INDEX_BYTES = 32 * 1024 * 1024;

export interface ShardIndex {
  /** Tensor name -> shard file name (checked: a plain relative name). */
  weightMap: Map<string, string>;
  /** The distinct shard names, sorted. */
  shards: string[];
}

function badIndex(file: string, message: string, detail?: string): FineTuneError {
  return new FineTuneError('model-bad-index', `${file}: ${message}`, {
    file,
    ...(detail !== undefined ? { detail } : {}),
    fix: 'Restore the index file from the original model (it maps each tensor name to its shard file).',
  });
}

/** Parses and checks the text of an index; `file` names it in errors (a path, or "org/model: <file>"). */
export function parseShardIndex(text: string, file: string): ShardIndex {
  if (text.length > MAX_SHARD_INDEX_BYTES) throw badIndex(file, `it is larger than ${MAX_SHARD_INDEX_BYTES} bytes`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw badIndex(file, 'it is not valid JSON', e instanceof Error ? e.message : String(e));
  }
  const map = typeof raw === 'object' && raw !== null ? (raw as { weight_map?: unknown }).weight_map : undefined;
  if (typeof map !== 'object' || map === null || Array.isArray(map))
    throw badIndex(file, 'it has no weight_map object');
  const weightMap = new Map<string, string>();
  for (const [tensor, shard] of Object.entries(map)) {
    weightMap.set(tensor, checkRelativeName(shard, { origin: `the weight_map of ${file} (tensor '${tensor}')`, file }));
  }
  if (weightMap.size === 0) throw badIndex(file, 'its weight_map is empty');
  return { weightMap, shards: [...new Set(weightMap.values())].sort() };
}

/** Reads an index file from disk, refusing one that is not a regular file or is implausibly large. */
export async function readShardIndex(file: string): Promise<ShardIndex> {
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat?.isFile()) throw badIndex(file, 'it is not a regular file');
  if (stat.size > MAX_SHARD_INDEX_BYTES) throw badIndex(file, `it is larger than ${MAX_SHARD_INDEX_BYTES} bytes`);
  return parseShardIndex(await fs.readFile(file, 'utf8'), file);
}
