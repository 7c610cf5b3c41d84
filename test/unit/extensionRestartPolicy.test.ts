import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RestartPolicy } from '../../extension/restartPolicy';

test('the language server is restarted after a crash, and the user is told once, not on every crash', () => {
  let t = 0;
  const p = new RestartPolicy(5, 60_000, () => t);
  assert.deepEqual(p.onCrash(), { action: 'restart', notify: true });
  t += 120_000;
  assert.deepEqual(p.onCrash(), { action: 'restart', notify: false });
  t += 120_000;
  assert.deepEqual(p.onCrash(), { action: 'restart', notify: false });
});

test('a server that keeps crashing is given up on instead of restarted in a loop', () => {
  let t = 0;
  const p = new RestartPolicy(3, 60_000, () => t);
  assert.equal(p.onCrash().action, 'restart');
  t += 1000;
  assert.equal(p.onCrash().action, 'restart');
  t += 1000;
  assert.deepEqual(p.onCrash(), { action: 'give-up', notify: true, crashes: 3 });
});

test('crashes older than the window do not count', () => {
  let t = 0;
  const p = new RestartPolicy(3, 60_000, () => t);
  p.onCrash();
  t += 1000;
  p.onCrash();
  t += 61_000;
  assert.equal(p.onCrash().action, 'restart');
});
