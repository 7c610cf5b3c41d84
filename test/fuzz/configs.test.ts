/**
 * Fuzzes the config path shared by the trainer and the language server with 10,000+ generated and mutated
 * configs: the shipped examples and the wizard's output, mutated as text and as structure, plus deep nesting,
 * huge numbers, prototype-named keys, duplicate keys, alias bombs and odd Unicode. Each goes through the bounded
 * parse that the trainer and the language server share, and the file checks (what `loadConfig` runs before
 * training); a quarter also through the pure language service (diagnostics, completion, hover, code actions)
 * with an in-memory host, and 1% through `loadConfig` itself.
 * No exception may escape, no case may take 2 s, and every refusal must be a clear diagnostic or error.
 * Reproduce a failure with `FUZZ_SEED=<seed> node --import tsx --test test/fuzz/configs.test.ts`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { CONFIG_LIMITS, parseConfigBounded } from '../../common/config/boundedParse';
import type { ConfigDiagnostic } from '../../common/config/diagnostic';
import { checkConfigFiles } from '../../common/config/fileChecks';
import { FineTuneError } from '../../common/errors';
import { randInt } from '../../common/random';
import type { Rng } from '../../common/random';
import { ARCHITECTURE_PRESETS, renderConfig } from '../../extension/configWriter';
import { createLanguageService } from '../../server/languageService/service';
import { loadConfig } from '../../trainer/engine/loadConfig';
import { defaultFs, memoryHost, ROOT, SCRATCH, VALID } from '../unit/configHelpers';
import { fuzz, mutateText, pick } from './harness';

const root = path.resolve(import.meta.dirname, '../..');

function examples(dir = path.join(root, 'examples')): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...examples(p));
    else if (e.name.endsWith('.finetune.yaml')) out.push(readFileSync(p, 'utf8'));
  }
  return out;
}

function wizardOutputs(): string[] {
  const now = new Date('2026-01-02T03:04:05Z');
  const data = '/ws/data/train.csv';
  const out = [
    renderConfig(
      {
        mode: 'fine-tune',
        task: 'text-classification',
        dataFile: data,
        textColumn: 'text',
        labelColumn: 'label',
        model: '/ws/models/tiny',
      },
      ROOT,
      now,
    ),
    renderConfig(
      { mode: 'fine-tune', task: 'masked-lm', dataFile: data, textColumn: 'text', model: 'prajjwal1/bert-tiny' },
      ROOT,
      now,
    ),
  ];
  for (const preset of Object.values(ARCHITECTURE_PRESETS)) {
    const answers = {
      mode: 'from-scratch',
      task: 'text-classification',
      dataFile: data,
      textColumn: 'text',
      labelColumn: 'label',
    } as const;
    out.push(renderConfig({ ...answers, tokenizer: '/ws/models/tiny', architecture: preset.arch }, ROOT, now));
  }
  return out;
}

const SEEDS = [...examples(), ...wizardOutputs(), VALID, SCRATCH];
assert.ok(SEEDS.length >= 8, 'the examples and the wizard give the seeds');

const PROTO_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'];
const HUGE = [
  '1e9',
  '1e12',
  '1e308',
  '-1e308',
  '.inf',
  '-.inf',
  '.nan',
  '9007199254740993',
  '0x7fffffff',
  '1_000',
  '-0',
  '1e-400',
];
const ODD = [
  '\uFEFF',
  '\u200B',
  '\u202E',
  '\uD800',
  '\uDFFF',
  '\uFFFD',
  '\uFF1A',
  '\u0085',
  '\u2028',
  '\r',
  '\t',
  '\u00A0',
  'é',
];
const KEY_PATHS = [
  ['model', 'architecture', 'hidden_size'],
  ['model', 'architecture', 'vocab_size'],
  ['model', 'architecture', 'intermediate_size'],
  ['model', 'architecture', 'num_hidden_layers'],
  ['model', 'architecture', 'hidden_dropout_prob'],
  ['training', 'num_train_epochs'],
  ['training', 'learning_rate'],
  ['training', 'max_steps'],
  ['training', 'learning_rates'],
  ['data', 'max_length'],
  ['data', 'train_file'],
  ['freeze'],
  ['unfreeze'],
  ['mode'],
  ['model', 'name_or_path'],
  ['training'],
  ['data'],
];

/** A value a careless or hostile user might write. */
function hostileValue(rng: Rng, depth = 0): unknown {
  switch (randInt(rng, depth > 2 ? 5 : 8)) {
    case 0:
      return Number(pick(rng, HUGE));
    case 1:
      return pick(rng, ['bert.[z-a]', '*a*a*a*a*a*a*a*a*b', '[', '', ' ', '../../etc/passwd', 'x'.repeat(5000)]);
    case 2:
      return pick(rng, [null, true, -1, 0, 1.5, 42]);
    case 3:
      return pick(rng, PROTO_KEYS);
    case 4:
      return pick(rng, ODD) + 'x';
    case 5:
      return Array.from({ length: randInt(rng, 4) }, () => hostileValue(rng, depth + 1));
    default: {
      const o: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      for (let i = randInt(rng, 4); i > 0; i--)
        o[pick(rng, [...PROTO_KEYS, 'a', 'bert.*'])] = hostileValue(rng, depth + 1);
      return o;
    }
  }
}

