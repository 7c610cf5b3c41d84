/**
 * Fuzzes the safetensors readers (files/hf/safetensors.ts) with damaged and hostile files: header length fields,
 * offsets that overlap or leave the file, unknown and prototype-named dtypes, shapes with zero, negative, huge or
 * non-integer dims, byte spans that disagree with shape × dtype, JSON garbage, `__metadata__` abuse and tensor
 * names such as `__proto__`. Every file either reads with consistent tensors or is refused with a FineTuneError
 * that names it; the header-only reader and the full reader agree. Reproduce a failure with
 * `FUZZ_SEED=<seed> node --import tsx --test test/fuzz/safetensors.test.ts`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FineTuneError } from '../../common/errors';
import { randInt } from '../../common/random';
import type { Rng } from '../../common/random';
import { parseSafetensors, readSafetensors, readSafetensorsHeader } from '../../files/hf/safetensors';
import { fuzz, mutateBytes, pick } from './harness';

const DTYPES: Record<string, number> = {
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
const NAMES = ['bert.embeddings.word_embeddings.weight', 'classifier.bias', '__proto__', 'toString', '', 'é\u{1F600}'];
const CODES = new Set(['safetensors-corrupt', 'file-not-found', 'file-unreadable']);

type Header = Record<string, unknown>;

/** A well-formed file: random tensors tiling the data section, optional metadata. */
function validParts(rng: Rng): { header: Header; data: Uint8Array } {
  const header: Header = {};
  if (rng() < 0.5) setKey(header, '__metadata__', { format: 'pt', step: String(randInt(rng, 100)) });
  let offset = 0;
  const count = randInt(rng, 5);
  for (let i = 0; i < count; i++) {
    const dtype = pick(rng, Object.keys(DTYPES));
    const shape = Array.from({ length: randInt(rng, 3) }, () => randInt(rng, 4));
    const bytes = shape.reduce((a, d) => a * d, 1) * DTYPES[dtype]!;
    setKey(header, `${pick(rng, NAMES)}.${i}`, { dtype, shape, data_offsets: [offset, offset + bytes] });
    offset += bytes;
  }
  const data = new Uint8Array(offset).map(() => randInt(rng, 256));
  return { header, data };
}

function assemble(headerText: string, data: Uint8Array, lengthField?: bigint): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthField ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const HOSTILE_VALUES: unknown[] = [
  -1,
  0,
  1,
  2 ** 53,
  2 ** 64,
  1e308,
  -0,
  0.5,
  NaN,
  '3',
  null,
  true,
  [],
  {},
  [1, 2, 3],
  [[1]],
  'F32',
  '__proto__',
];

/** Breaks one part of a tensor entry, or of the header as a whole. */
function mutateHeader(rng: Rng, header: Header): Header {
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const name = names.length ? pick(rng, names) : 'x';
  const entry = { ...((header[name] as Header | undefined) ?? { dtype: 'F32', shape: [1], data_offsets: [0, 4] }) };
  switch (randInt(rng, 9)) {
    case 0:
      entry['dtype'] = pick(rng, [
        'F8',
        'f32',
        'toString',
        '__proto__',
        'constructor',
        'hasOwnProperty',
        ...HOSTILE_VALUES,
      ]);
      break;
    case 1:
      entry['shape'] = pick(rng, [
        [-1],
        [2 ** 40, 2 ** 40],
        [0, 2 ** 62],
        [1.5],
        ['2'],
        Array(10_000).fill(1),
        ...HOSTILE_VALUES,
      ]);
      break;
    case 2: {
      const offsets = entry['data_offsets'];
      const [b = 0, e = 0] = Array.isArray(offsets) ? (offsets as number[]) : [];
      entry['data_offsets'] = pick(rng, [
        [e, b],
        [b - 1, e],
        [b, e + 1],
        [0, 2 ** 53],
        [b],
        [b, e, e],
        ...HOSTILE_VALUES,
      ]);
      break;
    }
    case 3:
      setKey(
        header,
        '__metadata__',
        pick(rng, [{ a: 1 }, JSON.parse('{"__proto__":"x"}'), ['a'], 'm', null, { k: {} }]),
      );
      break;
    case 4:
      // Prototype names as tensors, with a well-formed empty entry (a JSON text so `__proto__` is a real key).
      setKey(header, pick(rng, ['__proto__', 'constructor', 'toString']), {
        dtype: 'F32',
        shape: [0],
        data_offsets: [0, 0],
      });
      break;
    case 5:
      delete entry['dtype'];
      break;
    case 6:
      entry['shape'] = [randInt(rng, 9)];
      break;
    case 7:
      setKey(header, `${name}.copy`, { ...entry });
      break;
    default:
      setKey(header, name, pick(rng, HOSTILE_VALUES));
      return header;
  }
  setKey(header, name, entry);
  return header;
}

