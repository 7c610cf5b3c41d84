// Activation time of the built extension (dist/extension.js), with a stub `vscode` module, in fresh processes.
// Baseline measured in the same run: loading dist/languageClient.js, the cost that activation defers to the first
// *.finetune.yaml. Usage: node bench/activation.mjs [runs]   (run `npm run build` first)
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 7);
for (const f of ['dist/extension.js', 'dist/languageClient.js']) {
  if (!existsSync(path.join(root, f))) throw new Error(`${f} is missing: run npm run build first`);
}

// A `vscode` whose every member is a callable, constructible no-op returning a disposable; enough for activate().
const stub = `
const Module = require('module');
const make = () => new Proxy(function () {}, {
  get: (t, k) => (k === 'then' ? undefined : k === 'dispose' ? () => {} : k === Symbol.iterator ? [][Symbol.iterator] : k === Symbol.toPrimitive ? () => '' : make()),
  apply: () => make(),
  construct: () => make(),
  set: () => true,
});
// Namespaces are plain own properties, because the bundle copies the module's keys (esbuild's __toESM).
const ns = {};
for (const k of ['window', 'workspace', 'commands', 'languages', 'env', 'extensions', 'EventEmitter', 'Disposable', 'ThemeIcon', 'ThemeColor',
  'TreeItem', 'TreeItemCollapsibleState', 'Uri', 'RelativePattern', 'StatusBarAlignment', 'MarkdownString', 'Range', 'Position', 'CodeLens',
  'ViewColumn', 'ProgressLocation', 'ConfigurationTarget', 'FileType']) ns[k] = make();
const vscode = new Proxy(ns, { get: (t, k) => (k in t ? t[k] : k === 'then' ? undefined : (t[k] = make())) });
const orig = Module._load;
Module._load = function (req, ...rest) { return req === 'vscode' ? vscode : orig.call(this, req, ...rest); };
`;

function once(kind) {
  const body =
    kind === 'activate'
      ? `${stub}
const t0 = process.hrtime.bigint();
const ext = require(${JSON.stringify(path.join(root, 'dist/extension.js'))});
const t1 = process.hrtime.bigint();
ext.activate({ extensionPath: ${JSON.stringify(root)}, subscriptions: [], extensionUri: {} });
const t2 = process.hrtime.bigint();
console.log(JSON.stringify({ load: Number(t1 - t0) / 1e6, activate: Number(t2 - t1) / 1e6 }));
process.exit(0);`
      : `${stub}
const t0 = process.hrtime.bigint();
require(${JSON.stringify(path.join(root, 'dist/languageClient.js'))});
console.log(JSON.stringify({ load: Number(process.hrtime.bigint() - t0) / 1e6, activate: 0 }));
process.exit(0);`;
  return JSON.parse(execFileSync(process.execPath, ['-e', body], { encoding: 'utf8' }).trim().split('\n').pop());
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ext = [];
const lc = [];
for (let i = 0; i < runs; i++) {
  ext.push(once('activate'));
  lc.push(once('client'));
}
const load = median(ext.map((r) => r.load));
const act = median(ext.map((r) => r.activate));
const client = median(lc.map((r) => r.load));
console.log(
  `activation (median of ${runs} fresh processes): require dist/extension.js ${load.toFixed(1)} ms + activate() ${act.toFixed(1)} ms = ${(load + act).toFixed(1)} ms`,
);
console.log(`baseline, deferred to the first config: require dist/languageClient.js ${client.toFixed(1)} ms`);
console.log(`ratio activation / language client load: ${((load + act) / client).toFixed(2)}`);