/** Sets a value deep in the parsed document (so comments and order of the rest survive) and writes it back. */
function mutateStructure(rng: Rng, text: string): string {
  const doc = parseDocument(text);
  for (let k = 1 + randInt(rng, 3); k > 0; k--) {
    const at = [...pick(rng, KEY_PATHS)];
    if (rng() < 0.3) at.push(pick(rng, PROTO_KEYS));
    try {
      doc.setIn(at, doc.createNode(hostileValue(rng)));
    } catch {
      // A path through a scalar cannot be set; the text stays as it was for that edit.
    }
  }
  return doc.toString();
}

function deepNesting(rng: Rng): string {
  const n = pick(rng, [10, 63, 64, 65, 200, 5000, 100_000]);
  const prefix = pick(rng, ['freeze: ', "freeze: [a'", 'freeze: "x" # [', 'a: |\n  ', 'training: {a: ', '']);
  switch (randInt(rng, 5)) {
    case 0:
      return prefix + '['.repeat(n) + ']'.repeat(randInt(rng, n + 1));
    case 1:
      return prefix + '{a: '.repeat(Math.min(n, 20_000)) + '1' + '}'.repeat(randInt(rng, n));
    case 2:
      return '- '.repeat(n) + 'x';
    case 3:
      return Array.from({ length: Math.min(n, 600) }, (_, i) => ' '.repeat(i) + 'a:').join('\n');
    default:
      return prefix + Array.from({ length: Math.min(n, 2000) }, (_, i) => (i % 3 ? "['" : '[')).join('');
  }
}

function duplicates(rng: Rng, seed: string): string {
  const lines = pick(rng, [
    2,
    50,
    600,
    rng() < 0.2 ? 2000 : 20,
    // Just under and just over the line limit: the largest parse allowed, and a refusal before parsing.
    rng() < 0.05 ? 4_900 : 100,
    rng() < 0.05 ? 6_000 : 10,
  ]);
  const line = pick(rng, ['seed: 1', 'mode: fine-tune', '__proto__: 1', 'training:', '  seed: 1', 'x: 1']);
  return seed + (line + '\n').repeat(lines);
}

function aliasBomb(rng: Rng, seed: string): string {
  const width = 2 + randInt(rng, 9);
  const depth = 1 + randInt(rng, 9);
  let text = `a0: &a0 [${Array(width).fill('x').join(', ')}]\n`;
  for (let i = 1; i < depth; i++)
    text += `a${i}: &a${i} [${Array(width)
      .fill(`*a${i - 1}`)
      .join(', ')}]\n`;
  const use = pick(rng, [
    `freeze: *a${depth - 1}`,
    `training:\n  learning_rates: {<<: *a${depth - 1}}`,
    'freeze: *nope',
    '<<: *a0',
  ]);
  return seed + text + use + '\n';
}

function hugeNumbers(rng: Rng, seed: string): string {
  return seed.replace(/\b\d+(\.\d+)?(e-?\d+)?\b/g, (m) => (rng() < 0.5 ? pick(rng, HUGE) : m));
}

function oddUnicode(rng: Rng, seed: string): string {
  let out = seed;
  for (let k = 1 + randInt(rng, 6); k > 0; k--) {
    const at = randInt(rng, out.length + 1);
    out = out.slice(0, at) + pick(rng, ODD) + out.slice(at);
  }
  return rng() < 0.2 ? out.replace(/\n/g, '\r') : out;
}

