// What the host writes to a running trainer is bounded and checked: an oversized or hostile line is a warning in
// the protocol, and the run goes on and still obeys the next valid request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainerMessageOf } from '../../common/protocol';
import { makeWorkspace } from './engineFixtures';
import { startTrainer } from './trainerProcess';

test('a 100 KB line and a deeply nested one on stdin are ignored with a warning; the next stop is obeyed', async () => {
  const ws = makeWorkspace({ training: { max_steps: 500, logging_steps: 1 } });
  const run = startTrainer(['train', ws.configFile]);
  await run.waitFor((m) => m.type === 'step');
  run.child.stdin.write(`{"type":"stop","pad":"${'x'.repeat(100_000)}"}\n`);
  run.child.stdin.write(`{"type":"pause","x":${'['.repeat(30_000)}${']'.repeat(30_000)}}\n`);
  run.child.stdin.write('{"type":"stop"}\n');
  assert.equal(await run.exit, 0, run.stderr());
  const warnings = run.messages
    .filter((m): m is TrainerMessageOf<'log'> => m.type === 'log' && m.level === 'warn')
    .map((m) => m.message);
  assert.match(
    warnings[0] ?? '',
    /^ignored host message: skipped a line of 100024 characters .* 64 KiB\): \{"type":"stop"/,
  );
  assert.equal(warnings[1], 'ignored host message: unknown message type "pause"');
  const done = run.messages.at(-1) as TrainerMessageOf<'done'>;
  assert.equal(done.status, 'stopped');
  assert.ok(done.step < 500);
});
