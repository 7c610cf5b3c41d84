/**
 * An inference worker thread: its own single-threaded backend and a copy of the model, predicting the shards of
 * batches that predictPool.ts sends it. Everything it does is synchronous per message, so messages are handled
 * in the order they arrive.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend';
import { BertModel } from '../model/bert';
import type { FromWorker, ToWorker } from './messages';

const port = parentPort;
if (!port) throw new Error('predictWorker.ts runs only as a worker thread (predictPool.ts starts it)');

let model: BertModel | null = null;
// init is asynchronous (the backend loads its binaries); later messages wait for it.
let ready: Promise<void> = Promise.resolve();

function send(m: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(m, transfer);
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'init': {
      await selectBackend(m.preference, m.wasmDir ? { wasmDir: m.wasmDir } : {});
      model = BertModel.create(m.config, m.head, { numLabels: m.numLabels });
      send({ type: 'done', id: m.id });
      return;
    }
    case 'weights': {
      const mdl = need();
      m.names.forEach((name, i) => {
        const v = mdl.params.get(name);
        if (!v) throw new Error(`the worker's model has no parameter ${name}`);
        tf.tidy(() => v.assign(tf.tensor(m.data[i]!, m.shapes[i]!, 'float32')));
      });
      send({ type: 'done', id: m.id });
      return;
    }
    case 'predict': {
      const p = need().predict(m.batch);
      // Transfer, not copy, when the logits own their buffer (they are a fresh read of a disposed tensor).
      const own = p.logits.byteOffset === 0 && p.logits.byteLength === p.logits.buffer.byteLength ? p.logits : p.logits.slice();
      send({ type: 'prediction', id: m.id, logits: own, shape: p.shape }, [own.buffer as ArrayBuffer]);
      return;
    }
  }
}

function need(): BertModel {
  if (!model) throw new Error('internal: the worker got work before init');
  return model;
}

port.on('message', (m: ToWorker) => {
  ready = ready
    .then(() => handle(m))
    .catch((e: unknown) => send({ type: 'error', id: m.id, message: e instanceof Error ? e.message : String(e) }));
});
