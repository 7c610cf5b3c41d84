import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bertParameters } from '../../common/bertParams';
import { ConfigDocument } from '../../common/config/yamlDoc';
import { isFrozen } from '../../common/freeze';
import { coverPaths, diffEdit, readFreezeLists, setFrozenEdit, shortcutEdit } from '../../common/freezeEdit';
import type { FreezeEditResult } from '../../common/freezeEdit';

const names = bertParameters(
  {
    vocab_size: 100,
    hidden_size: 8,
    num_hidden_layers: 4,
    intermediate_size: 16,
    max_position_embeddings: 32,
    type_vocab_size: 2,
  },
  'sequence-classification',
).map((p) => p.name);

function applied(text: string, r: FreezeEditResult): string {
  assert.ok(r.edit, 'expected an edit');
  const out = text.slice(0, r.edit.range.start) + r.edit.newText + text.slice(r.edit.range.end);
  assert.equal(out, r.text, 'the edit turns the old text into the new one');
  return out;
}
const frozenUnder = (text: string, path: string) => {
  const l = readFreezeLists(new ConfigDocument(text));
  return names.filter((n) => n === path || n.startsWith(path + '.')).every((n) => isFrozen(n, l.freeze, l.unfreeze));
};
const trainableUnder = (text: string, path: string) => {
  const l = readFreezeLists(new ConfigDocument(text));
  return names.filter((n) => n === path || n.startsWith(path + '.')).every((n) => !isFrozen(n, l.freeze, l.unfreeze));
};

const withComments = `# my config
mode: fine-tune   # fine-tune a checkpoint
freeze:
  # the embeddings stay fixed
  - bert.embeddings   # why not
training:
  learning_rate: 2.0e-5 # small
`;

test('adding to an existing block list keeps comments and touches only the new line', () => {
  const r = setFrozenEdit(withComments, names, 'bert.encoder.layer.0', true);
  const out = applied(withComments, r);
  assert.equal(r.edit!.range.start, r.edit!.range.end, 'a pure insertion');
  assert.equal(r.edit!.newText.trim(), '- bert.encoder.layer.0');
  assert.equal(out, withComments.replace('   # why not\n', '   # why not\n  - bert.encoder.layer.0\n'));
  assert.ok(frozenUnder(out, 'bert.encoder.layer.0'));
});

test('creating the key when the config has no freeze list', () => {
  const text = 'mode: fine-tune\ntraining:\n  seed: 1 # fixed\n';
  const out = applied(text, setFrozenEdit(text, names, 'bert.embeddings', true));
  assert.equal(out, text + 'freeze:\n  - bert.embeddings\n');
});

test('removing a pattern deletes its line only; the last one leaves an explicit empty list', () => {
  const two = withComments.replace('   # why not\n', '   # why not\n  - bert.encoder.layer.0\n');
  const out = applied(two, setFrozenEdit(two, names, 'bert.embeddings', false));
  assert.ok(out.includes('# the embeddings stay fixed'));
  assert.ok(!out.includes('bert.embeddings'));
  assert.ok(out.includes('# small') && out.includes('# fine-tune a checkpoint'));
  const none = applied(out, setFrozenEdit(out, names, 'bert.encoder.layer.0', false));
  assert.deepEqual(readFreezeLists(new ConfigDocument(none)), { freeze: [], unfreeze: [] });
  assert.match(none, /^freeze: \[\]$/m);
  assert.equal(new ConfigDocument(none).doc.errors.length, 0);
});

test('flow lists are edited in place, quoting globs', () => {
  const text = 'freeze: [bert.embeddings] # flow\n';
  const out = applied(text, setFrozenEdit(text, names, 'bert.encoder.layer.1', true));
  assert.equal(out, 'freeze: [bert.embeddings, bert.encoder.layer.1] # flow\n');
  const back = applied(out, setFrozenEdit(out, names, 'bert.embeddings', false));
  assert.equal(back, 'freeze: [bert.encoder.layer.1] # flow\n');
});

test('unfreezing inside a frozen parent adds to unfreeze; re-freezing narrows it again', () => {
  const text = 'freeze:\n  - bert\n';
  const a = applied(text, setFrozenEdit(text, names, 'bert.encoder.layer.3', false));
  assert.deepEqual(readFreezeLists(new ConfigDocument(a)), { freeze: ['bert'], unfreeze: ['bert.encoder.layer.3'] });
  assert.ok(trainableUnder(a, 'bert.encoder.layer.3') && frozenUnder(a, 'bert.encoder.layer.2'));
  const b = applied(a, setFrozenEdit(a, names, 'bert.encoder.layer.3.attention', true));
  assert.ok(frozenUnder(b, 'bert.encoder.layer.3.attention'));
  assert.ok(trainableUnder(b, 'bert.encoder.layer.3.intermediate') && trainableUnder(b, 'bert.encoder.layer.3.output'));
});

test('no edit when the module is already in the wanted state', () => {
  assert.equal(setFrozenEdit(withComments, names, 'bert.embeddings', true).edit, undefined);
  assert.equal(setFrozenEdit(withComments, names, 'classifier', false).edit, undefined);
});

test('shortcuts: top N layers, head only', () => {
  const top = applied(withComments, shortcutEdit(withComments, names, { kind: 'top-n', n: 1, numLayers: 4 }));
  for (const p of ['bert.embeddings', 'bert.encoder.layer.0', 'bert.encoder.layer.2'])
    assert.ok(frozenUnder(top, p), p);
  for (const p of ['bert.encoder.layer.3', 'bert.pooler', 'classifier']) assert.ok(trainableUnder(top, p), p);
  assert.ok(top.includes('# the embeddings stay fixed'));
  const head = applied(top, shortcutEdit(top, names, { kind: 'head-only' }));
  assert.deepEqual(readFreezeLists(new ConfigDocument(head)).freeze, ['bert']);
  assert.ok(trainableUnder(head, 'classifier') && frozenUnder(head, 'bert.pooler'));
});

test('coverPaths writes whole modules once', () => {
  const sel = new Set(names.filter((n) => n.startsWith('bert.encoder.layer.1.') || n.startsWith('classifier')));
  assert.deepEqual(coverPaths(names, sel), ['bert.encoder.layer.1', 'classifier']);
});

test('diffEdit is the smallest single replacement', () => {
  assert.deepEqual(diffEdit('abcXdef', 'abcYYdef'), { range: { start: 3, end: 4 }, newText: 'YY' });
  assert.equal(diffEdit('same', 'same'), undefined);
});
