/**
 * The two layouts `torch.save` has written: the zip archive (PyTorch >= 1.6: `<archive>/data.pkl` plus one entry
 * `<archive>/data/<key>` per storage) and the legacy stream (older PyTorch, still the only weights file of many
 * early Hub models: five pickles (magic number, protocol version, system info, the object, the storage keys), then
 * each storage as an 8-byte element count and its bytes). Both end as the same thing: the state dict's tensor views
 * and a way to read each storage's bytes, every size checked against the file before it is read.
 */
import { FineTuneError } from '../../../common/errors';
import { PyDict, PyList, pickleError, unpickle, type PickleOrigin, type PyValue } from './pickle';
import { isTensorRef, storageFields, torchPickleHost, type StorageRef, type TensorRef } from './torchHost';
import { looksLikeZip, readZipDirectory, readZipEntry, zipCorrupt, type ZipEntry } from './zip';
import type { ByteSource } from './source';

/** A BERT-large state dict's pickle is about 40 kB; LLM shards a few MB. */
export const MAX_PICKLE_BYTES = 64 * 1024 * 1024;

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

export interface OpenCheckpoint {
  format: 'zip' | 'legacy';
  /** The state dict's tensors, in the pickle's order. */
  tensors: Map<string, TensorRef>;
  /** Where each storage's bytes start (to read them in file order). */
  position(storage: StorageRef): number;
  /** The storage's bytes (exactly numel × element size), into `into` when given. */
  read(storage: StorageRef, into?: Uint8Array): Promise<Uint8Array>;
}

export async function openCheckpoint(src: ByteSource): Promise<OpenCheckpoint> {
  if (await looksLikeZip(src)) return openZip(src);
  if (src.size >= 2 && (await src.read(0, 2))[0] === 0x80) return openLegacy(src);
  throw new FineTuneError('torch-corrupt', `${src.name} is not a PyTorch checkpoint (neither a zip nor a pickle)`, {
    file: src.name,
    fix: 'Check the file: torch.save writes a zip archive (PyTorch >= 1.6) or a pickle stream (older versions).',
  });
}

async function openZip(src: ByteSource): Promise<OpenCheckpoint> {
  const entries = await readZipDirectory(src);
  const pkls = [...entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkls.length !== 1) {
    throw zipCorrupt(src, pkls.length ? 'it has more than one data.pkl' : 'it has no <archive>/data.pkl entry');
  }
  const pklName = pkls[0]!;
  const prefix = pklName.slice(0, -'data.pkl'.length);
  await checkByteOrder(src, entries.get(`${prefix}byteorder`));
  const pkl = entries.get(pklName)!;
  if (pkl.size > MAX_PICKLE_BYTES) throw zipCorrupt(src, `its data.pkl is ${pkl.size} bytes, beyond any state dict`);
  const origin = { file: src.name, part: pklName };
  const located = new Map<string, ZipEntry>();
  const host = torchPickleHost(origin, (pid, at) => {
    const { cls, key, numel } = storageFields(pid, at, origin);
    const entry = entries.get(`${prefix}data/${key}`);
    if (entry === undefined) throw pickleError(origin, at, `storage ${key} has no entry ${prefix}data/${key}`);
    if (entry.size !== numel * cls.bytes) {
      throw pickleError(
        origin,
        at,
        `storage ${key} holds ${entry.size} bytes, but ${numel} × ${cls.qualifiedName} need ${numel * cls.bytes}`,
      );
    }
    located.set(key, entry);
    return { host: 'storage', key, cls, numel };
  });
  const { value } = unpickle(await readZipEntry(src, pkl), 0, host, origin);
  return {
    format: 'zip',
    tensors: stateDictOf(value, origin),
    position: (s) => located.get(s.key)!.dataOffset,
    read: (s, into) => readZipEntry(src, located.get(s.key)!, into),
  };
}

async function checkByteOrder(src: ByteSource, entry: ZipEntry | undefined): Promise<void> {
  if (entry === undefined) return; // PyTorch before 1.13 wrote none, and only little-endian machines.
  const order = entry.size <= 16 ? new TextDecoder().decode(await readZipEntry(src, entry)).trim() : '?';
  if (order !== 'little') {
    throw new FineTuneError('torch-unsupported-dtype', `${src.name} was saved on a ${order}-endian machine`, {
      file: src.name,
      fix: 'Load and re-save it with torch on a little-endian machine, or convert it to safetensors.',
    });
  }
}

