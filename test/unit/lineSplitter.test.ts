// The line splitter between the processes: oversized lines are skipped and reported, never passed on as a
// line (which the run manager would take for a broken trainer) and never buffered past the limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter, describeOversized, parseTrainerMessage } from '../../common/protocol';
import type { OversizedLine } from '../../common/protocol';

function split(chunks: (string | Uint8Array)[], maxLine?: number): { lines: string[]; oversized: OversizedLine[] } {
  const lines: string[] = [];
  const oversized: OversizedLine[] = [];
  const s = new LineSplitter((l) => lines.push(l), {
    ...(maxLine ? { maxLine } : {}),
    onOversized: (o) => oversized.push(o),
  });
  for (const c of chunks) s.push(c);
  s.end();
  return { lines, oversized };
}

test('a line over the limit is skipped and reported once, and the lines around it are read', () => {
  const big = `{"type":"eval","labels":[${'"x",'.repeat(100)}"y"]}`;
  const wire = `{"type":"log","level":"info","message":"a"}\n${big}\n{"type":"log","level":"info","message":"b"}\n`;
  for (const size of [1, 7, 64, wire.length]) {
    const chunks: string[] = [];
    for (let i = 0; i < wire.length; i += size) chunks.push(wire.slice(i, i + size));
    const { lines, oversized } = split(chunks, 100);
    assert.deepEqual(
      lines.map((l) => parseTrainerMessage(l).ok),
      [true, true],
      `chunks of ${size}`,
    );
    assert.equal(oversized.length, 1);
    assert.equal(oversized[0]!.length, big.length);
    const head = oversized[0]!.head;
    assert.ok(head.length >= 100 && head.length <= 200 && big.startsWith(head), head);
  }
  assert.match(describeOversized({ length: 17_000_000, head: '{"type":"eval"' }), /17000000 characters .* 16 MiB/);
});

test('a line that never ends is reported at the end, not passed on', () => {
  const { lines, oversized } = split(['ok\n', 'z'.repeat(50), 'z'.repeat(80)], 100);
  assert.deepEqual(lines, ['ok']);
  assert.deepEqual(
    oversized.map((o) => o.length),
    [130],
  );
});

test('the default limit is 16 MiB: a 17 MiB eval line does not reach onLine', () => {
  const { lines, oversized } = split([`{"type":"eval","x":"${'a'.repeat(17 * 1024 * 1024)}"}\n`, '{"type":"stop"}\n']);
  assert.deepEqual(lines, ['{"type":"stop"}']);
  assert.equal(oversized.length, 1);
});

test('bytes are decoded as UTF-8 across chunk boundaries; invalid bytes become U+FFFD', () => {
  const bytes = new TextEncoder().encode('{"message":"é😀"}\n');
  const parts = Array.from(bytes, (b) => Uint8Array.of(b));
  assert.deepEqual(split(parts).lines, ['{"message":"é😀"}']);
  const bad = split([Uint8Array.of(0x61, 0xc3), Uint8Array.of(0x28, 0x0a), Uint8Array.of(0xf0, 0x9f)]).lines;
  assert.deepEqual(bad, ['a\ufffd(', '\ufffd']);
});

test('CRLF and blank lines', () => {
  assert.deepEqual(split(['a\r\n\r\n  \nb']).lines, ['a', 'b']);
});
