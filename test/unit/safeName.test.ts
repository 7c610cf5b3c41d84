import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { checkRelativeName, checkSegment, relativeNameProblem, resolveInside, showName } from '../../common/safeName';
import { FineTuneError } from '../../common/errors';

test('plain relative names pass, as the Hub names files', () => {
  for (const name of [
    'config.json',
    'model-00001-of-00002.safetensors',
    '1_Pooling/config.json',
    'a b/ü.txt',
    '.gitattributes',
  ]) {
    assert.equal(relativeNameProblem(name), undefined, name);
    assert.equal(checkRelativeName(name, { origin: 't' }), name);
  }
});

test('names that could leave their folder, on POSIX or on Windows, are refused with the reason', () => {
  const cases: [unknown, RegExp][] = [
    ['../x', /'\.\.' path segment/],
    ['a/../../x', /'\.\.' path segment/],
    ['/etc/passwd', /absolute/],
    ['a\\b/../..', /backslash/],
    ['C:\\x', /backslash/],
    ['C:x', /colon/],
    ['a/\u0000', /NUL/],
    ['a//b', /empty path segment/],
    ['a/', /empty path segment/],
    ['', /empty/],
    ['./x', /'\.' path segment/],
    ['.. /x', /ends with a dot or a space/],
    ['x/...', /ends with a dot or a space/],
    ['aux.json', /device name/],
    ['x'.repeat(300), /longer than 255/],
    ['a/'.repeat(600), /longer than 1024/],
    [42, /number, not a string/],
    [null, /null, not a string/],
  ];
  for (const [name, reason] of cases) {
    assert.match(relativeNameProblem(name) ?? 'accepted', reason, showName(name));
    assert.throws(
      () => checkRelativeName(name, { origin: 'the index', file: 'i.json' }),
      (e: unknown) => {
        assert.ok(e instanceof FineTuneError);
        assert.equal(e.code, 'unsafe-file-name');
        assert.equal(e.file, 'i.json');
        assert.match(e.message, /^invalid file name .* in the index: /);
        return true;
      },
    );
  }
});

test('resolveInside joins a checked name and keeps it inside the folder; checkSegment wants one segment', () => {
  const root = path.resolve('/tmp/cache');
  assert.equal(resolveInside(root, 'a/b.json', { origin: 't' }), path.join(root, 'a', 'b.json'));
  assert.throws(() => resolveInside(root, '../cache2/x', { origin: 't' }), /invalid file name/);
  assert.equal(checkSegment('0123abc', { origin: 't' }), '0123abc');
  assert.throws(() => checkSegment('a/b', { origin: 'an ETag' }), /in an ETag: it contains a slash/);
});

test('showName never calls into a hostile value and cuts long names', () => {
  assert.equal(showName({ toString: 'x' }), '(object)');
  assert.equal(showName('a\u0000'), '"a\\u0000"');
  assert.ok(showName('x'.repeat(1000)).length < 130);
});
