/**
 * For the webgpu tests: whether a WebGPU adapter exists (a software one counts: CI installs lavapipe), and an
 * in-process engine run on a chosen backend.
 */
import type { TestContext } from 'node:test';
import { selectBackend } from '../../trainer/backend';
import { requestAdapter } from '../../trainer/gpu/dawn';
import { loadConfig } from '../../trainer/engine/loadConfig';
import { train } from '../../trainer/engine/train';
import type { TrainerMessage, TrainerMessageOf } from '../../common/protocol';

let probe: Promise<string | null> | undefined;

/** Null when an adapter exists, else why not. */
function noAdapterReason(): Promise<string | null> {
  probe ??= requestAdapter()
    .then((a) => (a ? null : 'Dawn found no WebGPU adapter (no Vulkan, Metal or Direct3D 12 driver)'))
    .catch((e: unknown) => `dawn.node did not load: ${e instanceof Error ? e.message : String(e)}`);
  return probe;
}

/**
 * True when the test can run. Skips (saying why) only where no adapter exists at all; in CI, where .ci/run
 * installs lavapipe, a missing adapter is a failure, not a skip.
 */
export async function needAdapter(t: TestContext): Promise<boolean> {
  const why = await noAdapterReason();
  if (why === null) return true;
  if (process.env['CI']) throw new Error(`CI must have a WebGPU adapter (lavapipe, see .ci/run): ${why}`);
  t.skip(why);
  return false;
}

export interface BackendRun {
  done: TrainerMessageOf<'done'>;
  steps: TrainerMessageOf<'step'>[];
  evals: TrainerMessageOf<'eval'>[];
}

/** Trains `configFile` in this process on `backend` (the engine uses whichever tfjs backend is active). */
export async function trainOn(backend: 'webgpu' | 'wasm', configFile: string, maxSteps?: number): Promise<BackendRun> {
  const choice = await selectBackend(backend);
  const messages: TrainerMessage[] = [];
  const done = await train({
    loaded: await loadConfig(configFile),
    backend: { name: choice.name, reason: choice.reason, tried: choice.tried },
    emit: (m) => messages.push(m),
    control: { stop: false, saveNow: false, cancel: false },
    engineVersion: 'test',
    ...(maxSteps !== undefined ? { maxSteps } : {}),
  });
  const of = <K extends TrainerMessage['type']>(type: K) =>
    messages.filter((m) => m.type === type) as TrainerMessageOf<K>[];
  return { done, steps: of('step'), evals: of('eval') };
}
