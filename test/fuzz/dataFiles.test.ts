/**
 * Hostile data files (issue 13): CSV, TSV, JSONL and JSON files, generated valid and then damaged — mutated text
 * and bytes, quotes, NULs, BOMs, huge cells, deep JSON, CR-only endings, repeated and prototype-named headers and
 * labels, invalid UTF-8, empty files — through the trainer's read (readDataset, label maps, the label cap) and the
 * language server's (the Node config host's bounded header and label sample, and the config's file checks).
 * Nothing but a FineTuneError with a data code, a message, the file and (where it applies) a line may come out.
 * Reproduce a failure with `FUZZ_SEED=<seed> node --import tsx --test test/fuzz/dataFiles.test.ts`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { checkConfigFiles } from '../../common/config/fileChecks';
import type { ConfigFileHost, Lookup } from '../../common/config/fileChecks';
import { validateConfigText } from '../../common/config/validate';
import { FineTuneError } from '../../common/errors';
import { randInt } from '../../common/random';
import type { Rng } from '../../common/random';
import { nodeConfigHost } from '../../files/configHost';
import { readDataset } from '../../files/data/readDataset';
import { buildLabelMap, checkLabelCount, encodeLabels } from '../../trainer/data/labels';
import { fuzz, mutateBytes, mutateText, pick } from './harness';

type Format = 'csv' | 'tsv' | 'jsonl' | 'json';

interface Case {
  format: Format;
  /** What was done to the valid file, for the failure message. */
  damage: string[];
  textColumn: string;
  labelColumn: string;
  bytes: Uint8Array;
}

const NAMES = [
  'text',
  'label',
  'sentence',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '',
  ' text ',
  'a"b',
  'a,b',
  'é',
  '\u{1F600}',
];
const LABELS = [
  'pos',
  'neg',
  '__proto__',
  'constructor',
  'toString',
  '0',
  '1',
  '10',
  '-3',
  '',
  ' ',
  'x'.repeat(300),
  'a\nb',
];
const WORDS = [
  'good',
  'bad',
  "it's",
  '"quoted"',
  'a,b',
  'tab\there',
  'line\nbreak',
  'cr\rhere',
  '\u0000',
  'é',
  '\u{1F600}',
  '{',
  '[',
  '\\',
];
/** The codes whose errors must point at a line. */
const LINE_CODES = new Set([
  'data-field-count',
  'data-unterminated-quote',
  'data-not-utf8',
  'data-missing-label',
  'data-unknown-label',
  'data-bad-value',
]);

const dir = mkdtempSync(path.join(tmpdir(), 'fuzz-data-'));
const encoder = new TextEncoder();

function cell(rng: Rng, labelLike: boolean): string {
  if (labelLike) return pick(rng, LABELS);
  return Array.from({ length: 1 + randInt(rng, 6) }, () => pick(rng, WORDS)).join(' ');
}

/** A valid table: a header of 1-4 names (repeats allowed) and 0-40 rows. */
function table(rng: Rng): { header: string[]; rows: string[][] } {
  const header = Array.from({ length: 1 + randInt(rng, 4) }, (_, i) =>
    i < 2 && randInt(rng, 3) > 0 ? ['text', 'label'][i]! : pick(rng, NAMES),
  );
  const rows = Array.from({ length: randInt(rng, 41) }, () =>
    header.map((h) => cell(rng, h === 'label' || randInt(rng, 4) === 0)),
  );
  return { header, rows };
}

