// `npm run package [-- linux-x64 win32-x64 …]`: one .vsix per platform, each with only its own WebGPU binary
// (dist/dawn/<platform>/), as VS Code's platform-specific extensions want. Without arguments: every platform
// that Dawn's npm package ships. Fails when a package reaches the Marketplace-friendly 30 MB budget.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ALL = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64', 'win32-arm64'];
const MAX_BYTES = 30 * 1024 * 1024;
const targets = process.argv.slice(2).length ? process.argv.slice(2) : ALL;
const vsce = require.resolve('@vscode/vsce/vsce');

const sizes = [];
for (const target of targets) {
  if (!ALL.includes(target)) throw new Error(`unknown target ${target}; one of ${ALL.join(', ')}`);
  execFileSync(process.execPath, ['esbuild.mjs', '--production', '--target', target], { stdio: 'inherit' });
  const out = `finetune-studio-${target}.vsix`;
  const flags = ['--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links'];
  execFileSync(process.execPath, [vsce, 'package', '--target', target, ...flags, '-o', out], { stdio: 'inherit' });
  sizes.push({ out, bytes: statSync(out).size });
}
for (const { out, bytes } of sizes) console.log(`${out}: ${(bytes / 2 ** 20).toFixed(1)} MB`);
const over = sizes.filter((s) => s.bytes > MAX_BYTES);
if (over.length) {
  console.error(`Over ${MAX_BYTES / 2 ** 20} MB: ${over.map((s) => s.out).join(', ')}`);
  process.exit(1);
}
