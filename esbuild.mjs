// One build script for every bundle: the extension host (vscode external), the language server, the trainer
// subprocess and its CLI (node), and the webviews (browser). `node esbuild.mjs --watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, copyFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

// Packages that cannot be bundled: native addons and the optional native TensorFlow builds, plus
// transformers.js, which loads onnxruntime and sharp (native) lazily and ships its own dist files.
const nodeExternals = ['vscode', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', '@huggingface/transformers', 'onnxruntime-node', 'sharp'];

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'info',
  legalComments: 'linked',
};

const nodeEntries = [
  ['extension/extension.ts', 'dist/extension.js'],
  // Its own bundle, so that activation does not load vscode-languageclient (see extension/extension.ts).
  ['extension/languageClient.ts', 'dist/languageClient.js'],
  ['server/server.ts', 'dist/server.js'],
  ['trainer/main.ts', 'dist/trainer.js'],
  ['trainer/cli.ts', 'dist/cli.js'],
].filter(([src]) => existsSync(src));

const webviewEntries = existsSync('webview')
  ? readdirSync('webview')
      .filter((f) => f.endsWith('Panel.ts') || f.endsWith('.panel.ts'))
      .map((f) => [join('webview', f), join('dist/webview', f.replace(/\.ts$/, '.js'))])
  : [];

const builds = [
  ...nodeEntries.map(([entry, outfile]) => ({
    ...common,
    entryPoints: [entry],
    outfile,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: nodeExternals,
    banner: outfile === 'dist/cli.js' ? { js: '#!/usr/bin/env node' } : undefined,
  })),
  ...webviewEntries.map(([entry, outfile]) => ({
    ...common,
    entryPoints: [entry],
    outfile,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
  })),
];

// The WASM backend loads its .wasm binaries from next to the bundle at run time.
function copyWasm() {
  const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  mkdirSync('dist/wasm', { recursive: true });
  for (const f of readdirSync(join(dir, 'dist')).filter((f) => f.endsWith('.wasm'))) copyFileSync(join(dir, 'dist', f), join('dist/wasm', f));
}

copyWasm();
if (watch) {
  for (const b of builds) (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
