/**
 * Issue 16, Deliver 2: what a `model.revision` may be (common/hubRevision.ts), how it is found in the Hub cache
 * (common/config/hubModel.ts `findCachedRevision`, the same rule as files/hf/hubCache.ts `resolveRevision`), and
 * the cache's refs and snapshots read with bounds, whoever wrote them.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { revisionProblem } from '../../common/hubRevision';
import { findCachedRevision } from '../../common/config/hubModel';
import type { HubRepoCache } from '../../common/config/hubModel';
import { HubCacheRepo, hubCacheLocation } from '../../files/hf/hubCache';

const A = '1234567'.padEnd(40, 'a');
const B = '1234568'.padEnd(40, 'b');
const C = '12345678'.padEnd(40, 'c');

describe('revisionProblem', () => {
  it('accepts branches, tags, commits and pull requests', () => {
    for (const ok of [
      'main',
      'v1.0',
      'release/2024-01',
      A,
      'a1b2c3d',
      'refs/pr/3',
      'refs/convert/parquet',
      'my_branch',
    ])
      assert.equal(revisionProblem(ok), undefined, ok);
  });

  it('refuses what git refuses, and anything that would leave refs/', () => {
    const bad = {
      '../../etc/passwd': /'\.\.' path segment/,
      '/etc/passwd': /absolute/,
      'a\\b': /backslash/,
      'refs/pr/x': /refs\/pr\/<number>/,
      'refs/pr/': /refs\/pr\/<number>/,
      'a b': /git refuses/,
      'v1..2': /git refuses/,
      'x@{1}': /git refuses/,
      'topic.lock': /\.lock/,
      'a/.hidden': /starts with a dot/,
      'main\u0000': /NUL or control/,
      '': /empty/,
    };
    for (const [revision, why] of Object.entries(bad)) assert.match(revisionProblem(revision) ?? '', why, revision);
  });
});

describe('findCachedRevision', () => {
  const cache: HubRepoCache = {
    dir: '/c/models--o--m',
    offline: false,
    refs: new Map([
      ['main', A],
      ['v1.0', B],
      ['gone', 'f'.repeat(40)],
    ]),
    snapshots: [A, B, C],
  };

  it('a ref, a full sha, a unique short sha', () => {
    assert.deepEqual(findCachedRevision(cache, 'main'), { state: 'cached', sha: A, via: 'ref' });
    assert.deepEqual(findCachedRevision(cache, C), { state: 'cached', sha: C, via: 'sha' });
    assert.deepEqual(findCachedRevision(cache, '12345678'), { state: 'cached', sha: C, via: 'short' });
  });

  it('a short sha of several commits is ambiguous; a ref whose snapshot is gone, or an unknown name, is absent', () => {
    assert.deepEqual(findCachedRevision(cache, '1234567'), { state: 'ambiguous', shas: [A, C] });
    assert.deepEqual(findCachedRevision(cache, 'gone'), { state: 'absent' });
    assert.deepEqual(findCachedRevision(cache, 'v2'), { state: 'absent' });
    assert.deepEqual(findCachedRevision(cache, 'd'.repeat(40)), { state: 'absent' });
    // Fewer than 7 hex digits is a name, never a sha.
    assert.deepEqual(findCachedRevision(cache, '123456'), { state: 'absent' });
  });
});

describe('HubCacheRepo: refs and snapshots as the cache holds them', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'hub-refs-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const repo = new HubCacheRepo(root, 'org/model');
  const write = (rel: string, content: string) => {
    mkdirSync(path.dirname(path.join(repo.dir, rel)), { recursive: true });
    writeFileSync(path.join(repo.dir, rel), content);
  };
  write('refs/main', A);
  write('refs/v1.0', `${B}\n`);
  write('refs/refs/pr/3', C);
  write('refs/huge', A.repeat(1000));
  write('refs/not-a-sha', 'hello');
  symlinkSync('/etc/hostname', path.join(repo.dir, 'refs', 'link'));
  for (const sha of [A, C]) mkdirSync(path.join(repo.dir, 'snapshots', sha), { recursive: true });
  mkdirSync(path.join(repo.dir, 'snapshots', 'not-a-commit'));

  it('lists every ref (nested refs/pr/N too) with its commit, skipping links, large files and non-shas', async () => {
    assert.deepEqual(
      [...(await repo.refs())],
      [
        ['main', A],
        ['refs/pr/3', C],
        ['v1.0', B],
      ],
    );
  });

  it('lists the commits that have a snapshot folder, and stops at the bound', async () => {
    // In sha order ('8' < 'a'), the folder named not-a-commit left out.
    assert.deepEqual(await repo.snapshots(), [C, A]);
    assert.deepEqual(await repo.snapshots(1), [C]);
  });

  it('resolveRevision: a short sha of exactly one cached snapshot is that commit, as offline runs need', async () => {
    assert.equal(await repo.resolveRevision('12345678'), C);
    assert.equal(await repo.resolveRevision('1234567'), undefined, 'two snapshots start with it');
    assert.equal(await repo.resolveRevision('refs/pr/3'), C);
    assert.equal(await repo.resolveRevision('v1.0'), B);
  });

  it('a repo that was never cached has no refs and no snapshots', async () => {
    const none = new HubCacheRepo(root, 'org/none');
    assert.deepEqual([...(await none.refs())], []);
    assert.deepEqual(await none.snapshots(), []);
  });

  it('hubCacheLocation: HF_HUB_CACHE, else HF_HOME/hub; either offline variable', () => {
    assert.deepEqual(hubCacheLocation({ HF_HOME: '/h', HF_HUB_OFFLINE: '1' }), {
      hfHome: '/h',
      cacheDir: path.join('/h', 'hub'),
      offline: true,
    });
    const custom = hubCacheLocation({ HF_HOME: '/h', HF_HUB_CACHE: '/c', TRANSFORMERS_OFFLINE: 'yes' });
    assert.equal(custom.cacheDir, '/c');
    assert.equal(custom.offline, true);
    assert.equal(hubCacheLocation({ HF_HOME: '/h', HF_HUB_OFFLINE: '0' }).offline, false);
  });
});