function csvField(rng: Rng, s: string): string {
  return /[",\r\n]/.test(s) || randInt(rng, 5) === 0 ? `"${s.replace(/"/g, '""')}"` : s;
}

/** JSON text for an object whose keys may be `__proto__` (an object literal would set the prototype instead). */
function jsonObject(header: readonly string[], row: readonly string[]): string {
  return `{${header.map((h, i) => `${JSON.stringify(h)}:${JSON.stringify(row[i])}`).join(',')}}`;
}

function serialize(rng: Rng, format: Format, t: { header: string[]; rows: string[][] }): string {
  const eol = pick(rng, ['\n', '\r\n', '\r']);
  if (format === 'csv')
    return [t.header, ...t.rows].map((r) => r.map((f) => csvField(rng, f)).join(',')).join(eol) + eol;
  if (format === 'tsv')
    return [t.header, ...t.rows].map((r) => r.map((f) => f.replace(/[\t\r\n]/g, ' ')).join('\t')).join(eol);
  const objects = t.rows.map((r) => jsonObject(t.header, r));
  if (format === 'jsonl') return objects.join(eol) + eol;
  return randInt(rng, 2) ? `[${objects.join(`,${eol}`)}]` : `{"version": 1, "data": [${objects.join(',\n')}]}`;
}

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

/** Damages that work on the text. */
const TEXT_DAMAGE: Record<string, (rng: Rng, s: string) => string> = {
  mutate: (rng, s) => mutateText(rng, s),
  bom: (_rng, s) => '\ufeff' + s,
  nul: (rng, s) => insertAt(rng, s, '\u0000'.repeat(1 + randInt(rng, 3))),
  quote: (rng, s) => insertAt(rng, s, pick(rng, ['"', '""', '"\n', '\\"'])),
  crOnly: (_rng, s) => s.replace(/\r?\n/g, '\r'),
  truncate: (rng, s) => s.slice(0, randInt(rng, s.length + 1)),
  hugeCell: (rng, s) => insertAt(rng, s, 'x'.repeat(randInt(rng, 3) ? 100_000 : 1_100_000)),
  deepJson: (rng, s) => s.replace(/"(good|bad|pos|neg)"/, deep(1000 + randInt(rng, 20_000))),
  openBrackets: (rng, s) => s + '['.repeat(randInt(rng, 30_000)),
  duplicateHeader: (_rng, s) => s.replace(/^([^\r\n,\t]*)/, '$1,$1'),
  empty: (rng) => pick(rng, ['', '\n', '\r\n\r\n', '\ufeff', '   ', '\t']),
};

/** Damages that work on the bytes. */
const BYTE_DAMAGE: Record<string, (rng: Rng, b: Uint8Array) => Uint8Array> = {
  bytes: (rng, b) => mutateBytes(rng, b),
  invalidUtf8: (rng, b) =>
    spliceBytes(
      rng,
      b,
      pick(rng, [[0xff], [0xc3], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe9]]),
    ),
  utf16: (_rng, b) => {
    const out = new Uint8Array(2 + 2 * b.length);
    out.set([0xff, 0xfe]);
    b.forEach((x, i) => (out[2 + 2 * i] = x));
    return out;
  },
};

function insertAt(rng: Rng, s: string, piece: string): string {
  const at = randInt(rng, s.length + 1);
  return s.slice(0, at) + piece + s.slice(at);
}

function spliceBytes(rng: Rng, b: Uint8Array, piece: number[]): Uint8Array {
  const at = randInt(rng, b.length + 1);
  const out = new Uint8Array(b.length + piece.length);
  out.set(b.subarray(0, at));
  out.set(piece, at);
  out.set(b.subarray(at), at + piece.length);
  return out;
}

function generate(rng: Rng): Case {
  const format = pick(rng, ['csv', 'tsv', 'jsonl', 'json'] as const);
  const t = table(rng);
  let text = serialize(rng, format, t);
  const damage: string[] = [];
  for (let k = randInt(rng, 3); k > 0; k--) {
    const name = pick(rng, Object.keys(TEXT_DAMAGE));
    damage.push(name);
    text = TEXT_DAMAGE[name]!(rng, text);
  }
  let bytes: Uint8Array = encoder.encode(text);
  if (randInt(rng, 5) === 0) {
    const name = pick(rng, Object.keys(BYTE_DAMAGE));
    damage.push(name);
    bytes = BYTE_DAMAGE[name]!(rng, bytes);
  }
  const column = () => (randInt(rng, 4) > 0 ? pick(rng, t.header) : pick(rng, NAMES));
  return { format, damage, textColumn: column(), labelColumn: column(), bytes };
}

function show(c: Case): string {
  const text = Buffer.from(c.bytes.subarray(0, 600)).toString('latin1');
  const columns = `text_column=${JSON.stringify(c.textColumn)} label_column=${JSON.stringify(c.labelColumn)}`;
  return `${c.format} [${c.damage.join(', ')}] ${columns} ${c.bytes.length} bytes: ${JSON.stringify(text)}`;
}

/** A refusal must be a FineTuneError that says what is wrong, in which file, and on which line where there is one. */
function assertClearError(e: unknown, file: string, where: string): void {
  if (!(e instanceof FineTuneError))
    throw new Error(`${where}: not a FineTuneError: ${e instanceof Error ? e.stack : String(e)}`);
  assert.match(e.code, /^data-[a-z0-9-]+$/, `${where}: code ${e.code}`);
  assert.ok(e.message.length > 5 && e.message.length < 2000, `${where}: message of ${e.message.length} characters`);
  assert.equal(e.file, file, `${where}: the error names the file`);
  if (LINE_CODES.has(e.code)) assert.ok(Number.isInteger(e.line) && e.line! >= 1, `${where}: ${e.code} without a line`);
}

function assertLookup<T>(l: Lookup<T>, where: string): void {
  if (l.ok) return;
  assert.ok(
    l.reason.length > 5 && l.reason.length < 2000,
    `${where}: reason ${JSON.stringify(l.reason.slice(0, 100))}`,
  );
  assert.match(l.code ?? '', /^data-[a-z0-9-]+$/, `${where}: code ${l.code}`);
}

async function trainerRead(c: Case, file: string): Promise<void> {
  try {
    const ds = await readDataset(file, { textColumn: c.textColumn, labelColumn: c.labelColumn });
    for (const r of ds.rows) {
      assert.ok(typeof r.text === 'string' && r.text.trim() !== '', 'a row has text');
      assert.ok(typeof r.label === 'string' && r.label !== '', 'a row has a label');
      assert.ok(Number.isInteger(r.line) && r.line >= 1, 'a row has a line');
    }
    const map = buildLabelMap(ds.rows.map((r) => r.label!));
    assert.equal(map.labels.length, new Set(ds.rows.map((r) => r.label)).size, 'one class per distinct label');
    const ids = encodeLabels(ds.rows, map, file);
    ds.rows.forEach((r, i) => assert.equal(map.labels[ids[i]!], r.label, 'ids name their labels'));
    checkLabelCount(ds.rows, { maxLabels: 20, file, column: c.labelColumn });
  } catch (e) {
    assertClearError(e, file, 'readDataset');
  }
}

/** The Node host, as the language server uses it, with every data lookup checked as it passes. */
function checkedHost(): { host: ConfigFileHost; asked: Set<string> } {
  const inner = nodeConfigHost(dir);
  const asked = new Set<string>();
  const host: ConfigFileHost = {
    ...inner,
    async readColumns(abs, signal) {
      asked.add('columns');
      const l = await inner.readColumns(abs, signal);
      assertLookup(l, 'readColumns');
      return l;
    },
    async sampleColumns(abs, signal) {
      asked.add('sample');
      const l = await inner.sampleColumns(abs, signal);
      assertLookup(l, 'sampleColumns');
      if (l.ok) assert.ok(l.value.rows <= 10_000);
      return l;
    },
  };
  return { host, asked };
}

/** The server's bounded reads, through the config's file checks (and directly, where the checks stop early). */
async function serverRead(c: Case, file: string): Promise<void> {
  const { host, asked } = checkedHost();
  const r = validateConfigText(
    'mode: fine-tune\nmodel:\n  name_or_path: org/model\n' +
      `data:\n  train_file: ${JSON.stringify(path.basename(file))}\n` +
      `  text_column: ${JSON.stringify(c.textColumn)}\n  label_column: ${JSON.stringify(c.labelColumn)}\n`,
  );
  for (const d of await checkConfigFiles(r.config, r.document, host))
    assert.ok(d.message.length > 5, `diagnostic ${d.code}`);
  assert.ok(asked.has('columns'), 'the checks read the columns');
  if (!asked.has('sample')) await host.sampleColumns(file);
}

test('hostile data files: only clear FineTuneErrors come out of the readers and the config host', async (t) => {
  let n = 0;
  const report = await fuzz('data files', {
    minCases: 500,
    budgetMs: 10_000,
    maxHeapGrowthMb: 64,
    generate: (rng) => generate(rng),
    show,
    check: async (c) => {
      const file = path.join(dir, `case-${n++}.${c.format}`);
      writeFileSync(file, c.bytes);
      try {
        await trainerRead(c, file);
        await serverRead(c, file);
      } finally {
        rmSync(file, { force: true });
      }
    },
  });
  t.diagnostic(
    `${report.cases} files in ${(report.elapsedMs / 1000).toFixed(1)} s, slowest ${report.slowestMs.toFixed(0)} ms`,
  );
  assert.ok(report.cases >= 500);
});
