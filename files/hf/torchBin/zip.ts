/**
 * The zip container of `torch.save` (PyTorch >= 1.6): entries stored (or deflated) with 64-byte aligned data, and
 * zip64 records once an offset or size passes 4 GiB. We read the central directory ourselves and check every number
 * in it against the file's size before reading anything it points at. Entry names are keys in a Map, never paths:
 * nothing is extracted, and a name that would be a path trick in a real unzip is refused as a sign of a forged file.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import { FineTuneError } from '../../../common/errors';
import type { ByteSource } from './source';

export interface ZipEntry {
  readonly name: string;
  /** 0 stored, 8 deflated. */
  readonly method: 0 | 8;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  /** Where the local header starts and where the entry's data starts and ends (absolute file offsets). */
  readonly headerOffset: number;
  readonly dataOffset: number;
}

const EOCD_SIG = 0x06054b50;
const EOCD64_LOCATOR_SIG = 0x07064b50;
const EOCD64_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_BYTES = 22;
const MAX_COMMENT = 0xffff;
const CENTRAL_BYTES = 46;
const LOCAL_BYTES = 30;
/** A BERT checkpoint has a few hundred entries; a sharded LLM's shard a few thousand. */
export const MAX_ZIP_ENTRIES = 100_000;
const MAX_NAME_BYTES = 4096;
/** Deflate cannot compress better than about 1032:1; a claim beyond that is a zip bomb. */
const MAX_DEFLATE_RATIO = 1032;
const U32 = 0xffffffff;

export function zipCorrupt(src: ByteSource, message: string, detail?: string): FineTuneError {
  return new FineTuneError('torch-corrupt', `${src.name} is not a valid PyTorch checkpoint: ${message}`, {
    file: src.name,
    ...(detail !== undefined ? { detail } : {}),
    fix: 'The file is damaged or not a checkpoint written by torch.save; download or save it again.',
  });
}

/** True when the source starts like a zip (a local file header). */
export async function looksLikeZip(src: ByteSource): Promise<boolean> {
  if (src.size < 4) return false;
  return view(await src.read(0, 4)).getUint32(0, true) === LOCAL_SIG;
}

/** The entries by name, each checked: inside the file, not overlapping another, a method we can read. */
export async function readZipDirectory(src: ByteSource): Promise<Map<string, ZipEntry>> {
  const end = await findEnd(src);
  const cd = await src.read(end.cdOffset, end.cdSize);
  const entries = new Map<string, ZipEntry>();
  let at = 0;
  for (let i = 0; i < end.count; i++) {
    const { next, ...entry } = await centralEntry(src, cd, at, end.cdOffset);
    if (entries.has(entry.name)) throw zipCorrupt(src, `the entry '${entry.name}' appears twice`);
    entries.set(entry.name, entry);
    at = next;
  }
  checkNoOverlap(src, [...entries.values()]);
  return entries;
}

/** An entry's bytes, CRC-checked; into `into` (exactly `entry.size` bytes) when given. */
export async function readZipEntry(src: ByteSource, entry: ZipEntry, into?: Uint8Array): Promise<Uint8Array> {
  let out: Uint8Array;
  if (entry.method === 0) out = await src.read(entry.dataOffset, entry.size, into);
  else {
    const packed = await src.read(entry.dataOffset, entry.compressedSize);
    let raw: Uint8Array;
    try {
      raw = inflateRawSync(packed, { maxOutputLength: Math.max(1, entry.size) });
    } catch (e) {
      throw zipCorrupt(src, `the entry '${entry.name}' does not inflate`, e instanceof Error ? e.message : String(e));
    }
    if (raw.length !== entry.size) {
      throw zipCorrupt(src, `the entry '${entry.name}' inflates to ${raw.length} bytes, not ${entry.size}`);
    }
    out = into ?? raw;
    if (into !== undefined) into.set(raw);
  }
  if (crc32(out) >>> 0 !== entry.crc32) {
    throw zipCorrupt(src, `the entry '${entry.name}' fails its CRC check (damaged or modified)`);
  }
  return out;
}

interface End {
  count: number;
  cdOffset: number;
  cdSize: number;
}

