import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  halfToFloat,
  parseSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  serializeSafetensors,
  writeSafetensors,
} from '../../files/hf/safetensors';
import { FineTuneError } from '../../common/errors';

const dir = mkdtempSync(path.join(tmpdir(), 'st-'));

/** Builds a file by hand, the way a foreign writer might, to test the reader against bytes we did not write. */
function handmade(header: unknown, data: Uint8Array, pad = true): Uint8Array {
  let json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  if (pad && json.length % 8) {
    const p = new Uint8Array(json.length + (8 - (json.length % 8))).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function expectCorrupt(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(
    () => parseSafetensors(bytes, 'bad.safetensors'),
    (e: unknown) =>
      e instanceof FineTuneError &&
      e.code === 'safetensors-corrupt' &&
      e.file === 'bad.safetensors' &&
      pattern.test(e.message),
  );
}

test('round trip is bit-identical, sorted by name, header padded to 8 with spaces', async () => {
  const weird = new Float32Array([1.5, -0, NaN, Infinity, 1e-45, 3.4028234663852886e38]);
  const tensors = {
    'z.weight': { shape: [2, 3], data: weird },
    'a.bias': { shape: [2], data: new Float32Array([0.25, -7]) },
    ids: { shape: [3], data: new Int32Array([1, -2, 2147483647]) },
  };
  const file = path.join(dir, 'rt.safetensors');
  await writeSafetensors(file, tensors, { format: 'pt' });
  const bytes = new Uint8Array(readFileSync(file));
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  assert.match(
    headerText,
    /^\{"__metadata__":\{"format":"pt"\},"a\.bias":\{"dtype":"F32","shape":\[2\],"data_offsets":\[0,8\]\},"ids":/,
  );
  assert.match(headerText, / *$/);

  const back = await readSafetensors(file);
  assert.deepEqual(back.metadata, { format: 'pt' });
  assert.deepEqual([...back.tensors.keys()], ['a.bias', 'ids', 'z.weight']);
  const z = back.tensors.get('z.weight');
  assert.ok(z && z.data instanceof Float32Array);
  assert.deepEqual(z.shape, [2, 3]);
  assert.deepEqual(new Uint8Array(z.data.buffer), new Uint8Array(weird.buffer));
  assert.deepEqual([...(back.tensors.get('ids')?.data ?? [])], [1, -2, 2147483647]);
  // Writing what we read gives the same bytes.
  assert.deepEqual(serializeSafetensors(back.tensors, back.metadata), bytes);
});

test('header-only read lists names, dtypes and shapes', async () => {
  const file = path.join(dir, 'h.safetensors');
  await writeSafetensors(file, { w: { shape: [4, 2], data: new Float32Array(8) } });
  const h = await readSafetensorsHeader(file);
  assert.deepEqual([...h.tensors.keys()], ['w']);
  assert.equal(h.tensors.get('w')?.dtype, 'F32');
  assert.deepEqual(h.tensors.get('w')?.shape, [4, 2]);
  assert.deepEqual(h.metadata, {});
});

test('F16, BF16, F64 and I64 convert', () => {
  const f16 = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7c00, 0x3555]).buffer);
  const bf16 = new Uint8Array(new Uint16Array([0x3f80, 0xc040]).buffer);
  const f64 = new Uint8Array(new Float64Array([0.1, -2]).buffer);
  const i64 = new Uint8Array(new BigInt64Array([5n, -1n]).buffer);
  const data = new Uint8Array([...f16, ...bf16, ...f64, ...i64]);
  const bytes = handmade(
    {
      h: { dtype: 'F16', shape: [5], data_offsets: [0, 10] },
      b: { dtype: 'BF16', shape: [2], data_offsets: [10, 14] },
      d: { dtype: 'F64', shape: [2], data_offsets: [14, 30] },
      i: { dtype: 'I64', shape: [2], data_offsets: [30, 46] },
    },
    data,
  );
  const f = parseSafetensors(bytes);
  assert.deepEqual([...(f.tensors.get('h')?.data ?? [])], [1, -2, 2 ** -24, Infinity, Math.fround(0.333251953125)]);
  assert.deepEqual([...(f.tensors.get('b')?.data ?? [])], [1, -3]);
  assert.deepEqual([...(f.tensors.get('d')?.data ?? [])], [Math.fround(0.1), -2]);
  const i = f.tensors.get('i')?.data;
  assert.ok(i instanceof Int32Array);
  assert.deepEqual([...i], [5, -1]);
  assert.equal(f.sourceDtypes.get('h'), 'F16');
  assert.equal(halfToFloat(0xfe00), NaN);
});

test('corrupt files are refused with the reason', async () => {
  const four = new Uint8Array(8);
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  expectCorrupt(new Uint8Array(5), /shorter than the 8-byte/);
  // Header length beyond the file.
  const big = handmade(ok, four);
  new DataView(big.buffer).setBigUint64(0, 10_000n, true);
  expectCorrupt(big, /beyond the file size/);
  expectCorrupt(handmade('{"a": {', four), /not valid UTF-8 JSON/);
  expectCorrupt(handmade('[1,2]', four), /not a JSON object/);
  expectCorrupt(handmade({ a: { dtype: 'Q4', shape: [2], data_offsets: [0, 8] } }, four), /unknown dtype "Q4"/);
  expectCorrupt(handmade({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, four), /needs 12/);
  expectCorrupt(handmade({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, four), /truncated/);
  expectCorrupt(
    handmade(
      { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } },
      four,
    ),
    /overlaps/,
  );
  expectCorrupt(handmade({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, four), /gap/);
  expectCorrupt(handmade(ok, new Uint8Array(12)), /cover 8 bytes but the data section has 12/);
  expectCorrupt(handmade({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 8] } }, four), /invalid shape/);
  expectCorrupt(handmade({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, four), /end before they begin/);
  expectCorrupt(handmade({ __metadata__: { x: 1 }, ...ok }, four), /__metadata__\.x is not a string/);

  // The header-only reader refuses a truncated file too, naming it.
  const file = path.join(dir, 'trunc.safetensors');
  writeFileSync(file, big);
  await assert.rejects(
    readSafetensorsHeader(file),
    (e: unknown) => e instanceof FineTuneError && e.file === file && /truncated/.test(e.message),
  );
  await assert.rejects(
    readSafetensors(path.join(dir, 'nope.safetensors')),
    (e: unknown) => e instanceof FineTuneError && e.code === 'file-not-found',
  );
});

test('writing refuses data that does not match its shape', () => {
  assert.throws(
    () => serializeSafetensors({ a: { shape: [3], data: new Float32Array(2) } }),
    /2 values but shape \[3\]/,
  );
});

test('prototype names are data: a `toString` dtype is unknown, a `__proto__` metadata key and tensor are kept', () => {
  const bad = handmade({ w: { dtype: 'toString', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4));
  assert.throws(() => parseSafetensors(bad, 'x.safetensors'), /tensor 'w' has unknown dtype "toString"/);
  const text = '{"__metadata__":{"__proto__":"m"},"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
  const f = parseSafetensors(handmade(text, new Uint8Array(4)), 'x.safetensors');
  assert.deepEqual([...f.tensors.keys()], ['__proto__']);
  assert.equal(Object.getOwnPropertyDescriptor(f.metadata, '__proto__')?.value, 'm');
});
