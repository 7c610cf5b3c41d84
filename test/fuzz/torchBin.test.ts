/**
 * Fuzzes the PyTorch checkpoint reader (files/hf/torchBin) with valid checkpoints (random float32 and int64
 * tensors: shared storages, offsets, transposed views; stored, deflated or zip64 containers) and damaged ones: bytes
 * of the whole zip mutated, the pickle mutated (with a correct CRC, so the pickle machine sees it), opcode soup
 * spliced into the pickle, storages cut or grown, and a legacy-format file mutated. Every file either reads with
 * the values it was made with (valid ones) or consistent tensors, or is refused with a FineTuneError that names it.
 * Reproduce a failure with `FUZZ_SEED=<seed> node --import tsx --test test/fuzz/torchBin.test.ts`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { FineTuneError } from '../../common/errors';
import { randInt } from '../../common/random';
import type { Rng } from '../../common/random';
import { parseTorchCheckpoint } from '../../files/hf/torchBin/torchBin';
import { Pickle, checkpointZip } from '../fixtures/torchFiles';
import { fuzz, mutateBytes, pick } from './harness';

const FILE = 'fuzz.bin';
const CODES = new Set([
  'torch-corrupt',
  'torch-unsafe-pickle',
  'torch-unsafe-global',
  'torch-unsupported-dtype',
  'torch-unsupported-format',
  'torch-not-state-dict',
]);
const LEGACY = readFileSync(
  path.join(__dirname, '..', 'trainer', 'fixtures', 'torchBin', 'cls-legacy', 'pytorch_model.bin'),
);

interface Made {
  bytes: Uint8Array;
  /** Set for unmutated files: what each tensor must read as. */
  expected?: Map<string, { shape: number[]; values: number[] }>;
}

interface StorageSpec {
  key: string;
  long: boolean;
  values: number[];
}

/** A valid checkpoint and the values its tensors hold, computed here from the view (offset, strides). */
function validCheckpoint(rng: Rng): {
  pickle: Uint8Array;
  storages: Record<string, Uint8Array>;
  expected: Made['expected'];
} {
  const storages: StorageSpec[] = [];
  const p = new Pickle().proto().global('collections', 'OrderedDict').tuple(0).reduce().mark();
  const expected = new Map<string, { shape: number[]; values: number[] }>();
  const count = 1 + randInt(rng, 4);
  for (let i = 0; i < count; i++) {
    if (storages.length === 0 || rng() < 0.6) {
      const long = rng() < 0.25;
      const values = Array.from({ length: 1 + randInt(rng, 24) }, () => (randInt(rng, 200) - 100) / (long ? 1 : 8));
      storages.push({ key: String(storages.length), long, values });
    }
    const s = pick(rng, storages);
    const rows = 1 + randInt(rng, Math.min(4, s.values.length));
    const cols = 1 + randInt(rng, Math.min(4, Math.floor(s.values.length / rows)));
    const offset = randInt(rng, s.values.length - rows * cols + 1);
    const transposed = rng() < 0.4;
    // A transposed view of a [cols, rows] block: shape [rows, cols], strides [1, rows].
    const stride = transposed ? [1, rows] : [cols, 1];
    const values: number[] = [];
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) values.push(s.values[offset + r * stride[0]! + c * stride[1]!]!);
    const name = `bert.t${i}`;
    p.str(name).tensor(s.key, s.values.length, [rows, cols], stride, offset, s.long ? 'LongStorage' : 'FloatStorage');
    expected.set(name, { shape: [rows, cols], values });
  }
  p.op('u').stop();
  const bytes: Record<string, Uint8Array> = {};
  for (const s of storages)
    bytes[s.key] = s.long ? int64Bytes(s.values) : new Uint8Array(Float32Array.from(s.values).buffer);
  return { pickle: p.bytes(), storages: bytes, expected };
}

function int64Bytes(values: number[]): Uint8Array {
  const out = new BigInt64Array(values.map((v) => BigInt(v)));
  return new Uint8Array(out.buffer);
}