async function findEnd(src: ByteSource): Promise<End> {
  if (src.size < EOCD_BYTES) throw zipCorrupt(src, `it is only ${src.size} bytes long`);
  const tailLength = Math.min(src.size, EOCD_BYTES + MAX_COMMENT);
  const tailStart = src.size - tailLength;
  const tail = view(await src.read(tailStart, tailLength));
  for (let i = tailLength - EOCD_BYTES; i >= 0; i--) {
    // The comment length must reach exactly to the end of the file: a signature inside a comment is not the end.
    if (tail.getUint32(i, true) !== EOCD_SIG || i + EOCD_BYTES + tail.getUint16(i + 20, true) !== tailLength) continue;
    const classic = {
      count: tail.getUint16(i + 10, true),
      cdSize: tail.getUint32(i + 12, true),
      cdOffset: tail.getUint32(i + 16, true),
    };
    const eocdOffset = tailStart + i;
    const end = (await zip64End(src, eocdOffset)) ?? classic;
    return checkEnd(src, end, eocdOffset);
  }
  throw zipCorrupt(src, 'it has no zip end-of-central-directory record (truncated, or not a zip)');
}

async function zip64End(src: ByteSource, eocdOffset: number): Promise<End | undefined> {
  if (eocdOffset < 20) return undefined;
  const locator = view(await src.read(eocdOffset - 20, 20));
  if (locator.getUint32(0, true) !== EOCD64_LOCATOR_SIG) return undefined;
  const recordOffset = safeNumber(src, locator.getBigUint64(8, true), 'the zip64 record offset');
  if (recordOffset + 56 > eocdOffset - 20) throw zipCorrupt(src, 'the zip64 end record is outside the file');
  const record = view(await src.read(recordOffset, 56));
  if (record.getUint32(0, true) !== EOCD64_SIG) throw zipCorrupt(src, 'the zip64 end record has a bad signature');
  return {
    count: safeNumber(src, record.getBigUint64(32, true), 'the entry count'),
    cdSize: safeNumber(src, record.getBigUint64(40, true), 'the central directory size'),
    cdOffset: safeNumber(src, record.getBigUint64(48, true), 'the central directory offset'),
  };
}

function checkEnd(src: ByteSource, end: End, eocdOffset: number): End {
  if (end.count > MAX_ZIP_ENTRIES) {
    throw zipCorrupt(src, `it claims ${end.count} entries, more than the ${MAX_ZIP_ENTRIES} a checkpoint can have`);
  }
  if (end.cdOffset + end.cdSize > eocdOffset) {
    throw zipCorrupt(src, `the central directory (${end.cdSize} bytes at ${end.cdOffset}) runs past its end record`);
  }
  if (end.count * CENTRAL_BYTES > end.cdSize) {
    throw zipCorrupt(src, `${end.count} entries cannot fit in a ${end.cdSize}-byte central directory`);
  }
  return end;
}

type Parsed = ZipEntry & { next: number };

async function centralEntry(src: ByteSource, cd: Uint8Array, at: number, cdOffset: number): Promise<Parsed> {
  if (at + CENTRAL_BYTES > cd.length) throw zipCorrupt(src, 'the central directory ends inside an entry');
  const v = view(cd);
  if (v.getUint32(at, true) !== CENTRAL_SIG) throw zipCorrupt(src, `bad central directory entry at byte ${at}`);
  const flags = v.getUint16(at + 8, true);
  const method = v.getUint16(at + 10, true);
  const nameLength = v.getUint16(at + 28, true);
  const extraLength = v.getUint16(at + 30, true);
  const next = at + CENTRAL_BYTES + nameLength + extraLength + v.getUint16(at + 32, true);
  if (next > cd.length) throw zipCorrupt(src, 'a central directory entry runs past the directory');
  const name = entryName(src, cd.subarray(at + CENTRAL_BYTES, at + CENTRAL_BYTES + nameLength));
  if (flags & 1) throw zipCorrupt(src, `the entry '${name}' is encrypted`);
  if (method !== 0 && method !== 8) throw zipCorrupt(src, `the entry '${name}' uses compression method ${method}`);
  const extra = cd.subarray(at + CENTRAL_BYTES + nameLength, at + CENTRAL_BYTES + nameLength + extraLength);
  const sizes = zip64Sizes(src, name, extra, {
    size: v.getUint32(at + 24, true),
    compressedSize: v.getUint32(at + 20, true),
    headerOffset: v.getUint32(at + 42, true),
  });
  const dataOffset = await localDataOffset(src, name, sizes.headerOffset, nameLength);
  checkSizes(src, name, method, sizes, dataOffset, cdOffset);
  return { name, method, crc32: v.getUint32(at + 16, true), ...sizes, dataOffset, next };
}

