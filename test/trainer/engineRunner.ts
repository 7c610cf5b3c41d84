/** Runs the engine in-process on a workspace and collects its messages (engine, resume and freeze tests). */
import { selectBackend } from '../../trainer/backend';
import type { BackendInfo, TrainerMessage, TrainerMessageOf } from '../../common/protocol';
import { loadConfig } from '../../trainer/engine/loadConfig';
import { train } from '../../trainer/engine/train';
import type { RunControl, TrainOptions } from '../../trainer/engine/train';

let backend: Promise<BackendInfo> | undefined;

export function wasmBackend(): Promise<BackendInfo> {
  backend ??= selectBackend('wasm').then((c) => ({ name: c.name, reason: c.reason, tried: c.tried }));
  return backend;
}

export interface EngineRun {
  messages: TrainerMessage[];
  done: TrainerMessageOf<'done'>;
  of<K extends TrainerMessage['type']>(type: K): TrainerMessageOf<K>[];
  runDir: string;
}

export async function runEngine(
  configFile: string,
  extra: Partial<Pick<TrainOptions, 'onStepEnd' | 'maxSteps' | 'resumeFrom' | 'onRunFolder'>> & {
    control?: RunControl;
  } = {},
): Promise<EngineRun> {
  const messages: TrainerMessage[] = [];
  const done = await train({
    loaded: await loadConfig(configFile),
    backend: await wasmBackend(),
    emit: (m) => messages.push(m),
    control: extra.control ?? { stop: false, saveNow: false, cancel: false },
    engineVersion: 'test',
    ...(extra.onStepEnd ? { onStepEnd: extra.onStepEnd } : {}),
    ...(extra.onRunFolder ? { onRunFolder: extra.onRunFolder } : {}),
    ...(extra.maxSteps !== undefined ? { maxSteps: extra.maxSteps } : {}),
    ...(extra.resumeFrom !== undefined ? { resumeFrom: extra.resumeFrom } : {}),
  });
  const of = <K extends TrainerMessage['type']>(type: K) =>
    messages.filter((m) => m.type === type) as TrainerMessageOf<K>[];
  const plan = of('plan')[0];
  if (!plan) throw new Error('no plan message');
  return { messages, done, of, runDir: plan.runDir };
}
