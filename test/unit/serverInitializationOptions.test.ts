// The language server's start-up options come from another process: well-formed fields are kept, the rest dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readServerInitializationOptions } from '../../common/serverInitializationOptions';

test('well-formed options are kept', () => {
  const options = { runsFolder: 'runs', debounceMs: 10 };
  assert.deepEqual(readServerInitializationOptions(options), options);
});

test('missing, malformed or foreign options give the defaults', () => {
  assert.deepEqual(readServerInitializationOptions(undefined), {});
  assert.deepEqual(readServerInitializationOptions('runs'), {});
  assert.deepEqual(readServerInitializationOptions({ runsFolder: 3, debounceMs: -1 }), {});
  assert.deepEqual(readServerInitializationOptions({ runsFolder: '', debounceMs: Number.NaN, other: true }), {});
  assert.deepEqual(readServerInitializationOptions({ debounceMs: 0 }), { debounceMs: 0 });
});
