/**
 * What a PyTorch state dict's pickle may name, and nothing more: `collections.OrderedDict`, the tensor and
 * parameter rebuild functions of `torch._utils`, and the storage classes (`torch.FloatStorage`, ...). Each accepted
 * call builds inert data (a storage reference, a tensor view); every other global is refused with its name, so a
 * pickle that would run `os.system` is an error before anything happens. Tensor views are checked against their
 * storage here (offset, sizes, strides inside it), before any data is read.
 */
import { FineTuneError } from '../../../common/errors';
import { CONVERT_FIX, PyDict, PyGlobal, PyTuple, pickleError } from './pickle';
import type { PickleHost, PickleOrigin, PyValue } from './pickle';

/** The dtypes a storage class names; only the first four are read (others are refused with their name). */
export type TorchDtype = 'F32' | 'F16' | 'BF16' | 'I64' | 'F64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const READABLE_DTYPES: ReadonlySet<TorchDtype> = new Set(['F32', 'F16', 'BF16', 'I64']);

const STORAGE_CLASSES = new Map<string, { dtype: TorchDtype; bytes: number }>([
  ['FloatStorage', { dtype: 'F32', bytes: 4 }],
  ['HalfStorage', { dtype: 'F16', bytes: 2 }],
  ['BFloat16Storage', { dtype: 'BF16', bytes: 2 }],
  ['LongStorage', { dtype: 'I64', bytes: 8 }],
  ['DoubleStorage', { dtype: 'F64', bytes: 8 }],
  ['IntStorage', { dtype: 'I32', bytes: 4 }],
  ['ShortStorage', { dtype: 'I16', bytes: 2 }],
  ['CharStorage', { dtype: 'I8', bytes: 1 }],
  ['ByteStorage', { dtype: 'U8', bytes: 1 }],
  ['BoolStorage', { dtype: 'BOOL', bytes: 1 }],
]);

/** A tensor that broadcasts one stored value over many (stride 0) may not claim more than this. */
const MAX_EXPANDED_ELEMENTS = 1 << 20;

export class StorageClass extends PyGlobal {
  constructor(
    name: string,
    readonly dtype: TorchDtype,
    readonly bytes: number,
  ) {
    super(`torch.${name}`);
  }
}

/** A storage a persistent id named: its key (the zip entry `data/<key>`), dtype and length in elements. */
export interface StorageRef {
  readonly host: 'storage';
  readonly key: string;
  readonly cls: StorageClass;
  readonly numel: number;
}

export interface TensorRef {
  readonly host: 'tensor';
  readonly storage: StorageRef;
  readonly offset: number;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
}

export function isTensorRef(v: PyValue): v is TensorRef {
  return typeof v === 'object' && v !== null && 'host' in v && v.host === 'tensor';
}

export function isStorageRef(v: PyValue): v is StorageRef {
  return typeof v === 'object' && v !== null && 'host' in v && v.host === 'storage';
}

/** Turns a persistent id into a storage (the zip and legacy formats differ here only). */
export type PersistentLoad = (pid: readonly PyValue[], at: number) => StorageRef;

export function torchPickleHost(origin: PickleOrigin, load: PersistentLoad): PickleHost {
  const fail = (at: number, message: string) => pickleError(origin, at, message);
  const rebuild = (args: readonly PyValue[], at: number, min: number, max: number) => {
    if (args.length < min || args.length > max) throw fail(at, `a tensor is rebuilt with ${args.length} arguments`);
    return tensorRef(args, at, fail);
  };
  const parameter = (args: readonly PyValue[], at: number) => {
    const data = args[0];
    if (args.length < 3 || args.length > 4 || data === undefined || !isTensorRef(data)) {
      throw fail(at, 'a Parameter is rebuilt from something that is not a tensor');
    }
    return data;
  };
  const functions = new Map<string, (args: readonly PyValue[], at: number) => PyValue>([
    ['collections.OrderedDict', (args, at) => (args.length === 0 ? new PyDict() : emptyOnly(fail, at))],
    ['torch._utils._rebuild_tensor_v2', (args, at) => rebuild(args, at, 6, 7)],
    ['torch._utils._rebuild_tensor', (args, at) => rebuild(args, at, 4, 4)],
    ['torch._utils._rebuild_parameter', parameter],
    ['torch._utils._rebuild_parameter_with_state', parameter],
  ]);
  return {
    global(module, name, at) {
      const qualified = `${module}.${name}`;
      const fn = functions.get(qualified);
      if (fn !== undefined) return new PyGlobal(qualified, fn);
      const storage = module === 'torch' ? STORAGE_CLASSES.get(name) : undefined;
      if (storage !== undefined) return new StorageClass(name, storage.dtype, storage.bytes);
      throw refusedGlobal(origin, at, qualified);
    },
    persistentLoad(pid, at) {
      if (!(pid instanceof PyTuple)) throw fail(at, 'a persistent id that is not a tuple');
      return load(pid.items, at);
    },
  };
}

