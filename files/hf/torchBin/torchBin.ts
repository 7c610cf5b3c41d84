/**
 * Reads `pytorch_model.bin` (and the shards of `pytorch_model.bin.index.json`) without Python and without running
 * anything the file says: the pickle machine builds only data, and only torch's tensor-describing globals are
 * accepted (see pickle.ts and torchHost.ts). The result has the shape of the safetensors reader's, so a model folder
 * with only `.bin` weights loads through the same path, and is saved back as safetensors.
 */
import type { Tensor } from '../safetensors';
import { openCheckpoint, type OpenCheckpoint } from './formats';
import { bufferSource, fileSource, type ByteSource } from './source';
import { decodeStorage, gather, groupByStorage, unreadableDtype } from './tensors';
import { READABLE_DTYPES, type StorageRef, type TorchDtype } from './torchHost';

export const TORCH_WEIGHTS_FILE = 'pytorch_model.bin';
export const TORCH_INDEX_FILE = 'pytorch_model.bin.index.json';

export interface TorchCheckpoint {
  readonly format: 'zip' | 'legacy';
  readonly tensors: Map<string, Tensor>;
  /** The dtype each tensor had on disk, before conversion. */
  readonly sourceDtypes: Map<string, TorchDtype>;
}

export interface TorchTensorInfo {
  readonly dtype: TorchDtype;
  readonly shape: readonly number[];
}

/** Every tensor of the file; throws before returning anything if any part is wrong or refused. */
export async function readTorchCheckpoint(file: string): Promise<TorchCheckpoint> {
  return withSource(await fileSource(file), readAll);
}

/** Parses a checkpoint held in memory (tests, fuzzing); `name` is only used in error messages. */
export async function parseTorchCheckpoint(bytes: Uint8Array, name = '<buffer>'): Promise<TorchCheckpoint> {
  return withSource(bufferSource(bytes, name), readAll);
}

/** Names, dtypes and shapes from the pickle alone: no tensor data is read (the language server uses this). */
export async function readTorchCheckpointInfo(file: string): Promise<Map<string, TorchTensorInfo>> {
  return withSource(await fileSource(file), async (src) => {
    const ckpt = await openCheckpoint(src);
    const out = new Map<string, TorchTensorInfo>();
    for (const [name, t] of ckpt.tensors) out.set(name, { dtype: t.storage.cls.dtype, shape: [...t.shape] });
    return out;
  });
}

async function withSource<T>(src: ByteSource, body: (src: ByteSource) => Promise<T>): Promise<T> {
  try {
    return await body(src);
  } finally {
    await src.close();
  }
}

/** Storages in file order, each decoded once and dropped once its tensors are gathered. */
async function readAll(src: ByteSource): Promise<TorchCheckpoint> {
  const ckpt = await openCheckpoint(src);
  const groups = [...groupByStorage(ckpt.tensors, src.name).values()];
  for (const g of groups) {
    const dtype = g.storage.cls.dtype;
    if (!READABLE_DTYPES.has(dtype)) throw unreadableDtype(src.name, `tensor '${g.tensors[0]![0]}'`, dtype);
  }
  groups.sort((a, b) => ckpt.position(a.storage) - ckpt.position(b.storage));
  const gathered = new Map<string, Tensor>();
  for (const g of groups) {
    const data = await storageData(ckpt, g.storage, src.name);
    for (const [name, t] of g.tensors) gathered.set(name, gather(t, data, g.tensors.length === 1));
  }
  const tensors = new Map<string, Tensor>();
  const sourceDtypes = new Map<string, TorchDtype>();
  for (const [name, t] of ckpt.tensors) {
    tensors.set(name, gathered.get(name)!);
    sourceDtypes.set(name, t.storage.cls.dtype);
  }
  return { format: ckpt.format, tensors, sourceDtypes };
}

async function storageData(ckpt: OpenCheckpoint, storage: StorageRef, file: string) {
  // float32 is read straight into the array that the tensors use: a 1.3 GB model is not held twice.
  if (storage.cls.dtype === 'F32') {
    const out = new Float32Array(storage.numel);
    await ckpt.read(storage, new Uint8Array(out.buffer));
    return out;
  }
  return decodeStorage(await ckpt.read(storage), storage.cls.dtype, file, storage.key);
}
