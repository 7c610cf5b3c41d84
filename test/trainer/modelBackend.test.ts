import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import * as nodeModule from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { BackendUnavailableError, explainLoadError, selectBackend } from '../../trainer/backend';

const GPU = '@tensorflow/tfjs-node-gpu';
const NODE = '@tensorflow/tfjs-node';

type Load = (request: string, parent: unknown, isMain: boolean) => unknown;
/** The CommonJS loader: backend.ts loads the optional native packages with `require`, which goes through it. */
const loader = ((nodeModule as unknown as { Module?: unknown }).Module ?? nodeModule) as { _load: Load };

/** What loading a package does in a simulated environment: not there, there but failing, or a working stand-in. */
type Simulated = 'absent' | Error | (() => unknown);

/**
 * Runs `fn` with `packages` loading as simulated, whatever this machine has installed: the branches of the
 * preference logic then run everywhere, instead of only where the machine happens to lack (or have) a package.
 */
async function withPackages<T>(packages: Record<string, Simulated>, fn: () => Promise<T>): Promise<T> {
  const simulated = new Map(Object.entries(packages));
  const original = loader._load;
  loader._load = function (this: unknown, request, parent, isMain) {
    const how = simulated.get(request);
    if (how === undefined) return original.call(this, request, parent, isMain);
    if (how === 'absent') {
      throw Object.assign(new Error(`Cannot find module '${request}'\nRequire stack:\n- trainer/backend.ts`), {
        code: 'MODULE_NOT_FOUND',
      });
    }
    if (how instanceof Error) throw how;
    return how();
  };
  try {
    return await fn();
  } finally {
    loader._load = original;
  }
}

/** Stands in for tfjs-node(-gpu): loading it registers the `tensorflow` backend, here computed by the CPU kernels. */
let standInRegistered = false;
const nativeStandIn = () => {
  if (!tf.findBackendFactory('tensorflow'))
    standInRegistered = tf.registerBackend('tensorflow', () => new MathBackendCPU(), 0);
  return {};
};

// The stand-in goes after each test, so that a real tfjs-node loaded later registers its own backend.
afterEach(async () => {
  await tf.setBackend('cpu');
  if (standInRegistered) tf.removeBackend('tensorflow');
  standInRegistered = false;
});

