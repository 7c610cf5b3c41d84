/**
 * A guard over the test folder against checks that pass whatever happens: a wait on a condition that is always
 * true, and a `.catch` that swallows the failure of a wait or an assertion. The rule, on code with comments,
 * strings, template literals and regular expressions blanked out:
 *
 * 1. `wait…(() => true` (also `async () => true`) is a wait for nothing: always a violation.
 * 2. A swallowing catch is `.catch(h)` whose handler `h` does nothing: `() => {}`, `(e) => {}`, `() => undefined`,
 *    `() => null`, `() => void 0`. Its statement is the code before it, back to the nearest `;`, `,`, `}` or
 *    unmatched `(`, `[`, `{` (so a whole call chain over several lines, and nothing of an earlier statement).
 *    - If that statement calls a wait (`wait…(`) or an assertion (`assert…(`, `assert.x(`, `expect…(`), it is a
 *      violation, comment or not: the wait or the assertion can then never fail.
 *    - Otherwise it is cleanup (closing a browser, dismissing a menu) and may stay, with a comment saying why on
 *      its lines or the line above its statement.
 * A wait whose outcome is used (`.then(() => true, () => false)` in a condition, `.catch(() => [])` as a value) is
 * not swallowed and is not matched. The rule is syntactic: a helper that waits inside is not seen through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

interface Violation {
  line: number;
  rule: 'no-op-wait' | 'swallowed-check' | 'uncommented-catch';
  text: string;
}

interface Blanked {
  /** The source with every comment, string and regex body replaced by spaces (newlines kept). */
  code: string;
  /** 0-based lines holding a comment. */
  commentLines: Set<number>;
}

/** After these (or at the start), a `/` opens a regular expression rather than dividing. */
const REGEX_MAY_FOLLOW = new Set(['', ...'(,=:[!&|?{};+-*%<>~^']);

/** The end (exclusive) of a quoted string or template starting at `i`. Templates skip their `${}` wholesale. */
function endOfQuoted(src: string, i: number): number {
  const q = src[i];
  let j = i + 1;
  while (j < src.length && src[j] !== q) j += src[j] === '\\' ? 2 : 1;
  return j + 1;
}

function endOfRegex(src: string, i: number): number {
  let j = i + 1;
  let inClass = false;
  while (j < src.length && src[j] !== '\n' && (inClass || src[j] !== '/')) {
    if (src[j] === '\\') j++;
    else if (src[j] === '[') inClass = true;
    else if (src[j] === ']') inClass = false;
    j++;
  }
  return j + 1;
}

function lastSignificant(out: string[]): string {
  for (let k = out.length - 1; k >= 0; k--) if (!/\s/.test(out[k]!)) return out[k]!;
  return '';
}

function blank(src: string): Blanked {
  const out: string[] = [];
  const commentLines = new Set<number>();
  let line = 0;
  const skip = (from: number, to: number, comment: boolean) => {
    for (let k = from; k < Math.min(to, src.length); k++) {
      if (comment) commentLines.add(line);
      if (src[k] === '\n') line++;
      out.push(src[k] === '\n' ? '\n' : ' ');
    }
  };
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    const two = src.slice(i, i + 2);
    if (two === '//') skip(i, (i = src.indexOf('\n', i) < 0 ? src.length : src.indexOf('\n', i)), true);
    else if (two === '/*') skip(i, (i = src.indexOf('*/', i) < 0 ? src.length : src.indexOf('*/', i) + 2), true);
    else if (c === '"' || c === "'" || c === '`') skip(i, (i = endOfQuoted(src, i)), false);
    else if (c === '/' && REGEX_MAY_FOLLOW.has(lastSignificant(out))) skip(i, (i = endOfRegex(src, i)), false);
    else {
      if (c === '\n') line++;
      out.push(c);
      i++;
    }
  }
  return { code: out.join(''), commentLines };
}

/** Where the statement holding position `at` starts (see the rule above). */
function statementStart(code: string, at: number): number {
  let depth = 0;
  for (let k = at - 1; k >= 0; k--) {
    const c = code[k]!;
    if (c === ')' || c === ']') depth++;
    else if (c === '}') {
      if (depth === 0) return k + 1;
      depth++;
    } else if (c === '(' || c === '[' || c === '{') {
      if (depth === 0) return k + 1;
      depth--;
    } else if ((c === ';' || c === ',') && depth === 0) return k + 1;
  }
  return 0;
}