const OPCODE_SOUP = [0x28, 0x29, 0x2e, 0x51, 0x52, 0x58, 0x5d, 0x61, 0x62, 0x63, 0x65, 0x68, 0x69, 0x6a, 0x6f, 0x71];
const MORE_SOUP = [0x72, 0x73, 0x74, 0x75, 0x7d, 0x80, 0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x93, 0x4b, 0x4e];

function generate(rng: Rng): Made {
  const { pickle, storages, expected } = validCheckpoint(rng);
  const container = { deflate: rng() < 0.3, zip64: rng() < 0.3 };
  const kind = randInt(rng, 7);
  if (kind === 0) return { bytes: checkpointZip(pickle, storages, container), expected };
  if (kind === 1) return { bytes: mutateBytes(rng, checkpointZip(pickle, storages, container)) };
  if (kind === 2) return { bytes: checkpointZip(mutateBytes(rng, pickle), storages, container) };
  if (kind === 3) {
    const soup = Array.from({ length: 1 + randInt(rng, 12) }, () => pick(rng, [...OPCODE_SOUP, ...MORE_SOUP]));
    const at = randInt(rng, pickle.length);
    const spliced = Uint8Array.from([...pickle.subarray(0, at), ...soup, ...pickle.subarray(at)]);
    return { bytes: checkpointZip(spliced, storages, container) };
  }
  if (kind === 4) {
    const key = pick(rng, Object.keys(storages));
    const data = storages[key]!;
    const changed = rng() < 0.5 ? data.subarray(0, randInt(rng, data.length)) : Uint8Array.from([...data, 0, 0, 0, 0]);
    return { bytes: checkpointZip(pickle, { ...storages, [key]: changed }, container) };
  }
  if (kind === 5) return { bytes: mutateBytes(rng, LEGACY) };
  return { bytes: mutateBytes(rng, mutateBytes(rng, checkpointZip(pickle, storages, container))) };
}

test('1,500+ generated and damaged PyTorch checkpoints: the right values or a clear error', async (t) => {
  let read = 0;
  const report = await fuzz('torchBin', {
    minCases: 1500,
    budgetMs: 8_000,
    caseMs: 2000,
    maxHeapGrowthMb: 128,
    generate,
    show: (m) => `${m.bytes.length} bytes: ${Buffer.from(m.bytes.subarray(0, 400)).toString('latin1')}`,
    async check(made) {
      let ckpt;
      try {
        ckpt = await parseTorchCheckpoint(made.bytes, FILE);
      } catch (e) {
        // A refusal must be a FineTuneError that names the file; anything else escaping is a bug.
        if (!(e instanceof FineTuneError)) throw e;
        assert.ok(CODES.has(e.code), `unexpected code ${e.code}: ${e.message}`);
        assert.ok(e.message.includes(FILE), `the message does not name the file: ${e.message}`);
        assert.equal(made.expected, undefined, `a valid checkpoint was refused: ${e.message}`);
        return;
      }
      read++;
      for (const [name, tensor] of ckpt.tensors) {
        assert.equal(
          tensor.data.length,
          tensor.shape.reduce((a, d) => a * d, 1),
          `${name}: data and shape disagree`,
        );
      }
      if (made.expected === undefined) return;
      assert.deepEqual([...ckpt.tensors.keys()], [...made.expected.keys()]);
      for (const [name, want] of made.expected) {
        assert.deepEqual([...ckpt.tensors.get(name)!.shape], want.shape, name);
        assert.deepEqual([...ckpt.tensors.get(name)!.data], want.values, name);
      }
    },
  });
  assert.ok(report.cases >= 1500);
  assert.ok(read > report.cases / 10, `only ${read} of ${report.cases} files read: the generator is too destructive`);
  t.diagnostic(
    `${report.cases} cases (${read} read) in ${report.elapsedMs.toFixed(0)} ms, slowest ${report.slowestMs.toFixed(0)} ms`,
  );
});
