// The published packages, as a user gets them. `npm pack` (which builds the bundles first: prepack) must give a
// CLI that runs from the tarball in an empty folder with no network and no node_modules: every runtime library
// is bundled, the native backends are optional peers. The .vsix (vsce's file list, from .vscodeignore) must leave
// out what Node never loads. Slow but bounded: a production build, a pack, one 1-step run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { makeWorkspace } from './engineFixtures';
import { REPO } from './trainerProcess';

const run = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';

interface PackResult {
  filename: string;
  files: { path: string }[];
}

const packDir = mkdtempSync(path.join(tmpdir(), 'ft-pack-'));
/** A cache of its own: what the run needs must come from the tarball, not from packages cached earlier. */
const cacheDir = mkdtempSync(path.join(tmpdir(), 'ft-npm-cache-'));

const packed = (async (): Promise<PackResult> => {
  const { stdout } = await run(NPM, ['pack', '--json', '--pack-destination', packDir], {
    cwd: REPO,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, npm_config_cache: cacheDir },
  });
  // prepack's build logs come first on some npm versions: the JSON is the last top-level array.
  const json = stdout.slice(stdout.lastIndexOf('\n[') + 1);
  return (JSON.parse(json) as PackResult[])[0]!;
})();

test(
  'npm pack ships the bundles, the WASM binaries Node loads and the schema; no tests, sources, maps or demo data',
  { timeout: 120_000 },
  async () => {
    const files = (await packed).files.map((f) => f.path).sort();
    for (const f of [
      'dist/cli.js',
      'dist/trainer.js',
      'dist/replicaWorker.js',
      'dist/wasm/tfjs-backend-wasm-simd.wasm',
    ]) {
      assert.ok(files.includes(f), `${f} is in the package: ${files.join(', ')}`);
    }
    assert.ok(files.includes('schemas/finetune.schema.json'));
    const unwanted = files.filter((f) =>
      /^(test|trainer|common|extension|server|webview|files|scripts|bench|examples|media)\/|\.map$|\.ts$|threaded-simd|^\.|\/\./.test(
        f,
      ),
    );
    assert.deepEqual(unwanted, []);
    const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(pkg['dependencies'], undefined, 'every runtime library is bundled: npx installs nothing');
  },
);

test(
  'npx ./finetune-studio-x.y.z.tgz train … runs from the tarball in an empty folder, offline',
  { timeout: 120_000 },
  async () => {
    const { filename } = await packed;
    const ws = makeWorkspace({ training: { max_steps: 6 } });
    copyFileSync(path.join(packDir, filename), path.join(ws.dir, filename));
    const env = {
      ...process.env,
      npm_config_cache: cacheDir,
      npm_config_update_notifier: 'false',
      FINETUNE_THREADS: '1',
    };
    const args = ['--yes', '--offline', `./${filename}`, 'train', path.basename(ws.configFile), '--max_steps', '1'];
    const r = await run(NPX, args, { cwd: ws.dir, env, maxBuffer: 16 * 1024 * 1024 });
    assert.match(r.stdout, /^step 1\/1 /m);
    assert.match(r.stdout, /^completed at step 1 /m);
    const version = await run(NPX, ['--yes', '--offline', `./${filename}`, '--version'], { cwd: ws.dir, env });
    assert.equal(
      version.stdout.trim(),
      (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version,
    );
  },
);

test(
  'the .vsix leaves out the threaded-SIMD WASM binary, sources, tests and source maps',
  { timeout: 120_000 },
  async () => {
    // After the pack, dist/ holds a production build: vsce lists what .vscodeignore lets into the .vsix.
    await packed;
    const vsce = require.resolve('@vscode/vsce/vsce');
    const { stdout } = await run(process.execPath, [vsce, 'ls', '--no-dependencies'], {
      cwd: REPO,
      maxBuffer: 16 * 1024 * 1024,
    });
    const files = stdout.split('\n').filter(Boolean);
    assert.ok(files.includes('dist/wasm/tfjs-backend-wasm-simd.wasm'), files.join(', '));
    assert.ok(files.includes('dist/wasm/tfjs-backend-wasm.wasm'));
    assert.ok(files.includes('media/icon.png'));
    assert.deepEqual(
      files.filter((f) =>
        /threaded-simd|\.map$|\.ts$|^(test|trainer|common|server|extension|scripts|examples)\//.test(f),
      ),
      [],
    );
  },
);
