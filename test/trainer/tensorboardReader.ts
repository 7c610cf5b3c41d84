/**
 * An event-file reader written from the formats' specifications alone, sharing no code with the writer
 * (trainer/tensorboard/), so that a mistake in the writer cannot hide itself in the check:
 * - TFRecord (tensorflow/core/lib/io/record_writer.h): uint64 length, uint32 masked CRC of those 8 bytes, the
 *   data, uint32 masked CRC of the data, all little-endian; CRC-32C (Castagnoli, reflected 0x82F63B78) masked as
 *   ((crc >> 15) | (crc << 17)) + 0xa282ead8.
 * - protobuf wire format: varint keys (field << 3 | wire type), wire types 0 varint, 1 fixed64, 2 length-
 *   delimited, 5 fixed32.
 * - event.proto: Event { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5;
 *   SessionLog session_log = 7 }, Summary { repeated Value value = 1 }, Value { string tag = 1;
 *   float simple_value = 2 }, SessionLog { SessionStatus status = 1 }.
 */
import { readFileSync } from 'node:fs';

/** Bit by bit, as the CRC-32C definition reads (no table: nothing in common with the writer's). */
export function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function masked(bytes: Uint8Array): number {
  const c = crc32cBitwise(bytes);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) % 2 ** 32;
}

/** The records' payloads; throws on a bad length or CRC, naming the record. */
export function readRecords(file: string): Uint8Array[] {
  const buf = new Uint8Array(readFileSync(file));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < buf.length) {
    if (at + 12 > buf.length) throw new Error(`record ${out.length}: truncated header`);
    const len = Number(view.getBigUint64(at, true));
    if (view.getUint32(at + 8, true) !== masked(buf.subarray(at, at + 8)))
      throw new Error(`record ${out.length}: bad length CRC`);
    const data = buf.subarray(at + 12, at + 12 + len);
    if (data.length !== len || at + 16 + len > buf.length) throw new Error(`record ${out.length}: truncated data`);
    if (view.getUint32(at + 12 + len, true) !== masked(data)) throw new Error(`record ${out.length}: bad data CRC`);
    out.push(data);
    at += 16 + len;
  }
  return out;
}

type Field = { field: number; wire: number; varint?: bigint; bytes?: Uint8Array; fixed?: DataView };

function fields(msg: Uint8Array): Field[] {
  const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const out: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = msg[at++];
      if (b === undefined) throw new Error('truncated varint');
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
  };
  while (at < msg.length) {
    const key = Number(varint());
    const f: Field = { field: key >> 3, wire: key & 7 };
    if (f.wire === 0) f.varint = varint();
    else if (f.wire === 1 || f.wire === 5) {
      const n = f.wire === 1 ? 8 : 4;
      f.fixed = new DataView(view.buffer, view.byteOffset + at, n);
      at += n;
    } else if (f.wire === 2) {
      const n = Number(varint());
      f.bytes = msg.subarray(at, at + n);
      at += n;
    } else throw new Error(`wire type ${f.wire}`);
    out.push(f);
  }
  return out;
}

export interface DecodedEvent {
  wallTime?: number;
  step: number;
  fileVersion?: string;
  sessionStatus?: number;
  values: { tag: string; value: number }[];
}

export function decodeEvent(data: Uint8Array): DecodedEvent {
  const e: DecodedEvent = { step: 0, values: [] };
  const text = (b: Uint8Array) => new TextDecoder('utf-8', { fatal: true }).decode(b);
  for (const f of fields(data)) {
    if (f.field === 1 && f.wire === 1) e.wallTime = f.fixed!.getFloat64(0, true);
    else if (f.field === 2 && f.wire === 0) e.step = Number(BigInt.asIntN(64, f.varint!));
    else if (f.field === 3 && f.wire === 2) e.fileVersion = text(f.bytes!);
    else if (f.field === 5 && f.wire === 2) {
      for (const v of fields(f.bytes!)) {
        if (v.field !== 1 || v.wire !== 2) continue;
        let tag = '';
        let value = NaN;
        for (const x of fields(v.bytes!)) {
          if (x.field === 1 && x.wire === 2) tag = text(x.bytes!);
          if (x.field === 2 && x.wire === 5) value = x.fixed!.getFloat32(0, true);
        }
        e.values.push({ tag, value });
      }
    } else if (f.field === 7 && f.wire === 2) {
      for (const x of fields(f.bytes!)) if (x.field === 1 && x.wire === 0) e.sessionStatus = Number(x.varint!);
    }
  }
  return e;
}

export function readEvents(file: string): DecodedEvent[] {
  return readRecords(file).map(decodeEvent);
}
