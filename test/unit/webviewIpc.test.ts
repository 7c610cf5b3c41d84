// The webview side of the panel protocol (webview/ipc.ts) under node, with the browser globals it touches stubbed:
// it says ready, applies a snapshot and in-order appends, asks for a snapshot on a gap, and refuses bad messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arr, int, obj } from '../../common/guard';
import { metricsCommands } from '../../common/webviewProtocol';

const posted: unknown[] = [];
const listeners: ((e: { data: unknown }) => void)[] = [];
let state: unknown;
Object.assign(globalThis, {
  window: { addEventListener: (_: string, l: (e: { data: unknown }) => void) => listeners.push(l) },
  document: { querySelector: () => ({ getAttribute: () => '{"kind":"metrics","runIds":["r1"]}' }) },
  acquireVsCodeApi: () => ({
    postMessage: (m: unknown) => posted.push(m),
    getState: () => state,
    setState: (s: unknown) => (state = s),
  }),
});
const send = (data: unknown) => listeners.forEach((l) => l({ data }));

test('ready, snapshot, appends in order, resync on a gap, bad messages refused', async () => {
  // Imported after the stubs: the module reads the browser globals when it runs.
  const { PanelIpc } = await import('../../webview/ipc');
  const snapshots: unknown[] = [];
  const appends: unknown[] = [];
  const problems: string[] = [];
  const ipc = new PanelIpc({
    state: obj({ items: arr(int) }),
    append: int,
    commands: metricsCommands,
    onSnapshot: (s) => snapshots.push(s),
    onAppend: (a) => appends.push(a),
    onProblem: (p) => problems.push(p),
  });
  assert.deepEqual(posted.at(-1), { type: 'ready' });
  assert.deepEqual(
    (state as { ident: unknown }).ident,
    { kind: 'metrics', runIds: ['r1'] },
    'the identity is kept for the panel serializer',
  );
  send({ type: 'snapshot', seq: 1, state: { items: [1] } });
  send({ type: 'append', seq: 2, item: 2 });
  assert.deepEqual(snapshots, [{ items: [1] }]);
  assert.deepEqual(appends, [2]);
  send({ type: 'append', seq: 4, item: 4 });
  assert.deepEqual(posted.at(-1), { type: 'resync', lastSeq: 2 });
  assert.deepEqual(appends, [2], 'nothing past the gap is applied');
  send({ type: 'snapshot', seq: 5, state: { items: 'not a list' } });
  assert.equal(snapshots.length, 1);
  assert.match(problems.at(-1) ?? '', /items/);
  send({ type: 'eval', code: 'alert(1)' });
  assert.match(problems.at(-1) ?? '', /unknown message type/);
  // @ts-expect-error the command table's types forbid it; the check at run time must refuse it too.
  ipc.command('stop', { runId: 7 });
  assert.notDeepEqual(
    posted.at(-1),
    { type: 'command', name: 'stop', args: { runId: 7 } },
    'an invalid command never leaves',
  );
  ipc.command('stop', { runId: 'r1' });
  assert.deepEqual(posted.at(-1), { type: 'command', name: 'stop', args: { runId: 'r1' } });
});
