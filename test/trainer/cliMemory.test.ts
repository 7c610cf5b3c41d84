/** A run too large for the backend stops before training: exit 2 (bad input) with the largest batch that fits. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { THREADS_ENV } from '../../common/protocol';
import { makeWorkspace } from './engineFixtures';
import { REPO } from './trainerProcess';

test('cli train: a batch too big for the WASM heap exits 2 before the first step, naming the batch that fits', () => {
  // A BERT-base-shaped encoder at 64 × 512: the attention alone is gigabytes per layer.
  const ws = makeWorkspace({
    model: {
      architecture: {
        hidden_size: 768,
        num_hidden_layers: 12,
        num_attention_heads: 12,
        intermediate_size: 3072,
        max_position_embeddings: 512,
      },
    },
    data: { max_length: 512 },
    training: { per_device_train_batch_size: 64, max_steps: 2 },
  });
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      pathToFileURL(require.resolve('tsx')).href,
      path.join(REPO, 'trainer', 'cli.ts'),
      'train',
      ws.configFile,
    ],
    { cwd: ws.dir, encoding: 'utf8', env: { ...process.env, [THREADS_ENV]: '1' }, timeout: 120_000 },
  );
  const out = r.stdout + r.stderr;
  assert.equal(r.status, 2, out);
  assert.match(out, /per_device_train_batch_size 64 and max_length 512, one training step needs about [\d.]+ GiB/);
  assert.match(out, /4\.00 GiB a WebAssembly thread can address/);
  const largest = /per_device_train_batch_size to (\d+) or less/.exec(out);
  assert.ok(largest && Number(largest[1]) >= 1 && Number(largest[1]) < 64, out);
  assert.doesNotMatch(out, /^step \d+/m, 'no step ran');
});
