// The typed command tables (common/webviewProtocol.ts): the host dispatches a checked command to its handler,
// and the page checks each reply by the guard of the command that asked before anything uses it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { int, obj, str } from '../../common/guard';
import {
  checkCommand,
  checkpointCommands,
  checkReply,
  dispatchCommand,
  notice,
  request,
} from '../../common/webviewProtocol';
import type { CommandHandlers } from '../../common/webviewProtocol';

const posted: unknown[] = [];
const listeners: ((e: { data: unknown }) => void)[] = [];
Object.assign(globalThis, {
  window: { addEventListener: (_: string, l: (e: { data: unknown }) => void) => listeners.push(l) },
  document: { querySelector: () => null },
  acquireVsCodeApi: () => ({
    postMessage: (m: unknown) => posted.push(m),
    getState: () => undefined,
    setState: () => undefined,
  }),
});
const send = (data: unknown) => listeners.forEach((l) => l({ data }));

const table = {
  add: request(obj({ a: int, b: int }), int),
  log: notice(obj({ line: str })),
} as const;

test('a checked command reaches its own handler with its arguments', async () => {
  const seen: string[] = [];
  const handlers: CommandHandlers<typeof table> = {
    add: async ({ a, b }) => a + b,
    log: async ({ line }) => void seen.push(line),
  };
  const add = checkCommand(table, { name: 'add', args: { a: 2, b: 3 } });
  assert.ok(add.ok);
  assert.equal(await dispatchCommand(handlers, add.value), 5);
  const log = checkCommand(table, { name: 'log', args: { line: 'hi' } });
  assert.ok(log.ok);
  assert.equal(await dispatchCommand(handlers, log.value), undefined);
  assert.deepEqual(seen, ['hi']);
  assert.equal(checkCommand(table, { name: 'add', args: { a: 2 } }).ok, false);
  assert.equal(checkCommand(table, { name: 'constructor', args: {} }).ok, false, 'no lookup through the prototype');
});

test('replies are checked per command', () => {
  assert.deepEqual(checkReply(table, 'add', 5), { ok: true, value: 5 });
  assert.equal(checkReply(table, 'add', '5').ok, false);
  assert.equal(checkReply(table, 'log', undefined).ok, true);
  assert.equal(checkReply(table, 'log', 'something').ok, false, 'a notice is answered with nothing');
  const prediction = { label: 'pos', probabilities: { pos: 0.9, neg: 0.1 } };
  assert.equal(checkReply(checkpointCommands, 'try', prediction).ok, true);
  assert.equal(checkReply(checkpointCommands, 'try', { label: 'pos' }).ok, false);
  assert.equal(checkReply(checkpointCommands, 'evaluate', undefined).ok, true, 'no file picked: nothing');
  assert.equal(checkReply(checkpointCommands, 'evaluate', { metrics: {} }).ok, false);
});

test('the page resolves a request with a well-formed reply and rejects a malformed one', async () => {
  const { PanelIpc } = await import('../../webview/ipc');
  const ignore = () => undefined;
  const ipc = new PanelIpc({ state: obj({}), append: obj({}), commands: table, onSnapshot: ignore, onAppend: ignore });
  const good = ipc.request('add', { a: 1, b: 2 });
  const goodId = (posted.at(-1) as { id: number }).id;
  send({ type: 'reply', id: goodId, ok: true, value: 3 });
  assert.equal(await good, 3);
  const bad = ipc.request('add', { a: 1, b: 2 });
  const badId = (posted.at(-1) as { id: number }).id;
  send({ type: 'reply', id: badId, ok: true, value: 'three' });
  await assert.rejects(bad, /reply to "add"/);
});
