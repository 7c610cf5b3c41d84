import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arr, int, lazy, nullable, num, obj, oneOf, opt, record, str } from '../../common/guard';
import type { Guard } from '../../common/guard';
import { LineSplitter, parseTrainerMessage } from '../../common/protocol';

test('obj checks required and optional fields and names the path of the problem', () => {
  const g = obj({ a: int, b: opt(str), c: arr(obj({ d: nullable(num) })) });
  assert.equal(g.check({ a: 1, c: [{ d: null }, { d: 2.5 }] }), undefined);
  assert.equal(g.check({ a: 1, b: 'x', c: [] }), undefined);
  assert.equal(g.check({ a: 1.5, c: [] }), 'a: expected integer');
  assert.equal(g.check({ a: 1, b: 3, c: [] }), 'b: expected string');
  assert.equal(g.check({ a: 1, c: [{ d: 'x' }] }), 'c[0].d: expected finite number');
  assert.equal(g.check([]), 'expected object');
});

test('numbers must be finite: NaN and Infinity are refused', () => {
  assert.match(num.check(Number.NaN) ?? '', /finite/);
  assert.match(num.check(Infinity) ?? '', /finite/);
});

test('oneOf and record', () => {
  assert.equal(oneOf(['a', 'b'] as const).check('b'), undefined);
  assert.match(oneOf(['a', 'b'] as const).check('c') ?? '', /one of a, b/);
  assert.equal(record(num).check({ x: 1 }), undefined);
  assert.equal(record(num).check({ x: 'y' }, 'm'), 'm.x: expected finite number');
});

test('lazy supports recursive shapes', () => {
  interface T {
    c: T[];
  }
  const t: Guard<T> = obj({ c: arr(lazy(() => t)) }) as Guard<T>;
  assert.equal(t.check({ c: [{ c: [] }] }), undefined);
  assert.match(t.check({ c: [{ c: [1] }] }) ?? '', /c\[0\]\.c\[0\]: expected object/);
});

test('LineSplitter reassembles messages split across chunks', () => {
  const lines: string[] = [];
  const s = new LineSplitter((l) => lines.push(l));
  s.push('{"type":"log","level":"info","mes');
  s.push('sage":"a"}\r\n{"type":"lo');
  s.push('g","level":"warn","message":"b"}\n');
  s.end();
  assert.deepEqual(
    lines.map((l) => parseTrainerMessage(l).ok),
    [true, true],
  );
});