function emptyOnly(fail: (at: number, m: string) => FineTuneError, at: number): never {
  throw fail(at, 'OrderedDict is called with arguments');
}

export function refusedGlobal(origin: PickleOrigin, at: number, qualified: string): FineTuneError {
  return new FineTuneError(
    'torch-unsafe-global',
    `${origin.file} (${origin.part}, byte ${at}) asks to call ${qualified}, which a PyTorch state dict never ` +
      'needs; nothing was run. A pickle that names other functions may be trying to run code on your machine.',
    { file: origin.file, fix: CONVERT_FIX },
  );
}

function tensorRef(args: readonly PyValue[], at: number, fail: (at: number, m: string) => FineTuneError): TensorRef {
  const [storage, offset, size, stride] = args;
  if (storage === undefined || !isStorageRef(storage)) throw fail(at, 'a tensor without a storage');
  const shape = intTuple(size, at, fail, 'size');
  const strides = intTuple(stride, at, fail, 'stride');
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw fail(at, `a tensor with storage offset ${String(offset)}`);
  }
  if (shape.length !== strides.length) throw fail(at, `a tensor of ${shape.length} dims has ${strides.length} strides`);
  const elements = shape.reduce((a, d) => a * d, 1);
  if (elements > 0) {
    const last = offset + shape.reduce((a, d, i) => a + (d - 1) * strides[i]!, 0);
    if (!Number.isSafeInteger(last) || last >= storage.numel) {
      throw fail(
        at,
        `a tensor view [${shape.join(', ')}] (offset ${offset}) reaches past its ${storage.numel}-element storage`,
      );
    }
    if (elements > Math.max(storage.numel, MAX_EXPANDED_ELEMENTS)) {
      throw fail(at, `a tensor expands ${storage.numel} stored elements to ${elements}`);
    }
  }
  return { host: 'tensor', storage, offset, shape, stride: strides };
}

function intTuple(v: PyValue | undefined, at: number, fail: (at: number, m: string) => FineTuneError, what: string) {
  if (!(v instanceof PyTuple)) throw fail(at, `a tensor ${what} that is not a tuple`);
  if (v.items.length > 16) throw fail(at, `a tensor with ${v.items.length} dims`);
  return v.items.map((d) => {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) throw fail(at, `a tensor ${what} of ${String(d)}`);
    return d;
  });
}

/** A persistent id's `('storage', cls, key, location, numel, ...)` fields, checked. */
export function storageFields(pid: readonly PyValue[], at: number, origin: PickleOrigin) {
  const [tag, cls, key, location, numel] = pid;
  if (tag !== 'storage') throw pickleError(origin, at, `a persistent id of kind ${String(tag)}`, 'torch-unsafe-pickle');
  if (!(cls instanceof StorageClass)) throw pickleError(origin, at, 'a storage whose class is not a storage class');
  if (typeof key !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(key))
    throw pickleError(origin, at, 'a bad storage key');
  if (typeof location !== 'string') throw pickleError(origin, at, 'a storage without a device');
  const n = typeof numel === 'bigint' && numel <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(numel) : numel;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw pickleError(origin, at, `a storage of ${String(numel)} elements`);
  }
  return { cls, key, numel: n };
}
