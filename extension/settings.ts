/**
 * The extension's settings, declared once with their types. `package.json`'s `contributes.configuration` is
 * checked against this table by test/unit/extensionSettings.test.ts (as rust-analyzer does), so a setting cannot
 * be added, renamed or re-defaulted in one place only. No `vscode` import: the test runs under plain node.
 */
import { BACKEND_PREFERENCES } from '../common/config/schema';
import type { BackendPreference } from '../common/config/schema';
import { GPU_ENV, THREADS_ENV } from '../common/protocol';
import { PYTHON_ENV } from '../files/pythonProbe';
import { readConfigText } from './runConfig';

export const SETTINGS_SECTION = 'finetune';

interface SettingSpec<T> {
  type: 'string' | 'integer' | 'number' | 'boolean';
  default: T;
  description: string;
  enum?: readonly string[];
  enumDescriptions?: readonly string[];
  minimum?: number;
  maximum?: number;
  scope?: 'window' | 'resource' | 'machine-overridable';
}

export interface Settings {
  /** Extra folder (absolute, or relative to each workspace folder) scanned for runs besides `.finetune/runs` next to each config. */
  runsFolder: string;
  backend: BackendPreference;
  /** `auto` or part of a WebGPU adapter's name, passed to the trainer as GPU_ENV. */
  gpu: string;
  maxParallelRuns: number;
  stopGracePeriodSeconds: number;
  threads: number;
  /** The Python with torch for `engine: pytorch`; empty: the Python extension's interpreter, else python3. */
  python: string;
}

export const settingSpecs: { [K in keyof Settings]: SettingSpec<Settings[K]> } = {
  runsFolder: {
    type: 'string',
    default: '',
    scope: 'resource',
    description:
      'An extra folder scanned for runs, absolute or relative to the workspace folder. Runs are always looked for in `.finetune/runs` next to each `*.finetune.yaml` (its `output_dir`).',
  },
  backend: {
    type: 'string',
    default: 'auto',
    enum: BACKEND_PREFERENCES,
    enumDescriptions: [
      'Fastest available: a GPU through WebGPU, then tfjs-node-gpu, then tfjs-node, then WebAssembly, then pure ' +
        'JavaScript.',
      'WebGPU on any GPU (Vulkan, Metal or Direct3D 12), a software adapter included when forced.',
      '@tensorflow/tfjs-node-gpu (CUDA 11.2 and cuDNN 8.1 on Linux x64).',
      '@tensorflow/tfjs-node: native TensorFlow on the CPU.',
      'WebAssembly with SIMD and threads.',
      'Pure JavaScript: slow, always available.',
    ],
    scope: 'machine-overridable',
    description:
      'TensorFlow.js backend for runs whose config says `backend: auto`. A config that names a backend wins.',
  },
  gpu: {
    type: 'string',
    default: 'auto',
    scope: 'machine-overridable',
    description:
      "The GPU the `webgpu` backend trains on: `auto` (the high-performance one), or part of an adapter's name " +
      'as "Check training environment" lists it, e.g. `NVIDIA` or `Radeon`.',
  },
  maxParallelRuns: {
    type: 'integer',
    default: 1,
    minimum: 1,
    maximum: 16,
    description:
      'How many runs train at the same time; further runs wait in a queue. Each run uses the CPU cores it can get.',
  },
  stopGracePeriodSeconds: {
    type: 'integer',
    default: 60,
    minimum: 1,
    maximum: 3600,
    description:
      'After "Stop run", how long the trainer may take to finish its step and save a checkpoint before it is killed.',
  },
  threads: {
    type: 'integer',
    default: 0,
    minimum: 0,
    maximum: 64,
    scope: 'machine-overridable',
    description:
      'Threads a run trains and evaluates on with the WebAssembly or JavaScript backend: each batch is split across worker threads. `0`: every core, up to 4. Fewer keeps the machine responsive; with `maxParallelRuns` above 1, the runs share the cores.',
  },
  python: {
    type: 'string',
    default: '',
    scope: 'machine-overridable',
    description:
      'The Python interpreter (with `torch`) that runs configs with `engine: pytorch`. Empty: the interpreter ' +
      'selected in the Python extension, else `python3`. In VS Code Remote, this is a path on the remote machine.',
  },
};

/** The `contributes.configuration` block of package.json, generated from the table above. */
export function configurationContribution(): { title: string; properties: Record<string, Record<string, unknown>> } {
  const properties: Record<string, Record<string, unknown>> = {};
  for (const [key, spec] of Object.entries(settingSpecs) as [keyof Settings, SettingSpec<unknown>][]) {
    const p: Record<string, unknown> = {
      type: spec.type,
      default: spec.default,
      markdownDescription: spec.description,
    };
    if (spec.enum) p.enum = [...spec.enum];
    if (spec.enumDescriptions) p.enumDescriptions = [...spec.enumDescriptions];
    if (spec.minimum !== undefined) p.minimum = spec.minimum;
    if (spec.maximum !== undefined) p.maximum = spec.maximum;
    if (spec.scope) p.scope = spec.scope;
    properties[`${SETTINGS_SECTION}.${key}`] = p;
  }
  return { title: 'Fine-Tune Studio', properties };
}

/** Reads every setting through `get`, falling back to the default when a value has the wrong type or range. */
export function readSettings(get: (key: string) => unknown): Settings {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(settingSpecs) as [keyof Settings, SettingSpec<unknown>][]) {
    const v = get(key);
    out[key] = isValid(spec, v) ? v : spec.default;
  }
  return out as unknown as Settings;
}

function isValid(spec: SettingSpec<unknown>, v: unknown): boolean {
  switch (spec.type) {
    case 'string':
      return typeof v === 'string' && (!spec.enum || spec.enum.includes(v));
    case 'boolean':
      return typeof v === 'boolean';
    case 'integer':
    case 'number':
      return (
        typeof v === 'number' &&
        (spec.type === 'number' || Number.isInteger(v)) &&
        (spec.minimum === undefined || v >= spec.minimum) &&
        (spec.maximum === undefined || v <= spec.maximum)
      );
  }
}

/**
 * Trainer flags for the backend setting: it applies to configs that leave `backend` at `auto` (or unset); a
 * config that names a backend wins, since it was written for that machine on purpose.
 */
export function backendArgs(configText: string, preference: BackendPreference): string[] {
  if (preference === 'auto') return [];
  return readConfigText(configText).config.backend === 'auto' ? ['--backend', preference] : [];
}

/** Environment for the trainer from the threads setting (trainer/parallel/threads.ts reads it); 0 leaves the trainer's default. */
export function threadsEnv(threads: number): Record<string, string> {
  return threads > 0 ? { [THREADS_ENV]: String(threads) } : {};
}

/**
 * The trainer's environment from the settings: threads, the WebGPU adapter unless it is `auto`, and the Python
 * of `engine: pytorch` (the setting, else the Python extension's interpreter; neither: the trainer's python3).
 */
export function trainerEnv(
  s: Pick<Settings, 'threads' | 'gpu' | 'python'>,
  selectedPython?: string,
): Record<string, string> {
  const gpu = s.gpu.trim();
  const python = s.python.trim() || selectedPython;
  return {
    ...threadsEnv(s.threads),
    ...(gpu && gpu !== 'auto' ? { [GPU_ENV]: gpu } : {}),
    ...(python ? { [PYTHON_ENV]: python } : {}),
  };
}
