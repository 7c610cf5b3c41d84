// Issue 13, defect 7 (protocol guard) and defect 4 (bounded per-class detail): hostile or broken messages are
// refused with a reason, never with an exception, and the cross-field rules of the messages hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonValue, lazy, obj, refine, arr, count, int, str } from '../../common/guard';
import type { Guard } from '../../common/guard';
import { CLASS_DETAIL, checkHostMessage, parseHostMessage, parseTrainerMessage } from '../../common/protocol';
import { stepMessage } from '../fixtures/protocolMessages';

const step = stepMessage;
const leaf = { name: 'w', path: 'w', total: 4, trainable: 4, shape: [2, 2], children: [] };
const model = (tree: unknown, total = 4, trainable = 4) =>
  JSON.stringify({ type: 'model', tree, total, trainable, newlyInitialized: [] });
const evalMsg = (over: Record<string, unknown>) =>
  JSON.stringify({
    type: 'eval',
    step: 1,
    epoch: 1,
    split: 'validation',
    metrics: { loss: 1 },
    isBest: false,
    ...over,
  });

function refused(line: string, why: RegExp): void {
  const r = parseTrainerMessage(line);
  assert.equal(r.ok, false, `accepted: ${line.slice(0, 200)}`);
  if (!r.ok) assert.match(r.error, why);
}

test('a model.tree nested 5,000 deep is refused with a reason instead of overflowing the stack', () => {
  // Written as text: JSON.stringify itself would overflow on such a value.
  const open = '{"name":"n","path":"n","total":4,"trainable":4,"children":['.repeat(5000);
  const tree = `${open}${JSON.stringify(leaf)}${']}'.repeat(5000)}`;
  const line = `{"type":"model","tree":${tree},"total":4,"trainable":4,"newlyInitialized":[]}`;
  refused(line, /nested deeper than 64 levels/);
  // The reason stays readable: the path is cut in the middle.
  const r = parseTrainerMessage(line);
  assert.ok(!r.ok && r.error.length < 400, !r.ok ? r.error : '');
  // A real model's depth (about ten) passes.
  let ok: Record<string, unknown> = { ...leaf };
  for (let i = 0; i < 12; i++) ok = { name: 'n', path: 'n', total: 4, trainable: 4, children: [ok] };
  assert.ok(parseTrainerMessage(model(ok)).ok);
});

test('counters are non-negative safe integers', () => {
  refused(JSON.stringify({ ...step, step: -1 }), /step: expected integer ≥ 0, not -1/);
  refused(JSON.stringify({ ...step, step: 2 ** 53 + 2 }), /step: integer 9007199254740994 is beyond ±2\^53/);
  refused('{"type":"step","step":1e400}', /not JSON|expected integer/);
  refused(JSON.stringify({ ...step, elapsedMs: -5 }), /elapsedMs: expected a finite number ≥ 0/);
  const plan = {
    type: 'plan',
    runId: 'r',
    runDir: 'd',
    mode: 'fine-tune',
    task: 'text-classification',
    totalSteps: 10,
    stepsPerEpoch: 5,
    epochs: 2,
    trainExamples: 10,
    evalExamples: 2,
  };
  assert.ok(parseTrainerMessage(JSON.stringify(plan)).ok);
  refused(JSON.stringify({ ...plan, totalSteps: -10 }), /totalSteps/);
  refused(JSON.stringify({ ...plan, trainExamples: 1e300 }), /trainExamples: integer .* beyond/);
  refused(JSON.stringify({ type: 'done', status: 'completed', step: -3, elapsedMs: 1 }), /step/);
  refused(evalMsg({ perClass: [{ label: 'a', precision: 1, recall: 1, f1: 1, support: -1 }] }), /support/);
});

test('trainable may not exceed total, in the message and at every node of the tree', () => {
  assert.ok(parseTrainerMessage(model(leaf)).ok);
  refused(model(leaf, 4, 5), /^invalid "model" message: trainable \(5\) is more than total \(4\)$/);
  const tree = { ...leaf, children: [{ ...leaf, trainable: 9 }] };
  refused(model(tree), /tree\.children\[0\]: trainable \(9\) is more than total \(4\)/);
});

test('a confusion matrix is labels × labels: ragged, short or unlabelled matrices are refused', () => {
  const labels = ['a', 'b'];
  assert.ok(
    parseTrainerMessage(
      evalMsg({
        labels,
        confusion: [
          [1, 0],
          [0, 1],
        ],
      }),
    ).ok,
  );
  refused(evalMsg({ labels, confusion: [[1, 0], [0]] }), /confusion\[1\]: 1 columns for 2 labels/);
  refused(evalMsg({ labels, confusion: [[1, 0]] }), /confusion: 1 rows for 2 labels/);
  refused(evalMsg({ confusion: [[1]] }), /confusion matrix needs its labels/);
  refused(
    evalMsg({
      labels,
      confusion: [
        [1, -1],
        [0, 1],
      ],
    }),
    /confusion\[0\]\[1\]/,
  );
});

