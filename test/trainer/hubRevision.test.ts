/**
 * Issue 16, items 2 and 4: `model.revision` reaches the Hub client and is recorded in checkpoints; downloads are
 * reported as protocol `download` messages (throttled) and shown by the CLI.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { FakeHub } from '../fixtures/fakeHub';
import { makeSandbox } from '../fixtures/sandbox';
import { resolveModelFolder } from '../../trainer/hf/modelFolder';
import { runHubOptions, throttledProgress } from '../../trainer/hf/hubProgress';
import { hfConfigJson } from '../../trainer/engine/checkpoint';
import { BertModel } from '../../trainer/model/bert';
import { ProgressView } from '../../trainer/cliView';
import { serializeSafetensors } from '../../files/hf/safetensors';
import { encodeMessage, parseTrainerMessage, type TrainerMessage } from '../../common/protocol';
import { TINY } from './modelFixtures';

const sb = makeSandbox('hub-rev-');
const CONFIG = JSON.stringify({ model_type: 'bert', ...TINY });
const WEIGHTS = serializeSafetensors({ 'classifier.bias': { shape: [2], data: new Float32Array([1, 2]) } });

let hub: FakeHub;
before(async () => {
  await tf.setBackend('cpu');
  hub = await FakeHub.start();
  for (const v of ['HF_HUB_CACHE', 'HF_TOKEN', 'HF_TOKEN_PATH', 'HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE']) {
    delete process.env[v];
  }
  process.env.HF_HOME = sb.hfHome;
  process.env.HF_ENDPOINT = hub.endpoint;
});
after(async () => {
  await hub.close();
  rmSync(sb.root, { recursive: true, force: true });
});

test("the revision's commit and the Hub id go into the checkpoint's config.json", async () => {
  hub.addRepo('org/pinned', { 'config.json': CONFIG, 'vocab.txt': '[PAD]\n' });
  const pr = hub.commit('org/pinned', { 'config.json': CONFIG, 'model.safetensors': WEIGHTS }, 'refs/pr/3');
  const folder = await resolveModelFolder('org/pinned', { revision: 'refs/pr/3' });
  assert.equal(folder.config._name_or_path, 'org/pinned');
  assert.equal(folder.config.finetune_studio_revision, pr);
  const model = BertModel.create(TINY, 'sequence-classification', { numLabels: 2, seed: 1 });
  try {
    const written = hfConfigJson(model, undefined, folder.config);
    assert.equal(written._name_or_path, 'org/pinned');
    assert.equal(written.finetune_studio_revision, pr);
  } finally {
    model.dispose();
  }
});

test("a run's revision applies to the model and its own tokenizer, not to another tokenizer", () => {
  const emit = (): void => undefined;
  const own = runHubOptions({ name_or_path: 'org/m', revision: 'v2' }, emit);
  assert.equal(own.model.revision, 'v2');
  assert.equal(own.tokenizer.revision, 'v2');
  const other = runHubOptions({ name_or_path: 'org/m', revision: 'v2', tokenizer: 'org/tok' }, emit);
  assert.equal(other.tokenizer.revision, undefined);
  assert.equal(runHubOptions({ name_or_path: 'org/m' }, emit).model.revision, undefined);
});

test('download progress becomes protocol messages: a few per second per file, and always the last', () => {
  let clock = 0;
  const sent: TrainerMessage[] = [];
  const report = throttledProgress(
    (m) => sent.push(m),
    () => clock,
  );
  const total = 1000;
  for (let bytes = 100; bytes <= total; bytes += 100) {
    report({ repo: 'org/m', file: 'model.safetensors', bytes, total });
    report({ repo: 'org/m', file: 'vocab.txt', bytes: Math.min(bytes, 300), total: 300 });
    clock += 100;
  }
  const weights = sent.filter((m) => m.type === 'download' && m.file === 'model.safetensors');
  assert.deepEqual(
    weights.map((m) => (m.type === 'download' ? m.bytes : -1)),
    [100, 400, 700, 1000],
  );
  assert.equal(sent.filter((m) => m.type === 'download' && m.file === 'vocab.txt' && m.bytes === 300).length, 8);
  for (const m of sent) assert.ok(parseTrainerMessage(encodeMessage(m).trim()).ok, JSON.stringify(m));
  assert.ok(!parseTrainerMessage('{"type":"download","repo":"a","file":"b","bytes":"1","total":2}').ok);
  assert.ok(!parseTrainerMessage('{"type":"download","repo":"a","file":"b","bytes":3,"total":2}').ok);
});

test('the CLI draws a download bar on a terminal and prints one line per finished file elsewhere', () => {
  const out: string[] = [];
  const sink = { write: (s: string) => out.push(s) } as unknown as NodeJS.WritableStream;
  const half: TrainerMessage = {
    type: 'download',
    repo: 'org/m',
    file: 'model.safetensors',
    bytes: 1 << 20,
    total: 2 << 20,
  };
  const done: TrainerMessage = { ...half, bytes: 2 << 20 };
  const plain = new ProgressView(sink, false);
  plain.message(half);
  plain.message(done);
  assert.deepEqual(out, ['downloaded org/m: model.safetensors (2.0 MB)\n']);
  out.length = 0;
  new ProgressView(sink, true).message(half);
  assert.match(out.join(''), /\[█{12}░{12}\]  50% downloading org\/m: model\.safetensors 1\.0 MB \/ 2\.0 MB/);
});

test("the run's stop and cancel flags abort a download in progress", async () => {
  const control = { stop: false, cancel: false };
  const hubOptions = runHubOptions({ name_or_path: 'org/m' }, () => undefined, control);
  try {
    const signal = hubOptions.model.signal;
    assert.ok(signal !== undefined && hubOptions.tokenizer.signal === signal);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(signal.aborted, false);
    control.cancel = true;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(signal.aborted, true);
  } finally {
    hubOptions.dispose();
  }
});
