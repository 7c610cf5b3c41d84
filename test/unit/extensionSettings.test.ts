// The settings table in extension/settings.ts is the one declaration; package.json must match it exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { backendArgs, configurationContribution, readSettings, settingSpecs } from '../../extension/settings';
import { threadsEnv, trainerEnv } from '../../extension/settings';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  contributes: {
    configuration: { properties: Record<string, unknown> };
    commands: { command: string; category?: string }[];
    menus: Record<string, { command: string }[]>;
  };
  activationEvents?: string[];
};

test('package.json contributes.configuration is generated from the settings table (no drift)', () => {
  const expected = configurationContribution();
  const actual = pkg.contributes.configuration;
  assert.deepEqual(
    Object.keys(actual.properties).sort(),
    Object.keys(expected.properties).sort(),
    'a setting was added or removed in one place only',
  );
  for (const [key, spec] of Object.entries(expected.properties)) {
    assert.deepEqual(actual.properties[key], spec, `package.json's ${key} differs from extension/settings.ts`);
  }
});

test('every declared default passes its own validation', () => {
  const defaults = readSettings(() => undefined);
  for (const [k, spec] of Object.entries(settingSpecs)) {
    assert.deepEqual(
      readSettings((key) => (key === k ? spec.default : undefined))[k as keyof typeof defaults],
      spec.default,
    );
  }
});

test('readSettings falls back to defaults for values of the wrong type or range', () => {
  const s = readSettings(
    (k) => ({ maxParallelRuns: 0, backend: 'tpu', runsFolder: 42, stopGracePeriodSeconds: 1.5 })[k],
  );
  assert.equal(s.maxParallelRuns, 1);
  assert.equal(s.backend, 'auto');
  assert.equal(s.runsFolder, '');
  assert.equal(s.stopGracePeriodSeconds, 60);
  const values = { maxParallelRuns: 3, backend: 'webgpu', gpu: 'NVIDIA', runsFolder: 'runs', threads: 2 };
  const ok = readSettings((k) => (values as Record<string, unknown>)[k]);
  assert.deepEqual(ok, { ...values, stopGracePeriodSeconds: 60, python: '' });
});

test('the backend setting applies only to configs that leave backend at auto', () => {
  assert.deepEqual(backendArgs('mode: fine-tune\nbackend: auto\n', 'wasm'), ['--backend', 'wasm']);
  assert.deepEqual(backendArgs('mode: fine-tune\n', 'cpu'), ['--backend', 'cpu']);
  assert.deepEqual(backendArgs('mode: fine-tune\nbackend: gpu # this machine\n', 'wasm'), []);
  assert.deepEqual(backendArgs('backend: node\n', 'auto'), []);
});

test('every command is in category Fine-Tune and every menu entry names a declared command', () => {
  const ids = new Set(pkg.contributes.commands.map((c) => c.command));
  for (const c of pkg.contributes.commands) assert.equal(c.category, 'Fine-Tune', c.command);
  for (const [menu, entries] of Object.entries(pkg.contributes.menus)) {
    for (const e of entries) assert.ok(ids.has(e.command), `${menu} names undeclared ${e.command}`);
  }
  // Activation stays narrow: no `*`, no onStartupFinished.
  for (const e of pkg.activationEvents ?? []) assert.ok(e !== '*' && e !== 'onStartupFinished', e);
});

test('the threads setting reaches the trainer as FINETUNE_THREADS; 0 leaves its default', () => {
  assert.deepEqual(threadsEnv(0), {});
  assert.deepEqual(threadsEnv(3), { FINETUNE_THREADS: '3' });
  assert.equal(readSettings((k) => (k === 'threads' ? -1 : undefined)).threads, 0);
});

test('the gpu setting reaches the trainer as FINETUNE_GPU, except auto', () => {
  assert.deepEqual(trainerEnv({ threads: 0, gpu: 'auto', python: '' }), {});
  const radeon = { FINETUNE_THREADS: '2', FINETUNE_GPU: 'Radeon' };
  assert.deepEqual(trainerEnv({ threads: 2, gpu: ' Radeon ', python: '' }), radeon);
  assert.equal(readSettings((k) => (k === 'gpu' ? 7 : undefined)).gpu, 'auto');
});

test("engine: pytorch runs on the python setting, else the Python extension's interpreter, else the default", () => {
  const s = { threads: 0, gpu: 'auto' };
  assert.deepEqual(trainerEnv({ ...s, python: '' }), {}, 'neither: the trainer falls back to python3');
  assert.deepEqual(trainerEnv({ ...s, python: '' }, '/venv/bin/python'), { FINETUNE_PYTHON: '/venv/bin/python' });
  const chosen = trainerEnv({ ...s, python: ' /opt/torch/bin/python3 ' }, '/venv/bin/python');
  assert.deepEqual(chosen, { FINETUNE_PYTHON: '/opt/torch/bin/python3' }, 'the setting wins over the Python extension');
  assert.equal(readSettings((k) => (k === 'python' ? 3 : undefined)).python, '');
});