/** An own, enumerable key even for `__proto__` (plain assignment would set the prototype instead). */
function setKey(o: Header, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

const headerJson = (header: Header): string => JSON.stringify(header);

function generate(rng: Rng): Uint8Array {
  const { header, data } = validParts(rng);
  const kind = randInt(rng, 6);
  if (kind === 0) return mutateBytes(rng, assemble(headerJson(header), data));
  if (kind === 1) {
    const lengths = [0n, 1n, 7n, 2n ** 64n - 1n, 100_000_001n, BigInt(headerJson(header).length + data.length + 1)];
    return assemble(headerJson(header), data, pick(rng, lengths));
  }
  if (kind === 2) {
    const text = headerJson(header);
    const garbage = pick(rng, [
      text.slice(0, randInt(rng, text.length)),
      '[]',
      '"x"',
      'null',
      '{"a":',
      '\u0000',
      '[[[[[[',
    ]);
    return assemble(garbage, data);
  }
  if (kind === 3) return assemble(headerJson(mutateHeader(rng, mutateHeader(rng, header))), data);
  if (kind === 4)
    return assemble(headerJson(mutateHeader(rng, header)), data.subarray(0, randInt(rng, data.length + 1)));
  return assemble(headerJson(mutateHeader(rng, header)), data);
}

/** A refusal must be a FineTuneError that names the file; anything else escaping is a bug. */
function expectClear(e: unknown, file: string): void {
  if (!(e instanceof FineTuneError)) throw e;
  assert.ok(CODES.has(e.code), `unexpected code ${e.code}: ${e.message}`);
  assert.ok(e.message.includes(file), `the message does not name the file: ${e.message}`);
}

async function outcome<T>(f: () => Promise<T> | T, file: string): Promise<T | undefined> {
  try {
    return await f();
  } catch (e) {
    expectClear(e, file);
    return undefined;
  }
}

test('2,000+ mutated safetensors files: consistent tensors or a clear error, in bounded time and memory', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fuzz-safetensors-'));
  const file = path.join(dir, 'model.safetensors');
  try {
    const report = await fuzz('safetensors', {
      minCases: 2000,
      budgetMs: 10_000,
      caseMs: 2000,
      maxHeapGrowthMb: 128,
      generate,
      show: (b) => `${b.length} bytes: ${Buffer.from(b.subarray(0, 600)).toString('latin1')}`,
      async check(bytes, rng) {
        // The full reader is `readFile` then `parseSafetensors`; the header reader reads the file by parts.
        const whole = await outcome(() => parseSafetensors(bytes, file), file);
        writeFileSync(file, bytes);
        const header = await outcome(() => readSafetensorsHeader(file), file);
        if (rng() < 0.1) {
          const fromFile = await outcome(() => readSafetensors(file), file);
          assert.equal(fromFile === undefined, whole === undefined, 'the file and buffer readers disagree');
        }
        if (!whole) return;
        assert.ok(header, 'the full reader accepted what the header reader refused');
        assert.deepEqual([...whole.tensors.keys()].sort(), [...header.tensors.keys()].sort());
        for (const [name, t] of whole.tensors) {
          assert.equal(
            t.data.length,
            t.shape.reduce((a, d) => a * d, 1),
            `${name}: data does not match the shape`,
          );
          assert.deepEqual([...t.shape], [...header.tensors.get(name)!.shape]);
        }
      },
    });
    assert.ok(report.cases >= 2000);
    t.diagnostic(
      `${report.cases} cases in ${report.elapsedMs.toFixed(0)} ms, slowest ${report.slowestMs.toFixed(0)} ms`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
