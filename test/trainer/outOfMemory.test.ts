/** An out-of-memory during a run becomes the user's error with the same advice as the check before it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { FineTuneError } from '../../common/errors';
import { validateConfigText } from '../../common/config/validate';
import type { BackendInfo } from '../../common/protocol';
import { isOutOfMemory, outOfMemoryError } from '../../trainer/engine/outOfMemory';
import { makeWorkspace } from './engineFixtures';
import { runEngine } from './engineRunner';

const wasm: BackendInfo = { name: 'wasm', reason: '', tried: [] };
const config = validateConfigText(
  'mode: fine-tune\nmodel:\n  name_or_path: m\ndata:\n  train_file: t.csv\n  max_length: 256\n' +
    'training:\n  per_device_train_batch_size: 32\n  gradient_accumulation_steps: 2\n',
).config;

test('the ways running out of memory shows are recognised; other errors are not', () => {
  for (const m of [
    'memory access out of bounds',
    'Array buffer allocation failed',
    'Cannot enlarge memory arrays to size 4294967296 bytes',
    'Aborted(OOM)',
    'OOM when allocating tensor with shape[32,12,512,512]',
  ]) {
    assert.ok(isOutOfMemory(new Error(m)), m);
  }
  assert.ok(!isOutOfMemory(new Error('label 3 outside [0, 2)')));
  assert.ok(!isOutOfMemory(new FineTuneError('gpu-out-of-memory', 'The GPU ran out of memory')));
});

test('the error names the sizes, halves the batch and keeps the effective batch', () => {
  const e = outOfMemoryError(new WebAssembly.RuntimeError('memory access out of bounds'), config, wasm)!;
  assert.equal(e.code, 'out-of-memory');
  assert.match(
    e.message,
    /WebAssembly backend ran out of memory while training at per_device_train_batch_size 32 and max_length 256/,
  );
  assert.match(
    e.fix!,
    /per_device_train_batch_size to 16 \(with gradient_accumulation_steps 4 to keep the effective batch of 64\)/,
  );
  assert.match(e.fix!, /resume from the last checkpoint/);
  assert.equal(e.detail, 'memory access out of bounds');
  assert.equal(outOfMemoryError(new Error('something else'), config, wasm), null);
});

test('a run that runs out of memory mid-training fails with the advice, and run.json records it', async () => {
  const ws = makeWorkspace({ training: { max_steps: 4 } });
  let runDir = '';
  await assert.rejects(
    runEngine(ws.configFile, {
      onStepEnd: (step) => {
        if (step === 2) throw new RangeError('Array buffer allocation failed');
      },
      onRunFolder: (rf) => (runDir = rf.dir),
    }),
    (e: unknown) =>
      e instanceof FineTuneError && e.code === 'out-of-memory' && /per_device_train_batch_size to 4/.test(e.fix!),
  );
  const info = JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8')) as {
    status: string;
    error?: { code: string };
  };
  assert.equal(info.status, 'failed');
  assert.equal(info.error?.code, 'out-of-memory');
});