function generate(rng: Rng): string {
  const seed = pick(rng, SEEDS);
  switch (randInt(rng, 10)) {
    case 0:
    case 1:
    case 2:
      return mutateText(rng, seed);
    case 3:
    case 4:
      return mutateStructure(rng, seed);
    case 5:
      return deepNesting(rng);
    case 6:
      return duplicates(rng, seed);
    case 7:
      return aliasBomb(rng, seed);
    case 8:
      return hugeNumbers(rng, seed);
    default:
      return rng() < 0.02 ? 'a: ' + 'x'.repeat(CONFIG_LIMITS.maxChars) : oddUnicode(rng, seed);
  }
}

/** A diagnostic a user can act on: a code, a sentence, and a range inside the text. */
function assertClear(d: ConfigDiagnostic, text: string): void {
  assert.match(d.code, /^[a-z0-9]+(-[a-z0-9]+)*$/, `code ${d.code}`);
  assert.ok(d.message.length > 10 && !/\[internal\]|undefined|\[object Object\]/.test(d.message), d.message);
  assert.ok(
    d.range.start >= 0 && d.range.start <= d.range.end && d.range.end <= text.length + 1,
    JSON.stringify(d.range),
  );
}

const REFUSALS = new Set([
  'file-too-large',
  'file-too-long',
  'binary-file',
  'nesting-too-deep',
  'too-many-values',
  'yaml-syntax',
]);

async function checkShared(text: string): Promise<void> {
  const parsed = parseConfigBounded(text);
  assert.ok(parsed.diagnostics.length <= CONFIG_LIMITS.maxDiagnostics);
  for (const d of parsed.diagnostics) assertClear(d, text);
  if (!parsed.result) {
    assert.equal(parsed.diagnostics.length, 1);
    assert.ok(REFUSALS.has(parsed.diagnostics[0]!.code), parsed.diagnostics[0]!.code);
    return;
  }
  const files = await checkConfigFiles(parsed.result.config, parsed.result.document, memoryHost(defaultFs()));
  for (const d of files) assertClear(d, text);
}

const service = createLanguageService({ hostFor: () => memoryHost(defaultFs()), fileTimeoutMs: 1500 });
let version = 0;

async function checkServer(text: string, rng: Rng): Promise<void> {
  const document = TextDocument.create('file:///ws/fuzz.finetune.yaml', 'finetune-yaml', ++version, text);
  const diagnostics = await service.doValidation(document);
  assert.ok(diagnostics.length <= CONFIG_LIMITS.maxDiagnostics);
  const position = document.positionAt(randInt(rng, text.length + 1));
  await service.doComplete(document, position);
  await service.doHover(document, position);
  await service.doCodeActions(document, { start: { line: 0, character: 0 }, end: document.positionAt(text.length) });
}

/** The trainer's own entry: a clear `config-invalid` with the file and a line, or a loaded config. */
async function checkTrainer(text: string, file: string): Promise<void> {
  writeFileSync(file, text);
  try {
    await loadConfig(file);
  } catch (e) {
    if (!(e instanceof FineTuneError)) throw e;
    assert.equal(e.code, 'config-invalid', e.message);
    assert.equal(e.file, file);
    assert.ok((e.line ?? 0) >= 1 && e.message.length > 10);
  }
}

test('10,000+ generated configs through the shared validator and the language service', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fuzz-configs-'));
  const file = path.join(dir, 'fuzz.finetune.yaml');
  try {
    const report = await fuzz('configs', {
      minCases: 10_000,
      budgetMs: 20_000,
      caseMs: 2000,
      generate,
      show: (s) => JSON.stringify(s.length > 2000 ? `${s.slice(0, 2000)}… (${s.length} characters)` : s),
      async check(text, rng) {
        // Every case goes through the bounded parse, which the server's parse is (server/languageService/parse.ts),
        // and the file checks; a quarter also through every language service request, 1% through loadConfig.
        await checkShared(text);
        const r = rng();
        if (r < 0.25) await checkServer(text, rng);
        if (r < 0.01) await checkTrainer(text, file);
      },
    });
    t.diagnostic(
      `${report.cases} cases in ${report.elapsedMs.toFixed(0)} ms, slowest ${report.slowestMs.toFixed(0)} ms`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
