/**
 * bench/wasmThreads.ts: the threaded SIMD build of tfjs-backend-wasm starts under Node with the requested
 * XNNPACK pool and computes what the single-threaded build computes. Runs in a child process, because a
 * backend's binary is chosen once per process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

const SCRIPT = `
const tf = require('@tensorflow/tfjs-core');
const wasm = require('@tensorflow/tfjs-backend-wasm');
const path = require('node:path');
const { withWasmThreads } = require('./bench/wasmThreads');
const { patchWasmKernels } = require('./trainer/wasmKernels');
(async () => {
  wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep);
  const threaded = process.argv[1] === 'threads';
  if (threaded) await withWasmThreads(2, () => tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true), () => tf.setBackend('wasm'));
  else await tf.setBackend('wasm');
  patchWasmKernels();
  const a = tf.randomNormal([300, 200], 0, 1, 'float32', 1), b = tf.randomNormal([200, 100], 0, 1, 'float32', 2);
  const m = tf.matMul(a, b);
  const s = tf.slice(m, [10, 20], [5, 7]);
  process.stdout.write(JSON.stringify({ threads: wasm.getThreadsCount(), sum: tf.sum(m).dataSync()[0], slice: Array.from(s.dataSync()) }));
  process.exit(0);
})();
`;

function run(mode: 'threads' | 'single'): { threads: number; sum: number; slice: number[] } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', SCRIPT, mode], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { threads: number; sum: number; slice: number[] };
}

test('threaded WASM starts under Node with 2 XNNPACK threads and matches the single-threaded results', () => {
  const single = run('single');
  const threaded = run('threads');
  assert.equal(single.threads, 1);
  assert.equal(threaded.threads, 2);
  assert.ok(
    Math.abs(threaded.sum - single.sum) <= 1e-3 * Math.max(1, Math.abs(single.sum)),
    `${threaded.sum} vs ${single.sum}`,
  );
  threaded.slice.forEach((v, i) => assert.ok(Math.abs(v - single.slice[i]!) < 1e-4, `slice[${i}]`));
});
