import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { TrainerMessageOf } from '../../common/protocol';
import { makeWorkspace } from './engineFixtures';
import { startTrainer } from './trainerProcess';

test('the trainer subprocess says hello first, then plan, model, steps, checkpoints and done, and nothing else on stdout', async () => {
  const ws = makeWorkspace({ training: { max_steps: 4, save_strategy: 'steps', save_steps: 2, logging_steps: 1 } });
  const run = startTrainer(['train', ws.configFile]);
  assert.equal(await run.exit, 0, run.stderr());
  assert.deepEqual(run.garbage, []);
  const types = run.messages.map((m) => m.type).filter((t) => t !== 'log');
  assert.deepEqual(types, [
    'hello',
    'plan',
    'model',
    'step',
    'step',
    'checkpoint',
    'step',
    'step',
    'checkpoint',
    'done',
  ]);
  const hello = run.messages[0] as TrainerMessageOf<'hello'>;
  assert.equal(hello.protocolVersion, 1);
  assert.equal(hello.engineVersion, '0.1.0');
  assert.equal(hello.backend.name, 'wasm');
  assert.equal(hello.pid, run.child.pid);
  const done = run.messages.at(-1) as TrainerMessageOf<'done'>;
  assert.equal(done.status, 'completed');
  assert.ok(existsSync(path.join(done.lastCheckpoint!, 'model.safetensors')));
});

test('`stop` on stdin finishes the step, saves a checkpoint and exits 0 with status stopped', async () => {
  const ws = makeWorkspace({ training: { max_steps: 500, logging_steps: 1 } });
  const run = startTrainer(['train', ws.configFile]);
  await run.waitFor((m) => m.type === 'step' && m.step >= 2);
  run.child.stdin.write('{"type":"stop"}\n');
  assert.equal(await run.exit, 0, run.stderr());
  const done = run.messages.at(-1) as TrainerMessageOf<'done'>;
  assert.equal(done.type, 'done');
  assert.equal(done.status, 'stopped');
  assert.ok(done.step < 500);
  const ckpt = run.messages.filter((m) => m.type === 'checkpoint').at(-1) as TrainerMessageOf<'checkpoint'>;
  assert.equal(ckpt.step, done.step);
  assert.equal(done.lastCheckpoint, ckpt.path);
  assert.ok(existsSync(path.join(ckpt.path, 'trainer_state.json')));

  // The extension resumes with a flag rather than by editing the user's config.
  const resumed = startTrainer([
    'train',
    ws.configFile,
    '--resume-from-checkpoint',
    ckpt.path,
    '--max-steps',
    String(done.step + 2),
  ]);
  assert.equal(await resumed.exit, 0, resumed.stderr());
  const plan = resumed.messages.find((m) => m.type === 'plan') as TrainerMessageOf<'plan'>;
  assert.equal(plan.resumedFromStep, done.step);
  assert.deepEqual(
    resumed.messages.filter((m) => m.type === 'step').map((m) => (m as TrainerMessageOf<'step'>).step),
    [done.step + 1, done.step + 2],
  );
});

test('SIGTERM behaves like stop: a checkpoint, status stopped, exit 0', async () => {
  const ws = makeWorkspace({ training: { max_steps: 500, logging_steps: 1 } });
  const run = startTrainer(['train', ws.configFile]);
  await run.waitFor((m) => m.type === 'step');
  run.child.kill('SIGTERM');
  assert.equal(await run.exit, 0, run.stderr());
  const done = run.messages.at(-1) as TrainerMessageOf<'done'>;
  assert.equal(done.status, 'stopped');
  assert.ok(done.lastCheckpoint?.endsWith(`checkpoint-${done.step}`));
});

test('a host that disappears (its end of stdin closed) stops the run with a checkpoint instead of leaving an orphan', async () => {
  const ws = makeWorkspace({ training: { max_steps: 500, logging_steps: 1 } });
  const run = startTrainer(['train', ws.configFile]);
  await run.waitFor((m) => m.type === 'step');
  run.child.stdin.end();
  assert.equal(await run.exit, 0, run.stderr());
  const done = run.messages.at(-1) as TrainerMessageOf<'done'>;
  assert.equal(done.status, 'stopped');
  assert.ok(done.step < 500);
  assert.ok(done.lastCheckpoint?.endsWith(`checkpoint-${done.step}`));
  assert.match(run.stderr(), /closed the trainer's stdin/);
});

test('an uncaught exception becomes an `error` message before a non-zero exit', async () => {
  const ws = makeWorkspace({ training: { max_steps: 500 } });
  const run = startTrainer(['train', ws.configFile], {
    preload: path.join(__dirname, 'fixtures', 'throwAfterHello.cjs'),
  });
  const code = await run.exit;
  assert.notEqual(code, 0);
  const err = run.messages.find((m) => m.type === 'error') as TrainerMessageOf<'error'> | undefined;
  assert.ok(err, `no error message; stdout: ${JSON.stringify(run.messages.map((m) => m.type))}`);
  assert.equal(err.fatal, true);
  assert.equal(err.error.code, 'internal');
  assert.match(err.error.message, /boom from the test preload/);
});

test('a bad config stops before training with file and line, and creates no run folder', async () => {
  const ws = makeWorkspace();
  const bad = path.join(ws.dir, 'bad.finetune.yaml');
  writeFileSync(
    bad,
    [
      'mode: from-scratch',
      'model:',
      '  tokenizer: tokenizer',
      'data:',
      '  train_file: train.csv',
      '  text_colum: text',
      'training:',
      '  learning_rate: fast',
      '',
    ].join('\n'),
  );
  const run = startTrainer(['train', bad]);
  assert.equal(await run.exit, 2);
  const types = run.messages.map((m) => m.type);
  assert.deepEqual(types, ['hello', 'error']);
  const err = run.messages[1] as TrainerMessageOf<'error'>;
  assert.equal(err.error.code, 'config-invalid');
  assert.equal(err.error.file, bad);
  assert.equal(err.error.line, 6);
  assert.match(
    err.error.detail!,
    /bad\.finetune\.yaml:6:3: error: Unknown key `text_colum` in `data`. Did you mean `text_column`\?/,
  );
  assert.match(err.error.detail!, /bad\.finetune\.yaml:8:18: error: `training.learning_rate` must be a number/);
  assert.ok(!existsSync(path.join(ws.dir, '.finetune')));
});
