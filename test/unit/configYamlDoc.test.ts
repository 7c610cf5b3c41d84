import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDocument } from 'yaml';
import { ConfigDocument } from '../../common/config/yamlDoc';

/** Inserts `save_strategy: epoch` into `section` and returns the parsed result (the text must stay valid YAML). */
function insert(text: string, section: string[]): { text: string; json: unknown } {
  const e = new ConfigDocument(text).insertKeyEdit(section, 'save_strategy', 'epoch');
  const out = text.slice(0, e.range.start) + e.newText + text.slice(e.range.end);
  const doc = parseDocument(out);
  assert.deepEqual(doc.errors, [], `invalid YAML after the edit:\n${out}`);
  return { text: out, json: doc.toJSON() };
}

describe('ConfigDocument.insertKeyEdit', () => {
  it('after the last key of a section, below a nested list, before the next section', () => {
    assert.deepEqual(insert('training:\n  no_decay:\n    - bias\nfreeze: []\n', ['training']).json, {
      training: { no_decay: ['bias'], save_strategy: 'epoch' },
      freeze: [],
    });
  });
  it('keeps trailing comments where they are', () => {
    assert.equal(
      insert('training:\n  seed: 1 # why\n\n# end\n', ['training']).text,
      'training:\n  seed: 1 # why\n  save_strategy: epoch\n\n# end\n',
    );
  });
  it('inside a flow mapping', () => {
    assert.deepEqual(insert('training: {seed: 1}\n', ['training']).json, {
      training: { seed: 1, save_strategy: 'epoch' },
    });
    assert.deepEqual(insert('training: {}\n', ['training']).json, { training: { save_strategy: 'epoch' } });
  });
  it('creates absent sections, nested ones included', () => {
    assert.deepEqual(insert('mode: fine-tune\n', ['training']).json, {
      mode: 'fine-tune',
      training: { save_strategy: 'epoch' },
    });
    assert.deepEqual(insert('model:\n  name_or_path: x\n', ['model', 'architecture']).json, {
      model: { name_or_path: 'x', architecture: { save_strategy: 'epoch' } },
    });
    assert.deepEqual(insert('training:\n', ['training']).json, { training: { save_strategy: 'epoch' } });
  });
  it('at the top level of a file without a final newline', () => {
    assert.deepEqual(insert('mode: fine-tune', []).json, { mode: 'fine-tune', save_strategy: 'epoch' });
  });
  it('keeps CRLF line endings', () => {
    const r = insert('training:\r\n  seed: 1\r\n', ['training']);
    assert.equal(r.text, 'training:\r\n  seed: 1\r\n  save_strategy: epoch\r\n');
  });
});

describe('ConfigDocument: duplicate keys and lookups', () => {
  it('reports a duplicated key at its second occurrence, in nested maps too', () => {
    const text = 'mode: a\ntraining:\n  seed: 1\n  seed: 2\nmode: b\n';
    const d = new ConfigDocument(text);
    const dups = d.doc.errors.filter((e) => e.code === 'DUPLICATE_KEY').map((e) => text.slice(e.pos[0], e.pos[1]));
    assert.deepEqual(dups.sort(), ['mode', 'seed']);
    assert.equal(text.slice(d.keyRange(['training', 'seed']).start, d.keyRange(['training', 'seed']).end), 'seed');
    assert.equal(d.keyRange(['training', 'seed']).start, text.indexOf('seed'), 'the first occurrence');
  });
  it('finds keys in a 10,000-key mapping without quadratic work', () => {
    const text = Array.from({ length: 10000 }, (_, i) => `k${i}: ${i}`).join('\n');
    const d = new ConfigDocument(text);
    for (let i = 0; i < 10000; i += 1) assert.ok(d.pair([`k${i}`]));
  });
});
