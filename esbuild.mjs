// One build script for every bundle: the extension host (vscode external), the language server, the trainer
// subprocess and its CLI (node), and the webviews (browser). `node esbuild.mjs --watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, copyFileSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
// `--target linux-x64` (a vsce target): the platform whose WebGPU binary goes into dist/dawn. Default: this one.
const targetArg = process.argv.indexOf('--target');
const target = targetArg > 0 ? process.argv[targetArg + 1] : `${process.platform}-${process.arch}`;

// Packages that cannot be bundled: the optional native TensorFlow builds (the user installs them).
const nodeExternals = ['vscode', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];

// transformers.js is bundled: we use it for tokenizers and configs only, which never touch its inference
// runtimes. Its node build loads onnxruntime-node (~290 MB of native binaries) and sharp (native) at import
// time, so they are replaced by empty modules; the .vsix then needs no node_modules at all.
const noNativeRuntimes = {
  name: 'no-native-runtimes',
  setup(b) {
    b.onResolve({ filter: /^(onnxruntime-node|sharp)$/ }, (a) => ({ path: a.path, namespace: 'native-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'native-stub' }, (a) => ({
      contents: `module.exports = {}; // ${a.path} is left out of the bundle: tokenizers do not need it`,
      loader: 'js',
    }));
    // It reaches onnxruntime-node through createRequire, which esbuild cannot see; make it a plain require.
    b.onLoad({ filter: /@huggingface[\\/]transformers[\\/]dist[\\/]transformers\.node\.c?m?js$/ }, async (a) => ({
      contents: (await readFile(a.path, 'utf8')).replace(
        'requireFromHere("onnxruntime-node")',
        'require("onnxruntime-node")',
      ),
      loader: 'js',
    }));
  },
};

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
  // The trainer's worker threads for training and inference (trainer/parallel/replicas.ts loads it from next to the trainer).
  ['trainer/parallel/replicaWorker.ts', 'dist/replicaWorker.js'],
  // Lists the WebGPU adapters for "Check training environment", in a process of its own (extension/environment.ts).
  ['trainer/gpu/probe.ts', 'dist/gpuProbe.js'],
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
    plugins: [noNativeRuntimes],
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
  for (const f of readdirSync(join(dir, 'dist')).filter((f) => f.endsWith('.wasm')))
    copyFileSync(join(dir, 'dist', f), join('dist/wasm', f));
}

// The webviews load the codicon font from dist/webview (their only resource roots are dist/webview and media).
function copyCodicons() {
  const dir = join(dirname(require.resolve('@vscode/codicons/package.json')), 'dist');
  mkdirSync('dist/webview/codicons', { recursive: true });
  for (const f of ['codicon.css', 'codicon.ttf']) copyFileSync(join(dir, f), join('dist/webview/codicons', f));
}

// The webgpu backend loads Dawn's native binding (dawn.node, with its DLLs on Windows) from dist/dawn/<platform>/
// (trainer/gpu/dawn.ts). Only the target platform's copy: each platform's .vsix carries its own (scripts/package.mjs).
const DAWN_DIRS = {
  'linux-x64': 'linux-x64',
  'linux-arm64': 'linux-arm64',
  'darwin-x64': 'darwin-universal',
  'darwin-arm64': 'darwin-universal',
  'win32-x64': 'win32-x64',
  'win32-arm64': 'win32-arm64',
};
function copyDawn() {
  rmSync('dist/dawn', { recursive: true, force: true });
  const platformDir = DAWN_DIRS[target];
  if (!platformDir) {
    console.warn(`No WebGPU binary for ${target}: the webgpu backend will not be available there.`);
    return;
  }
  const from = join(dirname(require.resolve('webgpu/package.json')), 'dist', platformDir);
  const to = join('dist/dawn', platformDir);
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from)) copyFileSync(join(from, f), join(to, f));
}

copyWasm();
copyDawn();
if (webviewEntries.length) copyCodicons();
if (watch) {
  for (const b of builds) (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
