import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { fuzz, mutateBytes, mutateText } from './harness';

test('the fuzz harness runs at least minCases, and a failure names the seed, the case and the input', async () => {
  const ok = await fuzz('counts', {
    minCases: 50,
    maxCases: 50,
    generate: (rng) => mutateText(rng, 'abc'),
    check: () => {},
  });
  assert.equal(ok.cases, 50);
  await assert.rejects(
    fuzz('fails', { minCases: 10, generate: (_rng, i) => i, check: (i) => assert.notEqual(i, 7) }),
    (e: Error) => /case 7 failed \(FUZZ_SEED=\d+\)/.test(e.message) && /input: 7$/.test(e.message),
  );
});

test('a slow case fails the suite', async () => {
  await assert.rejects(
    fuzz('slow', { minCases: 1, caseMs: 5, generate: () => 0, check: () => new Promise((r) => setTimeout(r, 30)) }),
    /took \d+ ms \(limit 5/,
  );
});

test('the same seed gives the same mutations', async () => {
  const seen: string[][] = [[], []];
  for (const run of [0, 1]) {
    await fuzz('repeat', {
      minCases: 20,
      maxCases: 20,
      generate: (rng) => mutateText(rng, 'hello: world') + mutateBytes(rng, new Uint8Array([1, 2, 3])).join(','),
      check: (x) => void seen[run]!.push(x),
    });
  }
  assert.deepEqual(seen[0], seen[1]);
});
