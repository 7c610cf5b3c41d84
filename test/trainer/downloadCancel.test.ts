/**
 * Issue 16, item 4: cancelling a run while its model downloads. The trainer process (as the extension forks it)
 * reports the download, gets `cancel` on stdin (what the Cancel button sends), aborts the request, and ends the
 * run as cancelled (exit 0, no error), not as a failure; what was downloaded is kept for a resume.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import * as path from 'node:path';
import { hubTestbed } from '../fixtures/hubTestbed';
import { makeWorkspace, withOverrides, writeConfig } from './engineFixtures';
import { startTrainer } from './trainerProcess';
import type { TrainerMessageOf } from '../../common/protocol';

const bed = hubTestbed('download-cancel-');
const FIXTURE = path.join(__dirname, 'fixtures', 'torchBin', 'cls');
const file = (f: string) => readFileSync(path.join(FIXTURE, f));

test('Cancel during a model download aborts it and ends the run as cancelled, keeping the partial file', async () => {
  const weights = new Uint8Array(4 << 20).fill(1);
  bed.hub.addRepo('org/slow', {
    'config.json': file('config.json'),
    'vocab.txt': file('vocab.txt'),
    'model.safetensors': weights,
  });
  const stalled: ServerResponse[] = [];
  // The weights' content arrives in part, then stalls, as on a slow link; metadata requests are answered as usual.
  bed.hub.intercept = (req, res) => {
    if (req.method !== 'GET' || !/model\.safetensors/.test(req.url ?? '')) return false;
    res.writeHead(200, { 'Content-Length': String(weights.length), ETag: '"x"' });
    res.write(weights.subarray(0, 1 << 20));
    stalled.push(res);
    return true;
  };
  const ws = makeWorkspace();
  const config = path.join(ws.dir, 'slow.finetune.yaml');
  writeConfig(
    config,
    withOverrides({
      mode: 'fine-tune',
      model: { tokenizer: undefined, architecture: undefined, name_or_path: 'org/slow' },
      data: { max_length: 16 },
    }),
  );
  const run = startTrainer(['train', config, '--backend', 'cpu'], { cwd: ws.dir, env: { ...process.env } });
  try {
    const first = (await run.waitFor(
      (m) => m.type === 'download' && m.file === 'model.safetensors' && m.bytes > 0,
    )) as TrainerMessageOf<'download'>;
    assert.ok(first.bytes < first.total);
    const t0 = Date.now();
    run.child.stdin.write(JSON.stringify({ type: 'cancel' }) + '\n');
    const done = (await run.waitFor((m) => m.type === 'done')) as TrainerMessageOf<'done'>;
    assert.equal(done.status, 'cancelled');
    assert.equal(await run.exit, 0, run.stderr());
    assert.ok(Date.now() - t0 < 5000, 'cancelled promptly');
    assert.equal(run.messages.filter((m) => m.type === 'error').length, 0, 'a cancel is not an error');
    // The weights are fetched before the run folder is made: a cancelled download leaves no failed run behind.
    assert.deepEqual(
      run.messages.map((m) => m.type).filter((t) => t !== 'download'),
      ['hello', 'done'],
    );
    const blobs = readdirSync(path.join(bed.sb.hfHome, 'hub', 'models--org--slow', 'blobs'));
    assert.ok(
      blobs.some((b) => b.endsWith('.incomplete')),
      `the partial download is kept: ${blobs.join(', ')}`,
    );
  } finally {
    for (const res of stalled) res.destroy();
    run.child.kill();
    rmSync(ws.dir, { recursive: true, force: true });
  }
});
