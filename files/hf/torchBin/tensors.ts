/**
 * From storages to the reader's tensors: each storage's bytes decoded once (float16 and bfloat16 widened to
 * float32, int64 narrowed to int32 when it fits, as the safetensors reader does), then each tensor gathered from
 * its view (offset and strides), so tied weights that share a storage, transposed views and slices read right.
 */
import { FineTuneError } from '../../../common/errors';
import { halfToFloat, type Tensor } from '../safetensors';
import { READABLE_DTYPES, type StorageRef, type TensorRef, type TorchDtype } from './torchHost';

export type StorageData = Float32Array | Int32Array;

/** Decodes a storage's little-endian bytes. */
export function decodeStorage(bytes: Uint8Array, dtype: TorchDtype, file: string, key: string): StorageData {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(bytes.byteLength / 4);
      new Uint8Array(out.buffer).set(bytes);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(bytes.byteLength / 2);
      for (let i = 0; i < out.length; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(bytes.byteLength / 2);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < out.length; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    case 'I64': {
      const out = new Int32Array(bytes.byteLength / 8);
      for (let i = 0; i < out.length; i++) {
        const x = view.getBigInt64(i * 8, true);
        if (x > 2147483647n || x < -2147483648n) {
          throw new FineTuneError('torch-corrupt', `${file}: storage ${key} (int64) holds ${x}, beyond 32 bits`, {
            file,
            fix: 'Only int64 buffers with small values (position_ids, token_type_ids) can be read.',
          });
        }
        out[i] = Number(x);
      }
      return out;
    }
    default:
      throw unreadableDtype(file, key, dtype);
  }
}

export function unreadableDtype(file: string, what: string, dtype: TorchDtype): FineTuneError {
  return new FineTuneError('torch-unsupported-dtype', `${file}: ${what} is ${dtype}, which is not read here`, {
    file,
    fix:
      `Only ${[...READABLE_DTYPES].join(', ')} tensors are read. Convert the model in Python ` +
      '(model.float().save_pretrained(folder, safe_serialization=True)) and point name_or_path at that folder.',
  });
}

/** The tensor's elements in row-major order (a copy, unless the view is the whole storage, used once). */
export function gather(t: TensorRef, data: StorageData, reuse: boolean): Tensor {
  const shape = [...t.shape];
  const count = shape.reduce((a, d) => a * d, 1);
  if (isContiguous(t)) {
    if (reuse && t.offset === 0 && count === data.length) return { shape, data };
    return { shape, data: data.slice(t.offset, t.offset + count) };
  }
  const out = data instanceof Float32Array ? new Float32Array(count) : new Int32Array(count);
  const index = new Array<number>(shape.length).fill(0);
  let source = t.offset;
  for (let i = 0; i < count; i++) {
    out[i] = data[source]!;
    // Odometer over the dims, last fastest, moving the source by each dim's stride.
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d]!++;
      source += t.stride[d]!;
      if (index[d]! < shape[d]!) break;
      source -= t.stride[d]! * shape[d]!;
      index[d] = 0;
    }
  }
  return { shape, data: out };
}

function isContiguous(t: TensorRef): boolean {
  let expected = 1;
  for (let d = t.shape.length - 1; d >= 0; d--) {
    if (t.shape[d] !== 1 && t.stride[d] !== expected) return false;
    expected *= t.shape[d]!;
  }
  return true;
}

/** The storages in the order their data lies in the file, each with the tensors that view it. */
export function groupByStorage(tensors: ReadonlyMap<string, TensorRef>, file: string): Map<string, StorageGroup> {
  const out = new Map<string, StorageGroup>();
  for (const [name, t] of tensors) {
    const group = out.get(t.storage.key) ?? { storage: t.storage, tensors: [] };
    // One storage key, one storage: a forged pickle must not read the same bytes as two dtypes or lengths.
    if (group.storage.cls.dtype !== t.storage.cls.dtype || group.storage.numel !== t.storage.numel) {
      throw new FineTuneError('torch-corrupt', `${file}: storage ${t.storage.key} is described twice, differently`, {
        file,
        fix: 'The file is damaged or forged; download or save it again.',
      });
    }
    group.tensors.push([name, t]);
    out.set(t.storage.key, group);
  }
  return out;
}

export interface StorageGroup {
  storage: StorageRef;
  tensors: [string, TensorRef][];
}
