// Issue 13: the protocol fuzz suite. Every case is a valid message of some type, spoiled (or not) at the value, text
// or byte level, and travels as the processes send it: between valid neighbours, cut into arbitrary chunks, through
// the line splitter, then through both guards (trainer→host and host→trainer). No exception may escape, no case may
// take 2 s, the heap stays bounded, every refusal is a reason of a known form, and every accepted message holds
// the protocol's invariants (checked here independently of the guards). Reproduce: FUZZ_SEED=<seed>.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CLASS_DETAIL,
  LineSplitter,
  checkHostMessage,
  parseHostMessage,
  parseTrainerMessage,
} from '../../common/protocol';
import type { ParseResult } from '../../common/protocol';
import { randInt } from '../../common/random';
import type { Rng } from '../../common/random';
import { fuzz } from './harness';
import { PROTO_KEYS, concatBytes, spoiledLine, validMessage } from './protocolGen';
import type { ProtocolCase } from './protocolGen';

/** The forms a refusal takes: where (the message type and the field's path), then what is wrong. */
const PROBLEMS = [
  'expected .+',
  '.+ over the limit of \\d+',
  'nested deeper than \\d+ levels',
  'integer -?[\\de+.]+ is beyond ±2\\^53 \\(not exact\\)',
  'trainable \\(\\d+\\) is more than total \\(\\d+\\)',
  'confusion.*',
  'a number that is not finite',
  'holds a value of type \\w+, which JSON cannot hold',
];
const REASON = new RegExp(
  '^(not JSON: |message without a "type"|unknown message type "|' +
    `invalid "[a-z_]+" message: (.{0,200}: )?(${PROBLEMS.join('|')})$)`,
  's',
);
const COUNTERS = new Set([
  'step',
  'totalSteps',
  'stepsPerEpoch',
  'trainExamples',
  'evalExamples',
  'resumedFromStep',
  'total',
  'trainable',
  'support',
  'pid',
  'protocolVersion',
  'patienceUsed',
  'classes',
  'threads',
  'line',
  'column',
]);
const prototypeNames = Object.getOwnPropertyNames(Object.prototype).join();
/** Fields the protocol does not define are passed over unread (a newer peer may add some): so is the oracle. */
const UNDEFINED_FIELDS = new Set([...PROTO_KEYS, 'pad']);

/** What an accepted message must hold, checked by walking it (without recursion), not by the guards. */
function invariantProblem(m: Record<string, unknown>): string | undefined {
  const stack: [unknown, string, number][] = [[m, '', 0]];
  while (stack.length) {
    const [v, key, depth] = stack.pop()!;
    if (depth > 80) return 'accepted a value nested deeper than 80';
    if (typeof v === 'number' && !Number.isFinite(v)) return `accepted a non-finite number at ${key}`;
    if (typeof v === 'number' && COUNTERS.has(key) && !(Number.isSafeInteger(v) && v >= 0))
      return `accepted ${key} = ${v}`;
    if (typeof v !== 'object' || v === null) continue;
    const o = v as Record<string, unknown>;
    if (typeof o.total === 'number' && typeof o.trainable === 'number' && o.trainable > o.total)
      return 'trainable > total';
    for (const [k, x] of Object.entries(o))
      if (!UNDEFINED_FIELDS.has(k)) stack.push([x, Array.isArray(o) ? key : k, depth + 1]);
  }
  if (m.type === 'eval') return evalProblem(m as { labels?: string[]; confusion?: number[][]; perClass?: unknown[] });
  return undefined;
}

function evalProblem(m: { labels?: string[]; confusion?: number[][]; perClass?: unknown[] }): string | undefined {
  const k = m.labels?.length ?? 0;
  if (k > CLASS_DETAIL.confusionUpTo || (m.perClass?.length ?? 0) > CLASS_DETAIL.perClassTop) return 'unbounded eval';
  if (m.labels?.some((l) => l.length > CLASS_DETAIL.labelChars)) return 'label over the length bound';
  if (m.confusion && (m.confusion.length !== k || m.confusion.some((r) => r.length !== k))) return 'ragged confusion';
  return undefined;
}

/** How often each kind of outcome came up, so the suite can show that it exercised every refusal. */
const tally = new Map<string, number>();
const count = (key: string) => tally.set(key, (tally.get(key) ?? 0) + 1);

const CATEGORIES = [
  'not JSON',
  'without a "type"',
  'unknown message type',
  'expected',
  'over the limit',
  'nested deeper',
  'beyond',
  'trainable',
  'confusion',
  'not finite',
  'JSON value',
];
const category = (error: string) => CATEGORIES.find((c) => error.includes(c)) ?? error.slice(0, 60);

function checkResult(r: ParseResult<unknown>, what: string): void {
  count(`${what}: ${r.ok ? 'accepted' : category(r.error)}`);
  if (!r.ok) {
    assert.match(r.error, REASON, `${what}: refusal without a clear reason`);
    assert.ok(r.error.length < 700, `${what}: a reason of ${r.error.length} characters`);
    return;
  }
  const problem = invariantProblem(r.message as Record<string, unknown>);
  assert.equal(problem, undefined, `${what} accepted a message that breaks the protocol: ${problem}`);
  // Whatever is accepted can be passed on (the CLI's --json re-serialises it).
  JSON.stringify(r.message);
}