test('per-class detail is bounded: at most CLASS_DETAIL labels, classes and characters', () => {
  const many = Array.from({ length: CLASS_DETAIL.confusionUpTo + 1 }, (_, i) => `c${i}`);
  refused(evalMsg({ labels: many }), /labels: 101 elements, over the limit of 100/);
  const per = many.map((label) => ({ label, precision: 0, recall: 0, f1: 0, support: 1 }));
  refused(evalMsg({ perClass: per }), /perClass: 101 elements/);
  refused(evalMsg({ labels: ['x'.repeat(CLASS_DETAIL.labelChars + 1)] }), /labels\[0\]: string of 201 characters/);
  assert.ok(parseTrainerMessage(evalMsg({ perClass: per.slice(0, 100), classes: 2900 })).ok);
});

test('an opaque result value must be JSON nested at most 64 deep, checked without recursion', () => {
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  refused(`{"type":"result","command":"predict","value":${deep}}`, /value: nested deeper than 64 levels/);
  assert.ok(parseTrainerMessage('{"type":"result","command":"predict","value":{"label":"a","p":[1,2]}}').ok);
  assert.equal(jsonValue().check({ a: [1, { b: Infinity }] }), 'a number that is not finite');
  assert.match(jsonValue().check({ f: () => 1 }) ?? '', /holds a value of type function/);
  refused('{"type":"result","command":"predict"}', /value: expected a JSON value/);
});

test('prototype-named types and keys are data, never lookups', () => {
  for (const t of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    refused(JSON.stringify({ type: t }), /unknown message type/);
    assert.match((parseHostMessage(JSON.stringify({ type: t })) as { error: string }).error, /unknown message type/);
  }
  // A missing field is missing even when Object.prototype has a member of that name.
  const g = obj({ constructor: str });
  assert.equal(g.check({}), 'constructor: expected string');
  refused('{"__proto__":{"type":"step"}}', /without a "type"/);
  const polluted = parseTrainerMessage(
    JSON.stringify({ ...step, __proto__: { polluted: true } }).replace('"__proto__"', '"__proto__"'),
  );
  assert.ok(polluted.ok);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('host messages that arrive as objects (IPC) are checked the same way', () => {
  assert.deepEqual(checkHostMessage({ type: 'stop' }), { ok: true, message: { type: 'stop' } });
  assert.equal(checkHostMessage({ type: 'pause' }).ok, false);
  assert.equal(checkHostMessage('stop').ok, false);
  assert.equal(checkHostMessage(null).ok, false);
  assert.equal(checkHostMessage([{ type: 'stop' }]).ok, false);
});

test('predict_input carries one text or a pair; anything else is refused with the field named', () => {
  const single = { type: 'predict_input', text: 'a' };
  const pair = { type: 'predict_input', text: 'a', textPair: 'b' };
  assert.deepEqual(parseHostMessage(JSON.stringify(single)), { ok: true, message: single });
  assert.deepEqual(parseHostMessage(JSON.stringify(pair)), { ok: true, message: pair });
  assert.deepEqual(checkHostMessage(pair), { ok: true, message: pair });
  for (const [bad, field] of [
    [{ type: 'predict_input', textPair: 'b' }, /text/],
    [{ type: 'predict_input', text: 'a', textPair: 2 }, /textPair/],
    [{ type: 'predict_input', text: ['a'] }, /text/],
  ] as const) {
    const r = parseHostMessage(JSON.stringify(bad));
    assert.equal(r.ok, false, JSON.stringify(bad));
    if (!r.ok) assert.match(r.error, field);
  }
});

test('refine runs typed cross-field rules after the shape check, with the path', () => {
  const range: Guard<{ lo: number; hi: number }> = refine(obj({ lo: int, hi: int }), (v) =>
    v.lo <= v.hi ? undefined : `lo (${v.lo}) is above hi (${v.hi})`,
  );
  const g = obj({ r: arr(range) });
  assert.equal(g.check({ r: [{ lo: 1, hi: 2 }] }), undefined);
  assert.equal(
    g.check({
      r: [
        { lo: 1, hi: 2 },
        { lo: 3, hi: 2 },
      ],
    }),
    'r[1]: lo (3) is above hi (2)',
  );
  assert.equal(g.check({ r: [{ lo: 'x', hi: 2 }] }), 'r[0].lo: expected integer');
  // lazy's depth bound is per guard and is restored after a refusal, so the next check starts from zero.
  interface T {
    c: T[];
  }
  const t: Guard<T> = obj({ c: arr(lazy(() => t, 3)) }) as Guard<T>;
  const nest = (d: number): T => (d ? { c: [nest(d - 1)] } : { c: [] });
  assert.match(t.check(nest(5)) ?? '', /nested deeper than 3 levels/);
  assert.equal(t.check(nest(3)), undefined);
  assert.equal(count.check(0), undefined);
});
