import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CONFIG_LIMITS, parseConfigBounded, positionOf } from '../../common/config/boundedParse';
import { findTooDeep } from '../../common/config/nestingScan';
import { loadConfig } from '../../trainer/engine/loadConfig';
import type { FineTuneError } from '../../common/errors';
import { codes, VALID } from './configHelpers';

function timed<T>(f: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = f();
  return { value, ms: performance.now() - t0 };
}

async function refusal(text: string): Promise<FineTuneError> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bounded-'));
  const file = path.join(dir, 'x.finetune.yaml');
  writeFileSync(file, text);
  try {
    await loadConfig(file);
  } catch (e) {
    return e as FineTuneError;
  }
  throw new Error('expected the config to be refused');
}

describe('the nesting scan reads YAML as the parser does', () => {
  it('an apostrophe in a plain scalar does not hide brackets (defect 5)', () => {
    const text = "freeze: [a'" + '['.repeat(100_000);
    const { value, ms } = timed(() => findTooDeep(text, 64));
    assert.equal(value?.offset, "freeze: [a'".length + 62);
    assert.ok(ms < 500, `${ms} ms`);
  });
  it('brackets inside quotes, comments and block scalars are not nesting', () => {
    const inert = ['a: "[[[[[["', "a: '{{{{{{'", 'a: 1 # [[[[[[', 'a: |\n  [[[[[[\n  {{{{{{\n', "a: 'x\n  [[[[[[\n  '"];
    for (const text of inert) assert.equal(findTooDeep(text, 3), undefined, text);
  });
  it('counts block indentation, compact sequences and flow brackets together', () => {
    assert.equal(findTooDeep('a:\n  - - x: [b, {c: d}]\n', 6), undefined);
    assert.deepEqual(findTooDeep('a:\n  - - x: [b, {c: d}]\n', 5), { offset: 16, depth: 6 });
    assert.equal(findTooDeep('- '.repeat(65) + 'x', 64)?.depth, 65);
  });
});

describe('parseConfigBounded', () => {
  it('a valid config parses as before', () => {
    const p = parseConfigBounded(VALID);
    assert.ok(p.result);
    assert.deepEqual(codes(p.diagnostics), []);
  });
  it('6,000 duplicate keys are refused by the line limit, and 4,000 cost only the capped diagnostics', () => {
    const many = parseConfigBounded('mode: fine-tune\n' + 'seed: 1\n'.repeat(6_000));
    assert.deepEqual(codes(many.diagnostics), ['file-too-long']);
    const { value, ms } = timed(() => parseConfigBounded('mode: fine-tune\n' + 'seed: 1\n'.repeat(4_000)));
    assert.equal(value.diagnostics.length, CONFIG_LIMITS.maxDiagnostics);
    assert.ok(value.diagnostics.every((d) => d.code === 'duplicate-key'));
    assert.ok(value.dropped > 0);
    assert.ok(ms < 3000, `${ms} ms`); // A guard against the seconds it took, not a benchmark.
  });
  it('a one-line flow mapping of 20,000 keys is refused by the scalar limit, in milliseconds', () => {
    const { value, ms } = timed(() => parseConfigBounded(`{${'a: 1, '.repeat(20_000)}}`));
    assert.deepEqual(codes(value.diagnostics), ['too-many-values']);
    assert.match(value.diagnostics[0]!.message, /more than 10000 keys and values/);
    assert.ok(ms < 1000, `${ms} ms`);
  });
  it('unknown keys past the cap are not computed', () => {
    const text = 'mode: fine-tune\n' + Array.from({ length: 3000 }, (_, i) => `k${i}: 1`).join('\n');
    const p = parseConfigBounded(text, { maxDiagnostics: 10 });
    assert.equal(p.diagnostics.length, 10);
    assert.ok(p.dropped >= 1);
  });
  it('an alias bomb is an error on its key, not an exception', () => {
    let text = 'mode: fine-tune\nx0: &a0 [a, a, a, a, a, a, a, a, a]\n';
    for (let i = 1; i < 8; i++)
      text += `x${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(', ')}]\n`;
    text += `freeze: [${Array(9).fill('*a7').join(', ')}]\n`;
    const p = parseConfigBounded(text);
    assert.ok(codes(p.diagnostics).includes('yaml-alias'), codes(p.diagnostics).join());
  });
  it('a small alias is resolved, not read as an object', () => {
    const p = parseConfigBounded(VALID + 'x: &p [bert.embeddings]\nfreeze: *p\n');
    assert.deepEqual(p.result?.config.freeze, ['bert.embeddings']);
  });
  it('positionOf counts lines and columns from 1', () => {
    assert.deepEqual(positionOf('ab\ncd\n', 4), { line: 2, col: 2 });
    assert.deepEqual(positionOf('ab', 0), { line: 1, col: 1 });
  });
});

describe('the trainer refuses oversized and deep configs with the file, line and limit (defect 5)', () => {
  it('a 10 MB config of `[` is refused before it is read whole', async () => {
    const e = await refusal('['.repeat(10_000_000));
    assert.equal(e.code, 'config-invalid');
    assert.match(e.message, /larger than 131072 bytes/);
    assert.match(e.file!, /x\.finetune\.yaml$/);
    assert.equal(e.line, 1);
  });
  it('deep brackets name the line and the depth limit', async () => {
    const e = await refusal("mode: fine-tune\nfreeze: [a'" + '['.repeat(100_000));
    assert.equal(e.code, 'config-invalid');
    assert.equal(e.line, 2);
    assert.match(e.message, /nested more than 64 levels/);
    assert.match(e.detail!, /x\.finetune\.yaml:2:\d+: error: .*\[nesting-too-deep\]/);
  });
  it('a config that is not a regular file is refused', async () => {
    const e = await refusal('');
    assert.equal(e.code, 'config-invalid');
    const dir = mkdtempSync(path.join(tmpdir(), 'bounded-'));
    const notFile = (x: FineTuneError) => x.code === 'config-not-found' && /not a regular file/.test(x.detail!);
    await assert.rejects(loadConfig(dir), notFile);
  });
  it('too many problems: the message says there are more than it lists', async () => {
    const e = await refusal('mode: fine-tune\n' + Array.from({ length: 2000 }, (_, i) => `k${i}: 1`).join('\n'));
    assert.match(e.message, /\(and more than \d+ more errors\)/);
    assert.equal(e.detail!.split('\n').filter((l) => l.includes('error:')).length, CONFIG_LIMITS.maxDiagnostics);
  });
});
