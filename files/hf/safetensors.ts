/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length,
 * a JSON header `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {string: string}}`,
 * then the raw little-endian tensor bytes. We read every dtype that BERT checkpoints use and hand back
 * Float32 (floats) or Int32 (integers); we write F32 and I32.
 */
import { promises as fs } from 'node:fs';
import { FineTuneError } from '../../common/errors';
import { writeFileAtomic } from '../../common/atomicWrite';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** The reference implementation refuses headers above 100 MB; so do we, before allocating them. */
const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Byte range relative to the start of the data section. */
  readonly dataOffsets: readonly [number, number];
}

export interface SafetensorsHeader {
  /** In file order (by data offset). */
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  readonly metadata: Readonly<Record<string, string>>;
  /** Absolute file offset where the data section starts (8 + header length). */
  readonly dataStart: number;
}

export interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

export interface SafetensorsFile {
  readonly tensors: Map<string, Tensor>;
  readonly metadata: Record<string, string>;
  /** The dtype each tensor had on disk, before conversion. */
  readonly sourceDtypes: Map<string, SafetensorsDtype>;
}

function corrupt(file: string, message: string, detail?: string): FineTuneError {
  return new FineTuneError('safetensors-corrupt', `${file} is not a valid safetensors file: ${message}`, {
    file,
    ...(detail !== undefined ? { detail } : {}),
    fix: 'The file is damaged or was not fully written (an interrupted download or save). Download or save it again.',
  });
}

/** Reads only the header: parameter names, dtypes and shapes, without loading any weights. */
export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  const handle = await openOrExplain(file);
  try {
    const { size } = await handle.stat();
    if (size < 8) throw corrupt(file, `the file is ${size} bytes long, shorter than the 8-byte header length`);
    const prefix = new Uint8Array(8);
    await handle.read(prefix, 0, 8, 0);
    const n = headerLength(prefix, size, file);
    const json = new Uint8Array(n);
    await handle.read(json, 0, n, 8);
    return parseHeader(json, size - 8 - n, file);
  } finally {
    await handle.close();
  }
}

/** Reads and validates a whole file; throws before returning anything if any part is wrong. */
export async function readSafetensors(file: string): Promise<SafetensorsFile> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    throw notFound(file, e);
  }
  return parseSafetensors(bytes, file);
}

/** Parses a safetensors file held in memory. `file` is only used in error messages. */
export function parseSafetensors(bytes: Uint8Array, file = '<buffer>'): SafetensorsFile {
  if (bytes.length < 8)
    throw corrupt(file, `the file is ${bytes.length} bytes long, shorter than the 8-byte header length`);
  const n = headerLength(bytes.subarray(0, 8), bytes.length, file);
  const header = parseHeader(bytes.subarray(8, 8 + n), bytes.length - 8 - n, file);
  const tensors = new Map<string, Tensor>();
  const sourceDtypes = new Map<string, SafetensorsDtype>();
  for (const [name, info] of header.tensors) {
    const begin = header.dataStart + info.dataOffsets[0];
    const end = header.dataStart + info.dataOffsets[1];
    tensors.set(name, { shape: [...info.shape], data: decode(bytes.subarray(begin, end), info.dtype, name, file) });
    sourceDtypes.set(name, info.dtype);
  }
  return { tensors, metadata: { ...header.metadata }, sourceDtypes };
}

function headerLength(prefix: Uint8Array, fileSize: number, file: string): number {
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) throw corrupt(file, `the header length (${n} bytes) is beyond the 100 MB limit`);
  const len = Number(n);
  if (8 + len > fileSize) {
    throw corrupt(
      file,
      `the header length (${len} bytes) is beyond the file size (${fileSize} bytes); the file is truncated`,
    );
  }
  if (len < 2) throw corrupt(file, `the header length is ${len} bytes, too short for a JSON object`);
  return len;
}

function parseHeader(jsonBytes: Uint8Array, dataLength: number, file: string): SafetensorsHeader {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(jsonBytes));
  } catch (e) {
    throw corrupt(file, 'the header is not valid UTF-8 JSON', e instanceof Error ? e.message : String(e));
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw corrupt(file, 'the header is not a JSON object');
  // Keys are the file's data: a `__proto__` entry is a key like any other, not this object's prototype.
  const metadata = Object.create(null) as Record<string, string>;
  const entries: [string, TensorInfo][] = [];
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw corrupt(file, '__metadata__ is not an object');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') throw corrupt(file, `__metadata__.${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    entries.push([name, tensorInfo(name, value, file)]);
  }
  // Tensors must tile the data section exactly: no overlap, no gap, nothing past the end, nothing left over.
  entries.sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0] || a[1].dataOffsets[1] - b[1].dataOffsets[1]);
  let cursor = 0;
  let previous = '';
  for (const [name, info] of entries) {
    const [begin, end] = info.dataOffsets;
    if (end > dataLength) {
      throw corrupt(
        file,
        `tensor '${name}' ends at byte ${end} of the data section, beyond its ${dataLength} bytes; the file is truncated`,
      );
    }
    if (begin < cursor)
      throw corrupt(
        file,
        `tensor '${name}' (bytes ${begin}..${end}) overlaps tensor '${previous}' (ending at ${cursor})`,
      );
    if (begin > cursor) throw corrupt(file, `there is a gap of ${begin - cursor} bytes before tensor '${name}'`);
    cursor = end;
    previous = name;
  }
  if (cursor !== dataLength) {
    throw corrupt(file, `the tensors cover ${cursor} bytes but the data section has ${dataLength}`);
  }
  // Spread copies define own properties (never the prototype), so the plain object is as safe as the null one.
  return { tensors: new Map(entries), metadata: { ...metadata }, dataStart: 8 + jsonBytes.length };
}