function entryName(src: ByteSource, bytes: Uint8Array): string {
  if (bytes.length > MAX_NAME_BYTES) throw zipCorrupt(src, `an entry name is ${bytes.length} bytes long`);
  let name: string;
  try {
    name = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw zipCorrupt(src, 'an entry name is not valid UTF-8');
  }
  // torch.save writes `<archive>/data.pkl`, `<archive>/data/<n>`, ...; nothing else is a checkpoint's name.
  if (/[\u0000-\u001f\\]/.test(name) || name.startsWith('/') || name.split('/').some((s) => s === '..' || s === '.')) {
    throw zipCorrupt(src, `the entry name ${JSON.stringify(name)} is a path trick, not a checkpoint entry`);
  }
  return name;
}

interface Sizes {
  size: number;
  compressedSize: number;
  headerOffset: number;
}

/** Fields at 0xFFFFFFFF are in the zip64 extra field (id 1), in this order, each 8 bytes. */
function zip64Sizes(src: ByteSource, name: string, extra: Uint8Array, s: Sizes): Sizes {
  if (s.size !== U32 && s.compressedSize !== U32 && s.headerOffset !== U32) return s;
  const v = view(extra);
  for (let at = 0; at + 4 <= extra.length;) {
    const id = v.getUint16(at, true);
    const length = v.getUint16(at + 2, true);
    if (at + 4 + length > extra.length) break;
    if (id === 1) {
      const out = { ...s };
      let p = at + 4;
      for (const key of ['size', 'compressedSize', 'headerOffset'] as const) {
        if (s[key] !== U32) continue;
        if (p + 8 > at + 4 + length) throw zipCorrupt(src, `the zip64 field of '${name}' is too short`);
        out[key] = safeNumber(src, v.getBigUint64(p, true), `the ${key} of '${name}'`);
        p += 8;
      }
      return out;
    }
    at += 4 + length;
  }
  throw zipCorrupt(src, `the entry '${name}' needs a zip64 field and has none`);
}

async function localDataOffset(src: ByteSource, name: string, headerOffset: number, nameLength: number) {
  if (headerOffset + LOCAL_BYTES > src.size) throw zipCorrupt(src, `the entry '${name}' starts past the end`);
  const local = await src.read(headerOffset, LOCAL_BYTES);
  const v = view(local);
  if (v.getUint32(0, true) !== LOCAL_SIG) throw zipCorrupt(src, `the entry '${name}' has no local header`);
  // The local name must be the central one: a reader that trusted either could be shown two different files.
  if (v.getUint16(26, true) !== nameLength) throw zipCorrupt(src, `the local header of '${name}' names another entry`);
  const dataOffset = headerOffset + LOCAL_BYTES + nameLength + v.getUint16(28, true);
  if (dataOffset > src.size) throw zipCorrupt(src, `the entry '${name}' starts past the end`);
  const localName = await src.read(headerOffset + LOCAL_BYTES, nameLength);
  if (new TextDecoder().decode(localName) !== name) {
    throw zipCorrupt(src, `the local header of '${name}' names another entry`);
  }
  return dataOffset;
}

function checkSizes(src: ByteSource, name: string, method: number, s: Sizes, dataOffset: number, limit: number) {
  if (dataOffset + s.compressedSize > limit) {
    throw zipCorrupt(src, `the entry '${name}' (${s.compressedSize} bytes at ${dataOffset}) runs past its data area`);
  }
  if (method === 0 && s.size !== s.compressedSize) {
    throw zipCorrupt(src, `the stored entry '${name}' claims ${s.size} bytes but holds ${s.compressedSize}`);
  }
  if (method === 8 && s.size > Math.max(1024, s.compressedSize * MAX_DEFLATE_RATIO)) {
    throw zipCorrupt(src, `the entry '${name}' claims to inflate from ${s.compressedSize} to ${s.size} bytes`);
  }
}

function checkNoOverlap(src: ByteSource, entries: ZipEntry[]): void {
  const sorted = [...entries].sort((a, b) => a.headerOffset - b.headerOffset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.headerOffset < prev.dataOffset + prev.compressedSize) {
      throw zipCorrupt(src, `the entries '${prev.name}' and '${cur.name}' overlap`);
    }
  }
}

function safeNumber(src: ByteSource, n: bigint, what: string): number {
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n > BigInt(src.size)) {
    throw zipCorrupt(src, `${what} (${n}) is beyond the file's ${src.size} bytes`);
  }
  return Number(n);
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