async function openLegacy(src: ByteSource): Promise<OpenCheckpoint> {
  const bytes = await src.read(0, Math.min(src.size, MAX_PICKLE_BYTES));
  const origin = { file: src.name, part: 'legacy pickle' };
  const storages = new Map<string, StorageRef>();
  const host = torchPickleHost(origin, (pid, at) => {
    const { cls, key, numel } = storageFields(pid, at, origin);
    if (pid[5] !== null) {
      throw pickleError(origin, at, 'a storage view (written by torch < 1.0)', 'torch-unsupported-format');
    }
    const known = storages.get(key);
    const ref: StorageRef = known ?? { host: 'storage', key, cls, numel };
    storages.set(key, ref);
    return ref;
  });
  let next = 0;
  const read = (part: string): PyValue => {
    const r = unpickle(bytes, next, host, { ...origin, part });
    next = r.end;
    return r.value;
  };
  if (read('magic number') !== LEGACY_MAGIC) throw notTorch(src);
  if (read('protocol version') !== LEGACY_PROTOCOL) throw notTorch(src);
  checkSysInfo(read('system info'), src);
  const tensors = stateDictOf(read('legacy pickle'), origin);
  const keys = read('storage keys');
  const positions = await legacyStorageOffsets(src, keys, storages, next);
  return {
    format: 'legacy',
    tensors,
    position: (s) => positions.get(s.key)!,
    read: (s, into) => src.read(positions.get(s.key)!, s.numel * s.cls.bytes, into),
  };
}

function notTorch(src: ByteSource): FineTuneError {
  return new FineTuneError('torch-unsupported-format', `${src.name} is a pickle, but not one torch.save wrote`, {
    file: src.name,
    fix: 'Only state dicts saved with torch.save are read; convert the file to safetensors in Python.',
  });
}

function checkSysInfo(info: PyValue, src: ByteSource): void {
  if (!(info instanceof PyDict) || info.entries.get('little_endian') !== true) {
    throw new FineTuneError('torch-unsupported-format', `${src.name} was not saved on a little-endian machine`, {
      file: src.name,
      fix: 'Re-save it with torch >= 1.6 on a little-endian machine, or convert it to safetensors.',
    });
  }
}

/** After the pickles: for each key in order, an int64 element count and the storage's bytes. */
async function legacyStorageOffsets(
  src: ByteSource,
  keys: PyValue,
  storages: ReadonlyMap<string, StorageRef>,
  start: number,
): Promise<Map<string, number>> {
  if (!(keys instanceof PyList)) throw legacyCorrupt(src, 'the storage key list is missing');
  const out = new Map<string, number>();
  let at = start;
  for (const key of keys.items) {
    const storage = typeof key === 'string' ? storages.get(key) : undefined;
    if (storage === undefined || out.has(storage.key))
      throw legacyCorrupt(src, `unexpected storage key ${String(key)}`);
    const head = await src.read(at, 8);
    const count = new DataView(head.buffer, head.byteOffset, 8).getBigInt64(0, true);
    if (count !== BigInt(storage.numel)) {
      throw legacyCorrupt(src, `storage ${storage.key} has ${count} elements, its tensors say ${storage.numel}`);
    }
    out.set(storage.key, at + 8);
    at += 8 + storage.numel * storage.cls.bytes;
    if (at > src.size) throw legacyCorrupt(src, `storage ${storage.key} runs past the end of the file (truncated)`);
  }
  for (const key of storages.keys()) if (!out.has(key)) throw legacyCorrupt(src, `storage ${key} has no data`);
  return out;
}

function legacyCorrupt(src: ByteSource, message: string): FineTuneError {
  return new FineTuneError('torch-corrupt', `${src.name} is not a valid PyTorch checkpoint: ${message}`, {
    file: src.name,
    fix: 'The file is damaged or truncated; download or save it again.',
  });
}

/** The tensors of a state dict (a dict or OrderedDict of name -> tensor); other values are not weights. */
function stateDictOf(value: PyValue, origin: PickleOrigin): Map<string, TensorRef> {
  if (!(value instanceof PyDict)) throw notStateDict(origin, 'it does not hold a dict of tensors');
  const out = new Map<string, TensorRef>();
  const nested: string[] = [];
  for (const [k, v] of value.entries) {
    if (typeof k === 'string' && isTensorRef(v)) out.set(k, v);
    else if (typeof k === 'string' && v instanceof PyDict) nested.push(k);
  }
  if (out.size === 0) {
    const hint = nested.length ? ` (it holds ${nested.slice(0, 3).join(', ')}: a training checkpoint?)` : '';
    throw notStateDict(origin, `it holds no tensors${hint}`);
  }
  return out;
}

function notStateDict(origin: PickleOrigin, why: string): FineTuneError {
  return new FineTuneError('torch-not-state-dict', `${origin.file} is not a model's state dict: ${why}`, {
    file: origin.file,
    fix: "Save the model's weights with model.save_pretrained(folder) or torch.save(model.state_dict(), file).",
  });
}