function tensorInfo(name: string, value: unknown, file: string): TensorInfo {
  if (typeof value !== 'object' || value === null)
    throw corrupt(file, `the entry for tensor '${name}' is not an object`);
  const v = value as Record<string, unknown>;
  const dtype = v.dtype;
  // An own key only: `toString` or `__proto__` in a header are not dtypes.
  if (typeof dtype !== 'string' || !Object.prototype.hasOwnProperty.call(DTYPE_BYTES, dtype)) {
    throw corrupt(
      file,
      `tensor '${name}' has unknown dtype ${JSON.stringify(dtype)}`,
      `Supported: ${Object.keys(DTYPE_BYTES).join(', ')}.`,
    );
  }
  const shape = v.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw corrupt(file, `tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
  }
  const offsets = v.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw corrupt(file, `tensor '${name}' has invalid data_offsets ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin)
    throw corrupt(file, `tensor '${name}' has data_offsets [${begin}, ${end}] that end before they begin`);
  const elements = (shape as number[]).reduce((a, d) => a * d, 1);
  const expected = elements * DTYPE_BYTES[dtype as SafetensorsDtype];
  if (end - begin !== expected) {
    throw corrupt(
      file,
      `tensor '${name}' has ${end - begin} bytes of data, but shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${expected}`,
    );
  }
  return { dtype: dtype as SafetensorsDtype, shape: shape as number[], dataOffsets: [begin, end] };
}

function decode(bytes: Uint8Array, dtype: SafetensorsDtype, name: string, file: string): Float32Array | Int32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = bytes.byteLength / DTYPE_BYTES[dtype];
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(count);
      new Uint8Array(out.buffer).set(bytes);
      return out;
    }
    case 'I32': {
      const out = new Int32Array(count);
      new Uint8Array(out.buffer).set(bytes);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(count);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    case 'F64': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case 'I64': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const x = view.getBigInt64(i * 8, true);
        if (x > 2147483647n || x < -2147483648n) {
          throw corrupt(file, `tensor '${name}' (I64) holds ${x}, which does not fit in 32 bits`);
        }
        out[i] = Number(x);
      }
      return out;
    }
    case 'I16': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true);
      return out;
    }
    case 'I8': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt8(i);
      return out;
    }
    case 'U8':
    case 'BOOL':
      return Int32Array.from(bytes);
  }
}

/** IEEE 754 half precision to a JS number, including subnormals, infinities and NaN. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * Serializes tensors as the reference implementation does: sorted by name (all our dtypes share an alignment),
 * `__metadata__` first, compact JSON, header padded with spaces to a multiple of 8 bytes.
 * Float32Array is written as F32 and Int32Array as I32.
 */
export function serializeSafetensors(
  tensors: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const list = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)) as [string, Tensor][];
  list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of list) {
    const elements = t.shape.reduce((a, d) => a * d, 1);
    if (elements !== t.data.length) {
      throw new FineTuneError(
        'safetensors-shape-mismatch',
        `tensor '${name}' has ${t.data.length} values but shape [${t.shape.join(', ')}]`,
      );
    }
    const dtype = t.data instanceof Float32Array ? 'F32' : 'I32';
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let at = 8 + padded;
  for (const [, t] of list) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

/** Writes a safetensors file atomically (temp file + fsync + rename). */
export async function writeSafetensors(
  file: string,
  tensors: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  await writeFileAtomic(file, serializeSafetensors(tensors, metadata));
}

async function openOrExplain(file: string): Promise<fs.FileHandle> {
  try {
    return await fs.open(file, 'r');
  } catch (e) {
    throw notFound(file, e);
  }
}

function notFound(file: string, e: unknown): FineTuneError {
  const code = (e as NodeJS.ErrnoException).code;
  return new FineTuneError(
    code === 'ENOENT' ? 'file-not-found' : 'file-unreadable',
    code === 'ENOENT' ? `${file} does not exist` : `cannot read ${file}`,
    { file, detail: e instanceof Error ? e.message : String(e), cause: e },
  );
}
