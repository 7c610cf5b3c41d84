/**
 * A replica worker thread: its own single-threaded backend and a copy of the model, computing the shards of
 * batches that replicas.ts sends it (predictions, or loss and gradients). Messages are handled one at a time, in
 * the order they arrive.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend';
import { BertModel } from '../model/bert';
import type { FromWorker, ToWorker } from './messages';

const port = parentPort;
if (!port) throw new Error('replicaWorker.ts runs only as a worker thread (replicas.ts starts it)');

let model: BertModel | null = null;
// init is asynchronous (the backend loads its binaries); later messages wait for it.
let queue: Promise<void> = Promise.resolve();

function send(m: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(m, transfer);
}

/** An array that owns its whole buffer, so that it can be transferred (a fresh read of a disposed tensor does). */
function owned(a: Float32Array): Float32Array {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : a.slice();
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
      const p = await need().predict(m.batch);
      const logits = owned(p.logits);
      send({ type: 'prediction', id: m.id, logits, shape: p.shape }, [logits.buffer as ArrayBuffer]);
      return;
    }
    case 'grads': {
      const trainable = new Set(m.trainable);
      const opts = { training: true, seed: m.seed, exampleOffset: m.exampleOffset };
      const r = await need().lossAndGrads(m.batch, opts, (n) => trainable.has(n));
      const names = [...r.grads.keys()];
      const shapes = names.map((n) => r.grads.get(n)!.shape);
      const data: Float32Array[] = [];
      for (const n of names) data.push(owned((await r.grads.get(n)!.data()) as Float32Array));
      for (const g of r.grads.values()) g.dispose();
      send(
        { type: 'grads', id: m.id, loss: r.loss, names, shapes, data },
        data.map((d) => d.buffer as ArrayBuffer),
      );
      return;
    }
  }
}

function need(): BertModel {
  if (!model) throw new Error('internal: the worker got work before init');
  return model;
}

port.on('message', (m: ToWorker) => {
  queue = queue
    .then(() => handle(m))
    .catch((e: unknown) => send({ type: 'error', id: m.id, message: e instanceof Error ? e.message : String(e) }));
});