/** One line through both guards, as text and (host side, IPC) as an already-parsed value. */
function throughGuards(line: string): void {
  checkResult(parseTrainerMessage(line), 'trainer guard');
  checkResult(parseHostMessage(line), 'host guard');
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return;
  }
  checkResult(checkHostMessage(value), 'host guard (IPC)');
}

/** The lines a correct splitter gives for `wire`: decode all, split, drop CR, blanks and lines over the limit. */
function expectedLines(wire: Uint8Array, maxLine: number): { lines: string[]; oversized: number } {
  const all = new TextDecoder().decode(wire).split('\n');
  const last = all.length - 1;
  const lines: string[] = [];
  let oversized = 0;
  all.forEach((raw, i) => {
    // The splitter measures a line before its CR is dropped.
    if (raw.length > maxLine) oversized++;
    else if (raw.replace(/\r$/, '').trim()) lines.push(raw.replace(/\r$/, ''));
    else if (i === last && raw.length > maxLine) oversized++;
  });
  return { lines, oversized };
}

interface Case extends ProtocolCase {
  neighbours: string[];
  wire: Uint8Array;
  cuts: number[];
  maxLine: number;
  asText: boolean;
}

function generate(rng: Rng): Case {
  const c = spoiledLine(rng);
  const enc = new TextEncoder();
  const neighbours = [JSON.stringify(validMessage(rng)), JSON.stringify(validMessage(rng))];
  const before = enc.encode(`${neighbours[0]}\n`);
  const after = enc.encode(`\r\n${neighbours[1]}\n`);
  const wire = concatBytes(before, c.bytes, after);
  const cuts = Array.from({ length: randInt(rng, 12) }, () => randInt(rng, wire.length)).sort((a, b) => a - b);
  // A small limit makes long lines common and cheap; the real 16 MiB one is tested in test/unit/lineSplitter.test.ts.
  return { ...c, neighbours, wire, cuts, maxLine: 256 + randInt(rng, 8192), asText: rng() < 0.2 };
}

function check(c: Case): void {
  const lines: string[] = [];
  let oversized = 0;
  const splitter = new LineSplitter((l) => lines.push(l), { maxLine: c.maxLine, onOversized: () => oversized++ });
  const bounds = [0, ...c.cuts, c.wire.length];
  // Strings (as node's setEncoding gives them) are cut from the whole text; bytes anywhere, mid-character included.
  const text = c.asText ? new TextDecoder().decode(c.wire) : '';
  for (let i = 1; i < bounds.length; i++) {
    if (c.asText)
      splitter.push(
        text.slice(
          Math.floor((bounds[i - 1]! / c.wire.length) * text.length),
          Math.floor((bounds[i]! / c.wire.length) * text.length),
        ),
      );
    else splitter.push(c.wire.subarray(bounds[i - 1], bounds[i]));
  }
  splitter.end();
  const want = expectedLines(c.wire, c.maxLine);
  assert.deepEqual({ lines, oversized }, want, 'the splitter gave other lines than the bytes hold');
  // The valid neighbours came out whole (the oracle says so); every other line, and the case's own text (which the
  // splitter may have cut at a newline or skipped), goes through the guards.
  const own = new TextDecoder().decode(c.bytes);
  for (const line of lines) if (!c.neighbours.includes(line) && line !== own) throughGuards(line);
  throughGuards(own);
  assert.equal(Object.getOwnPropertyNames(Object.prototype).join(), prototypeNames, 'Object.prototype was changed');
  assert.equal(({} as Record<string, unknown>).step, undefined, 'Object.prototype was polluted');
}

test('10,000 protocol lines through the line splitter and both guards', async (t) => {
  const report = await fuzz<Case>('protocol', {
    minCases: 10_000,
    maxCases: 10_000,
    budgetMs: 60_000,
    caseMs: 2_000,
    maxHeapGrowthMb: 128,
    generate,
    check,
    show: (c) =>
      `${c.kind}; maxLine ${c.maxLine}; cuts ${c.cuts.join(',')}; ${c.asText ? 'text' : 'bytes'}\n` +
      new TextDecoder().decode(c.bytes).slice(0, 2000),
  });
  assert.equal(report.cases, 10_000);
  t.diagnostic(
    `${report.cases} cases in ${(report.elapsedMs / 1000).toFixed(1)} s, slowest ${report.slowestMs.toFixed(0)} ms`,
  );
  for (const [k, n] of [...tally].sort((a, b) => b[1] - a[1]).slice(0, 40)) t.diagnostic(`${n}\t${k}`);
  // The mutations must reach the guards' refusals, not only the JSON parser's.
  for (const reason of CATEGORIES.slice(0, 8)) {
    assert.ok(
      [...tally.keys()].some((k) => k.endsWith(reason)),
      `no case was refused for "${reason}"`,
    );
  }
});