const NO_OP_WAIT = /\bwait\w*\(\s*(?:async\s*)?\(\s*\)\s*=>\s*true\b/g;
const SWALLOW = /\.catch\(\s*(?:async\s*)?(?:\(\s*\w*\s*\)|\w+)\s*=>\s*(?:\{\s*\}|undefined|null|void\s+0)\s*\)/g;
const WAIT_OR_ASSERT = /\b(?:wait\w*|assert\w*|expect\w*)\s*\(|\bassert\.\w+\s*\(/;

const lineOf = (code: string, at: number) => code.slice(0, at).split('\n').length - 1;

function findViolations(src: string): Violation[] {
  const { code, commentLines } = blank(src);
  const lines = src.split('\n');
  const out: Violation[] = [];
  const report = (at: number, rule: Violation['rule']) => {
    const line = lineOf(code, at);
    out.push({ line: line + 1, rule, text: lines[line]!.trim() });
  };
  for (const m of code.matchAll(NO_OP_WAIT)) report(m.index, 'no-op-wait');
  for (const m of code.matchAll(SWALLOW)) {
    const start = statementStart(code, m.index);
    if (WAIT_OR_ASSERT.test(code.slice(start, m.index))) {
      report(m.index, 'swallowed-check');
      continue;
    }
    const first = lineOf(code, start + (code.slice(start).length - code.slice(start).trimStart().length));
    const last = lineOf(code, m.index + m[0].length);
    let commented = false;
    for (let l = first - 1; l <= last && !commented; l++) commented = commentLines.has(l);
    if (!commented) report(m.index, 'uncommented-catch');
  }
  return out.sort((a, b) => a.line - b.line);
}

const rules = (src: string) => findViolations(src).map((v) => `${v.line}:${v.rule}`);

test('a wait on a condition that is always true is a violation', () => {
  assert.deepEqual(rules("await waitFor(() => true, 'nothing');"), ['1:no-op-wait']);
  assert.deepEqual(rules('await waitForIt(async () =>  true);'), ['1:no-op-wait']);
  assert.deepEqual(rules("await waitFor(() => ready(), 'ready');\nawait waitFor(() => trueish, 'x');"), []);
  // Mentioned in a comment or a string, it is not code.
  assert.deepEqual(rules("// never write waitFor(() => true, 'x')\nconst s = 'waitFor(() => true';"), []);
});

test('a catch that swallows a wait or an assertion is a violation, comment or not', () => {
  const wait = "// Shows sometimes.\nawait page.locator('.x').first().waitFor({ timeout: 30000 }).catch(() => {});";
  assert.deepEqual(rules(wait), ['2:swallowed-check']);
  assert.deepEqual(rules('await assert.rejects(p).catch((e) => undefined);'), ['1:swallowed-check']);
  assert.deepEqual(rules('await expect(x).toBe(1).catch(() => null); // flaky'), ['1:swallowed-check']);
  // A chain over several lines is one statement.
  assert.deepEqual(rules("await page\n  .locator('x')\n  .waitFor()\n  .catch(() => {});"), ['4:swallowed-check']);
  // Inside a call's arguments: only that argument is the statement.
  assert.deepEqual(rules('f(1, pane.waitFor().catch(() => {}));'), ['1:swallowed-check']);
});

test('a cleanup catch may stay with a comment saying why, and not without one', () => {
  assert.deepEqual(rules('await context.close().catch(() => {});'), ['1:uncommented-catch']);
  assert.deepEqual(rules('// The browser may be gone already.\nawait context.close().catch(() => {});'), []);
  assert.deepEqual(rules("await page.keyboard.press('Escape').catch(() => {}); // no menu open"), []);
  assert.deepEqual(rules('await context.close().catch(() => {\n  /* already closed */\n});'), []);
  // A comment two statements up does not count.
  assert.deepEqual(rules('// why\nawait a();\nawait b.close().catch(() => {});'), ['3:uncommented-catch']);
});

test('a wait whose outcome is used, and an earlier statement, are not what a catch swallows', () => {
  assert.deepEqual(rules('const ok = await pane.waitFor({ timeout: 3 }).then(() => true, () => false);'), []);
  assert.deepEqual(rules('const rows = await list.evaluateAll((r) => r.map(f)).catch(() => []);'), []);
  assert.deepEqual(rules('await x.waitFor().catch((e) => {\n  throw wrap(e);\n});'), []);
  const earlier = 'for (;;) {\n  await pane.waitFor();\n}\n// Dismiss the menu.\nawait key.press().catch(() => {});';
  assert.deepEqual(rules(earlier), []);
  assert.deepEqual(rules("await waitFor(() => fs.existsSync(f), 'x');\n// gone\nawait rm(f).catch(() => {});"), []);
  // A regular expression with brackets does not move the statement's start.
  assert.deepEqual(rules('assert.match(s, /[(]/);\n// gone\nawait rm(f).catch(() => {});'), []);
});

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'fixtures' ? [] : testFiles(p);
    return /\.(?:[cm]?js|ts)$/.test(e.name) ? [p] : [];
  });
}

test('no test file waits for nothing or swallows a wait or an assertion', () => {
  const root = path.resolve(__dirname, '..');
  // This file holds the patterns on purpose, as the small strings the rule is tested on.
  const files = testFiles(root).filter((f) => f !== __filename);
  assert.ok(
    files.some((f) => f.endsWith(path.join('e2e', 'run.mjs'))),
    'the e2e suites are scanned',
  );
  const found = files.flatMap((f) =>
    findViolations(readFileSync(f, 'utf8')).map((v) => `${path.relative(root, f)}:${v.line} ${v.rule}: ${v.text}`),
  );
  assert.deepEqual(found, []);
});