function canResolve(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

const unavailable = (pattern: RegExp, tried: number) => (e: unknown) => {
  assert.ok(e instanceof BackendUnavailableError, String(e));
  assert.match(e.message, pattern);
  assert.equal(e.tried.length, tried, JSON.stringify(e.tried));
  assert.equal(e.tried.at(-1)!.available, false);
  return true;
};

test('explainLoadError turns loader failures into reasons', () => {
  const notFound = Object.assign(new Error(`Cannot find module '${GPU}'`), { code: 'MODULE_NOT_FOUND' });
  assert.equal(explainLoadError(GPU, notFound), `${GPU} not installed`);
  const cuda = new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory');
  assert.equal(explainLoadError(GPU, cuda), 'CUDA library not found: libcudart.so.11.0');
});

test('auto records every attempt and lands on a working backend', async () => {
  const choice = await selectBackend('auto');
  assert.equal(choice.tried[0]!.backend, 'webgpu');
  // With a hardware GPU auto stops at webgpu; with none (or only a software adapter, as here) it goes on down the list.
  const next = choice.name === 'webgpu' ? [] : [GPU, NODE];
  assert.deepEqual(
    choice.tried.slice(1, 1 + next.length).map((t) => t.backend),
    next,
  );
  assert.ok(['webgpu', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'].includes(choice.name));
  assert.ok(choice.tried.at(-1)!.available);
  if (choice.name === 'wasm') {
    assert.equal(tf.getBackend(), 'wasm');
    assert.ok((choice.threads ?? 0) >= 1);
    assert.equal(
      tf.tidy(() => tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).dataSync()[0]),
      3,
    );
  }
});

test('an explicit gpu preference without tfjs-node-gpu is an error naming the missing package', async () => {
  await withPackages({ [GPU]: 'absent' }, () =>
    assert.rejects(
      selectBackend('gpu'),
      unavailable(/^Backend 'gpu' is not available: .*tfjs-node-gpu not installed$/, 1),
    ),
  );
});

test('an explicit gpu preference whose CUDA library is missing names the library, and does not fall back', async () => {
  const cuda = new Error('libcudnn.so.8: cannot open shared object file: No such file or directory');
  await withPackages({ [GPU]: cuda, [NODE]: nativeStandIn }, () =>
    assert.rejects(
      selectBackend('gpu'),
      unavailable(/^Backend 'gpu' is not available: CUDA library not found: libcudnn\.so\.8$/, 1),
    ),
  );
});

/** A tfjs-node-gpu stand-in whose TensorFlow found a CUDA device (`isUsingGpuDevice`, as tfjs-node-gpu's backend says), or none. */
const gpuStandIn = (usingGpu: boolean) => () => {
  if (!tf.findBackendFactory('tensorflow')) {
    const make = () => Object.assign(new MathBackendCPU(), { isUsingGpuDevice: usingGpu });
    standInRegistered = tf.registerBackend('tensorflow', make, 0);
  }
  return {};
};

test('an explicit gpu preference runs on tfjs-node-gpu where it loads and finds a CUDA device', async () => {
  const choice = await withPackages({ [GPU]: gpuStandIn(true) }, () => selectBackend('gpu'));
  assert.equal(choice.name, 'tensorflow-gpu');
  const why = 'tfjs-node-gpu loaded; TensorFlow runs on a CUDA device';
  assert.deepEqual(choice.tried, [{ backend: GPU, available: true, why }]);
  assert.equal(tf.getBackend(), 'tensorflow');
});

test('tfjs-node-gpu that finds no CUDA device is reported as TensorFlow on the CPU, not CUDA', async () => {
  const choice = await withPackages({ [GPU]: gpuStandIn(false) }, () => selectBackend('gpu'));
  assert.equal(choice.name, 'tensorflow');
  assert.match(choice.reason, /native TensorFlow on the CPU: .*found no CUDA device/);
});

test('an explicit node preference: an error without tfjs-node, native TensorFlow with it', async () => {
  await withPackages({ [NODE]: 'absent' }, () =>
    assert.rejects(
      selectBackend('node'),
      unavailable(/^Backend 'node' is not available: .*tfjs-node not installed$/, 1),
    ),
  );
  const choice = await withPackages({ [NODE]: nativeStandIn }, () => selectBackend('node'));
  assert.equal(choice.name, 'tensorflow');
  assert.match(choice.reason, /native TensorFlow/);
  assert.equal(tf.getBackend(), 'tensorflow');
});

test('auto passes over a tfjs-node-gpu that cannot load, saying why, and takes tfjs-node', async () => {
  const cuda = new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory');
  const choice = await withPackages({ [GPU]: cuda, [NODE]: nativeStandIn }, () => selectBackend('auto'));
  assert.equal(choice.name, 'tensorflow');
  const gpu = choice.tried.find((a) => a.backend === GPU);
  assert.deepEqual(gpu, { backend: GPU, available: false, why: 'CUDA library not found: libcudart.so.11.0' });
  assert.equal(choice.tried.at(-1)!.backend, NODE);
});

test('gpu on this machine, unsimulated: not installed is an error; installed runs or says why not', async () => {
  if (!canResolve(GPU)) {
    await assert.rejects(selectBackend('gpu'), unavailable(/tfjs-node-gpu not installed/, 1));
    return;
  }
  // Installed: a machine without CUDA cannot run it, and must say so instead of claiming it is missing.
  const outcome = await selectBackend('gpu').then(
    (c) => c,
    (e: unknown) => e,
  );
  if (outcome instanceof BackendUnavailableError) assert.doesNotMatch(outcome.message, /not installed/);
  else assert.equal((outcome as { name?: string }).name, 'tensorflow-gpu');
});

test('explicit cpu and wasm', async () => {
  assert.equal((await selectBackend('cpu')).name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  const w = await selectBackend('wasm');
  assert.equal(w.name, 'wasm');
  assert.match(w.reason, /WebAssembly/);
});
