/**
 * EXPERIMENT (bench/case.ts --wasm-threads N), not used by the trainer: multi-threaded SIMD WASM under Node.
 * tfjs-backend-wasm 4.22 disables
 * threads under Node (tfjs issue #3830) for two reasons this works around:
 * 1. Emscripten's pthread workers are started from a `blob:` URL (and the module factory is posted as a Blob),
 *    which Node's worker_threads cannot load. We write the worker script to a temp file that `require`s the
 *    factory, and point worker_threads at it.
 * 2. The XNNPACK thread pool is sized at start-up to os.cpus().length / 2 (a hyper-threading guess), so a 2-core
 *    machine gets 1 thread whatever setThreadsCount says. We report 2·n logical cores while the module starts.
 * With both, the pool starts (2 threads) and matmuls match the single-threaded build, and inference runs; but a
 * BERT-tiny training step hung (no progress for minutes), which looks like a pthread waiting on the main thread
 * while the main thread waits in the pool. On the shared 2-core test machine inference was not faster either.
 * So the trainer stays single-threaded; this stays here to reproduce and continue from.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type * as WT from 'node:worker_threads';

let workerFile: string | null = null;

/** Makes worker_threads accept the `blob:` worker URL of tfjs-backend-wasm's threaded build. */
function installWorkerShim(): void {
  if (workerFile) return;
  const req = createRequire(__filename);
  const factory = req.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
  const { wasmWorkerContents } = req(
    '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js',
  ) as { wasmWorkerContents: string };
  const load =
    'if(typeof e.data.urlOrBlob=="string"){importScripts(e.data.urlOrBlob)}else{var objectUrl=URL.createObjectURL(e.data.urlOrBlob);importScripts(objectUrl);URL.revokeObjectURL(objectUrl)}';
  if (!wasmWorkerContents.includes(load))
    throw new Error('the tfjs-backend-wasm worker script is not the one this shim knows (4.22)');
  // tfjs escapes newlines the same way before making its Blob: the template literal holds raw ones inside JS strings.
  const script = wasmWorkerContents
    .replace(/\n/g, '\\n')
    .replace(load, `global.WasmBackendModuleThreadedSimd=require(${JSON.stringify(factory)});`);
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'tfjs-wasm-')), 'worker.js');
  writeFileSync(file, script);
  // The CommonJS module object, which emscripten reads `Worker` from when it starts its pool.
  const wt = req('worker_threads') as typeof WT;
  const Orig = wt.Worker;
  class BlobAwareWorker extends Orig {
    constructor(filename: string | URL, options?: WT.WorkerOptions) {
      super(typeof filename === 'string' && filename.startsWith('blob:') ? file : filename, options);
    }
  }
  (wt as { Worker: typeof WT.Worker }).Worker = BlobAwareWorker;
  workerFile = file;
}

/**
 * Runs `init` (which must start the wasm backend) with the threaded binary and an XNNPACK pool of `threads`.
 * `setMultithread` sets tfjs's WASM_HAS_MULTITHREAD_SUPPORT flag (passed in so this file needs no tfjs import).
 */
export async function withWasmThreads<T>(
  threads: number,
  setMultithread: () => void,
  init: () => Promise<T>,
): Promise<T> {
  installWorkerShim();
  setMultithread();
  // The module object itself: emscripten calls require("os").cpus(), which an ESM namespace copy would not reach.
  const os = createRequire(__filename)('os') as typeof import('node:os');
  const cpus = os.cpus;
  const one = cpus()[0];
  (os as { cpus: typeof os.cpus }).cpus = () => (one ? Array.from({ length: 2 * threads }, () => one) : cpus());
  try {
    return await init();
  } finally {
    (os as { cpus: typeof os.cpus }).cpus = cpus;
  }
}
