import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { MAX_DIAGNOSTICS } from '../../server/languageService/service';
import { cursorContext } from '../../server/languageService/cursorContext';
import { doc, service } from './fixtures';

/** Every request answers (no throw) for `text`; returns the diagnostics' codes. */
async function answers(text: string): Promise<string[]> {
  const s = service();
  const d = doc(text);
  const diagnostics = await s.doValidation(d);
  const lines = Math.min(d.lineCount, 50);
  for (let line = 0; line < lines; line += 7) {
    for (const character of [0, 2, 40]) {
      const position = { line, character };
      await s.doComplete(d, position);
      await s.doHover(d, position);
    }
  }
  await s.doCodeActions(d, { start: { line: 0, character: 0 }, end: { line: lines, character: 0 } });
  return diagnostics.map((x) => String(x.code));
}

// Generous bounds: these guard against hangs, not against slowness (bench/ measures speed).
const BOUND = { timeout: 20000 };

describe('bad input: the service always answers', () => {
  it('a 3,000-line file', BOUND, async () => {
    const text = 'mode: fine-tune\ntraining:\n' + Array.from({ length: 3000 }, (_, i) => `  seed${i}: ${i}`).join('\n');
    const codes = await answers(text);
    assert.equal(codes.length, MAX_DIAGNOSTICS, 'capped');
    assert.ok(codes.every((c) => c === 'unknown-key' || c === 'missing-required' || c === 'fine-tune-needs-model'));
  });
  it('a binary file', BOUND, async () => {
    assert.deepEqual(await answers(randomBytes(20000).toString('latin1').replace(/^/, '\u0000')), ['binary-file']);
    assert.deepEqual(await answers(randomBytes(20000).toString('utf8')), ['binary-file']);
  });
  it('deeply nested brackets are refused before parsing', BOUND, async () => {
    assert.deepEqual(await answers('freeze: ' + '['.repeat(60000) + ']'.repeat(60000)), ['nesting-too-deep']);
    assert.deepEqual(await answers('a: ' + '{b: '.repeat(20000) + '1' + '}'.repeat(20000)), ['nesting-too-deep']);
    // An apostrophe in a plain scalar is not a quote: it used to switch the count off for the rest of the line.
    assert.deepEqual(await answers("freeze: [a'" + '['.repeat(100000)), ['nesting-too-deep']);
  });
  it('deeply nested blocks are refused too; a few levels are not', BOUND, async () => {
    const deep = Array.from({ length: 500 }, (_, i) => ' '.repeat(i) + 'a:').join('\n');
    assert.deepEqual(await answers(deep), ['nesting-too-deep']);
    const dashes = Array.from({ length: 500 }, (_, i) => ' '.repeat(i) + '- ').join('\n') + 'x';
    assert.deepEqual(await answers(dashes), ['nesting-too-deep']);
    assert.deepEqual(await answers('- '.repeat(50000) + 'x'), ['nesting-too-deep']);
    const shallow = Array.from({ length: 10 }, (_, i) => ' '.repeat(i) + 'a:').join('\n');
    assert.ok((await answers(shallow)).includes('unknown-key'));
  });
  it('files that are not YAML at all', BOUND, async () => {
    assert.deepEqual(await answers('import x from "y";\nfunction f() { return 1; }\n'), ['not-a-mapping']);
    assert.ok((await answers('{"mode": "fine-tune", "oops": [1, 2\n')).includes('yaml-syntax'));
    assert.ok((await answers('\t\tmode:\tfine-tune\n  - : : :\n')).length > 0);
    assert.ok((await answers(':\n:\n- - -\n? ? ?\n&&& ***\n')).length > 0);
  });
  it('a file above the size cap', BOUND, async () => {
    assert.deepEqual(await answers('run_name: ' + 'a'.repeat(1_200_000)), ['file-too-large']);
  });
  it('a 200,000-character key', BOUND, async () => {
    assert.ok((await answers('k'.repeat(200000) + ': 1\nmode: fine-tune\n')).length > 0);
  });
  it('exponential aliases ("billion laughs")', BOUND, async () => {
    let text = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n';
    for (const [p, c] of [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'd'],
      ['d', 'e'],
      ['e', 'f'],
      ['f', 'g'],
    ])
      text += `${c}: &${c} [${Array(9)
        .fill('*' + p)
        .join(',')}]\n`;
    text += `freeze: [${Array(9).fill('*g').join(',')}]\nmode: fine-tune\n`;
    assert.ok((await answers(text)).length > 0);
  });
  it('an empty document and a document of blank lines', BOUND, async () => {
    assert.deepEqual(await answers(''), ['empty-config']);
    assert.deepEqual(await answers('\n\n\n'), ['empty-config']);
  });
  it('cursor context never throws, wherever the cursor is', () => {
    const text = 'mode: fine-tune\nmodel:\n  name_or_path: "a\n- x\n  - : \nfreeze: [a, [b, \'c\n#x: [\n';
    for (let o = 0; o <= text.length; o++) cursorContext(text, o);
  });
});
