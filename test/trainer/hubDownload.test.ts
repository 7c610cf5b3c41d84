/**
 * Issue 16, item 4: a download reports progress, can be cancelled, and resumes after an interruption with a Range
 * request without ever leaving a corrupt file in the cache. Against the fake Hub on 127.0.0.1.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hubTestbed, TINY_BERT_CONFIG } from '../fixtures/hubTestbed';
import { fetchHubModel } from '../../trainer/hf/hub';
import type { DownloadProgress } from '../../trainer/hf/hubClient';
import { serializeSafetensors } from '../../files/hf/safetensors';
import { FineTuneError } from '../../common/errors';

const bed = hubTestbed('hub-dl-');
const sb = bed.sb;
const CONFIG = TINY_BERT_CONFIG;
// 2 MB, so that the body arrives in many chunks.
const WEIGHTS = serializeSafetensors({
  'classifier.bias': { shape: [500_000], data: new Float32Array(500_000).map((_, i) => i % 977) },
});
const MODEL = {
  'config.json': CONFIG,
  'model.safetensors': WEIGHTS,
  'vocab.txt': '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n',
};

function paths(id: string) {
  const repo = path.join(sb.hfHome, 'hub', `models--${id.replace('/', '--')}`);
  const blob = path.join(repo, 'blobs', bed.hub.file(id, 'model.safetensors').etag);
  return { repo, blob, partial: `${blob}.incomplete`, ref: path.join(repo, 'refs', 'main') };
}

/** The CDN sends the first `bytes` of the weights, then the connection drops. */
function cutAfter(bytes: number): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== 'GET' || !req.url?.startsWith('/cdn/') || req.headers.range !== undefined) return false;
    res.writeHead(200, { 'Content-Length': String(WEIGHTS.length) });
    res.write(WEIGHTS.subarray(0, bytes), () => setTimeout(() => res.destroy(), 20));
    return true;
  };
}

/** A download now succeeds, and the cached weights are exactly what the Hub serves. */
async function assertDownloadsWhole(id: string): Promise<string> {
  const dir = await fetchHubModel(id);
  assert.deepEqual(new Uint8Array(readFileSync(path.join(dir, 'model.safetensors'))), WEIGHTS);
  return dir;
}

function rejectsWith(code: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof FineTuneError, String(e));
    assert.equal(e.code, code, e.message);
    return true;
  };
}

test('an interrupted download resumes with a Range request and the cache is never corrupt', async () => {
  const id = 'org/resume';
  bed.hub.addRepo(id, MODEL);
  const p = paths(id);
  bed.hub.intercept = cutAfter(300_000);
  await assert.rejects(fetchHubModel(id), rejectsWith('hub-download-failed'));
  // Whatever arrived before the drop is kept (what was still in flight is lost with the connection).
  const kept = statSync(p.partial).size;
  assert.ok(kept > 0 && kept <= 300_000, `kept ${kept}`);
  assert.ok(!existsSync(p.blob) && !existsSync(p.ref), 'nothing half-done is taken for complete');
  await assert.rejects(fetchHubModel(id, { allowRemote: false }), rejectsWith('model-not-cached'));

  bed.hub.intercept = undefined;
  await assertDownloadsWhole(id);
  assert.ok(bed.hub.requests.some((r) => r.url.startsWith('/cdn/') && r.range === `bytes=${kept}-`));
  assert.ok(!existsSync(p.partial));
});

test('a server that ignores Range makes the download start over, not append twice', async () => {
  const id = 'org/norange';
  bed.hub.addRepo(id, MODEL);
  bed.hub.intercept = cutAfter(100_000);
  await assert.rejects(fetchHubModel(id), rejectsWith('hub-download-failed'));
  bed.hub.intercept = (req, res) => {
    if (!req.url?.startsWith('/cdn/') || req.headers.range === undefined) return false;
    res.writeHead(200, { 'Content-Length': String(WEIGHTS.length) });
    res.end(WEIGHTS);
    return true;
  };
  await assertDownloadsWhole(id);
});

test('a partial file that does not match the announced sha256 is thrown away, not cached', async () => {
  const id = 'org/corrupt';
  bed.hub.addRepo(id, MODEL);
  const p = paths(id);
  mkdirSync(path.dirname(p.partial), { recursive: true });
  writeFileSync(p.partial, new Uint8Array(1000).fill(7));
  await assert.rejects(fetchHubModel(id), rejectsWith('hub-download-corrupt'));
  assert.ok(!existsSync(p.partial) && !existsSync(p.blob) && !existsSync(p.ref));
  await assertDownloadsWhole(id);
});

test('progress is reported per file up to its size, and a download can be cancelled, then resumed', async () => {
  const id = 'org/cancel';
  bed.hub.addRepo(id, MODEL);
  const p = paths(id);
  const controller = new AbortController();
  const seen: [string, number, number][] = [];
  const onProgress = ({ file, bytes, total }: DownloadProgress): void => {
    seen.push([file, bytes, total]);
    if (file === 'model.safetensors' && bytes > 0) controller.abort();
  };
  await assert.rejects(
    fetchHubModel(id, { signal: controller.signal, onProgress }),
    rejectsWith('hub-download-cancelled'),
  );
  const kept = statSync(p.partial).size;
  assert.ok(kept > 0 && kept < WEIGHTS.length, `kept ${kept}`);
  assert.ok(!existsSync(p.ref));

  assert.deepEqual(seen[0], ['config.json', CONFIG.length, CONFIG.length]);
  seen.length = 0;
  await fetchHubModel(id, { onProgress: (p) => seen.push([p.file, p.bytes, p.total]) });
  const weights = seen.filter(([f]) => f === 'model.safetensors');
  assert.ok(weights.length > 1, 'several progress reports for 2 MB');
  assert.deepEqual(weights.at(-1), ['model.safetensors', WEIGHTS.length, WEIGHTS.length]);
  assert.ok(weights[0]![1] > kept, 'the resumed download counts from what was kept');
  assert.ok(
    weights.every(([, l], i) => i === 0 || l > weights[i - 1]![1]),
    'progress only grows',
  );
});

test('two downloads of the same model at once both succeed with one intact blob', async () => {
  const id = 'org/twice';
  bed.hub.addRepo(id, MODEL);
  const [a, b] = await Promise.all([fetchHubModel(id), fetchHubModel(id)]);
  assert.equal(a, b);
  assert.deepEqual(new Uint8Array(readFileSync(path.join(a, 'model.safetensors'))), WEIGHTS);
  assert.ok(!existsSync(paths(id).partial));
});
