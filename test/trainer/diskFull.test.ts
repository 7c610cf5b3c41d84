// Issue 13, defect 7: a full disk (or a quota, a read-only disk, a permission) is a clear error naming the path
// and the fix, not `[internal]`. The errno is injected, no disk is filled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { fileSystemError, formatUserError, toUserError } from '../../common/errors';
import type { TrainerMessageOf } from '../../common/protocol';
import { makeWorkspace } from './engineFixtures';
import { startTrainer } from './trainerProcess';

function errno(code: string, syscall: string, file?: string): Error {
  const e = new Error(`${code}: injected, ${syscall}${file ? ` '${file}'` : ''}`);
  return Object.assign(e, { code, syscall, ...(file ? { path: file } : {}) });
}

test('ENOSPC, EDQUOT, EROFS and EACCES become errors with a code, the path and a fix', () => {
  const full = toUserError(errno('ENOSPC', 'open', '/runs/r/run.json'));
  assert.equal(full.code, 'disk-full');
  assert.equal(full.message, 'No space left on the device while opening /runs/r/run.json.');
  assert.equal(full.file, '/runs/r/run.json');
  assert.match(full.fix!, /Free space .* `output_dir` .* resume/);
  assert.equal(toUserError(errno('EDQUOT', 'write', '/q')).code, 'disk-quota-exceeded');
  assert.equal(
    toUserError(errno('EROFS', 'mkdir', '/ro/x')).message,
    'The file system is read-only while creating /ro/x.',
  );
  assert.equal(toUserError(errno('EACCES', 'rename', '/p')).code, 'permission-denied');
  // Writes through a file handle carry no path: the folder being written says where.
  assert.equal(
    toUserError(errno('ENOSPC', 'write'), '/runs/r').message,
    'No space left on the device while writing in /runs/r.',
  );
  assert.equal(fileSystemError(errno('ENOENT', 'open', '/x')), undefined);
  assert.equal(toUserError(errno('ENOENT', 'open', '/x')).code, 'internal');
  const text = formatUserError(errno('ENOSPC', 'write', '/runs/r/metrics.jsonl'));
  assert.match(text, /^\/runs\/r\/metrics\.jsonl: error: No space left on the device while writing .* \[disk-full\]\n/);
  assert.doesNotMatch(text, /internal/);
});

test('a trainer that meets a full disk reports disk-full with the path and exits 1', async () => {
  const ws = makeWorkspace({ training: { max_steps: 2 } });
  process.env.FINETUNE_TEST_ENOSPC_DIR = ws.dir;
  try {
    const run = startTrainer(['train', ws.configFile], { preload: path.join(__dirname, 'fixtures', 'enospc.cjs') });
    assert.equal(await run.exit, 1, run.stderr());
    const err = run.messages.find((m) => m.type === 'error') as TrainerMessageOf<'error'> | undefined;
    assert.ok(err, `no error message; stderr:\n${run.stderr()}`);
    assert.equal(err.error.code, 'disk-full');
    assert.ok(err.error.file?.startsWith(ws.dir), err.error.file);
    assert.match(err.error.message, /^No space left on the device while opening /);
    assert.match(err.error.detail ?? '', /fix: Free space/);
    assert.deepEqual(run.garbage, []);
  } finally {
    delete process.env.FINETUNE_TEST_ENOSPC_DIR;
  }
});

test('a write that fails mid-run without a path names the run folder; the run ends failed, not crashed', async () => {
  const ws = makeWorkspace({ training: { max_steps: 2 } });
  process.env.FINETUNE_TEST_ENOSPC_DIR = ws.dir;
  process.env.FINETUNE_TEST_ENOSPC_MODE = 'append';
  try {
    const run = startTrainer(['train', ws.configFile], { preload: path.join(__dirname, 'fixtures', 'enospc.cjs') });
    assert.equal(await run.exit, 1, run.stderr());
    const errors = run.messages.filter((m): m is TrainerMessageOf<'error'> => m.type === 'error');
    assert.equal(errors.length, 1, JSON.stringify(errors));
    const plan = run.messages.find((m) => m.type === 'plan') as TrainerMessageOf<'plan'> | undefined;
    assert.equal(errors[0]!.error.code, 'disk-full');
    // The first recorded message failed: the run folder, named by the plan, is where.
    assert.ok(plan, 'the plan was sent before the first record failed');
    assert.equal(errors[0]!.error.message, `No space left on the device while writing in ${plan.runDir}.`);
    const done = run.messages.at(-1) as TrainerMessageOf<'done'>;
    assert.equal(done.type, 'done');
    assert.equal(done.status, 'failed');
    assert.match(run.stderr(), /could not record the run's end in metrics\.jsonl/);
  } finally {
    delete process.env.FINETUNE_TEST_ENOSPC_DIR;
    delete process.env.FINETUNE_TEST_ENOSPC_MODE;
  }
});
