import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter, encodeMessage, parseHostMessage, parseTrainerMessage } from '../../common/protocol';
import type { TrainerMessage } from '../../common/protocol';
import { stepMessage } from '../fixtures/protocolMessages';

const hello: TrainerMessage = {
  type: 'hello',
  protocolVersion: 1,
  engineVersion: '0.1.0',
  pid: 42,
  backend: {
    name: 'wasm',
    reason: 'no native TensorFlow',
    tried: [{ backend: '@tensorflow/tfjs-node', available: false, why: 'not installed' }],
  },
};
const step = stepMessage;

test('valid trainer messages parse back to themselves', () => {
  for (const m of [
    hello,
    step,
    { ...step, loss: null, gradNorm: null },
    { type: 'done', status: 'stopped', step: 3, elapsedMs: 10, lastCheckpoint: '/x/checkpoint-3' },
  ] as TrainerMessage[]) {
    const r = parseTrainerMessage(encodeMessage(m).trim());
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.deepEqual(r.message, m);
  }
  const tree = {
    name: 'model',
    path: '',
    total: 10,
    trainable: 4,
    children: [{ name: 'classifier', path: 'classifier', total: 4, trainable: 4, shape: [2, 2], children: [] }],
  };
  assert.ok(
    parseTrainerMessage(
      JSON.stringify({ type: 'model', tree, total: 10, trainable: 4, newlyInitialized: ['classifier.weight'] }),
    ).ok,
  );
});

test('invalid trainer lines are refused with the reason', () => {
  const cases: [string, RegExp][] = [
    ['not json at all', /not JSON/],
    ['[1,2]', /without a "type"/],
    ['{"type":"nope"}', /unknown message type "nope"/],
    [JSON.stringify({ ...step, loss: 'low' }), /loss: expected finite number/],
    [JSON.stringify({ ...step, step: 1.5 }), /step: expected integer/],
    [JSON.stringify({ ...hello, backend: { ...hello.backend, name: 'tpu' } }), /backend.name: expected one of/],
    [JSON.stringify({ type: 'done', status: 'exploded', step: 1, elapsedMs: 1 }), /status: expected one of/],
    [JSON.stringify({ type: 'error', error: { message: 'x' }, fatal: true }), /error.code: expected string/],
    [
      JSON.stringify({
        type: 'model',
        tree: { name: 'm', path: '', total: 1, trainable: 1, children: [{ name: 'c' }] },
        total: 1,
        trainable: 1,
        newlyInitialized: [],
      }),
      /tree.children\[0\].path/,
    ],
  ];
  for (const [line, why] of cases) {
    const r = parseTrainerMessage(line);
    assert.equal(r.ok, false, line);
    if (!r.ok) assert.match(r.error, why);
  }
  // A host message is not a trainer message, and the reverse.
  assert.equal(parseTrainerMessage('{"type":"stop"}').ok, false);
  assert.equal(parseHostMessage(encodeMessage(step)).ok, false);
});

test('host messages: stop, save_now and cancel only', () => {
  for (const t of ['stop', 'save_now', 'cancel']) assert.ok(parseHostMessage(JSON.stringify({ type: t })).ok, t);
  assert.match((parseHostMessage('{"type":"pause"}') as { error: string }).error, /unknown message type/);
  assert.match((parseHostMessage('{"type":"__proto__"}') as { error: string }).error, /unknown message type/);
});

test('a message split across chunks is parsed whole', () => {
  const lines: string[] = [];
  const s = new LineSplitter((l) => lines.push(l));
  const wire = encodeMessage(hello) + encodeMessage(step);
  for (let i = 0; i < wire.length; i += 7) s.push(wire.slice(i, i + 7));
  s.end();
  assert.deepEqual(
    lines.map((l) => (parseTrainerMessage(l) as { message: TrainerMessage }).message.type),
    ['hello', 'step'],
  );
});
