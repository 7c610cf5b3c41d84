// The layering of the processes (ARCHITECTURE.md): each folder may import only the folders below it, and only the
// packages and Node built-ins that run where it runs. The globals (DOM only in webview/, Node only outside it) are
// checked by each folder's own tsconfig.json; this test checks what each file imports, type-only imports included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '..', '..');

interface Rule {
  /** Top-level folders this one may import from (itself always). */
  folders: readonly string[];
  /** Package names (or prefixes ending in `/`) it may import; `node:*` means any Node built-in. */
  packages: readonly string[];
}

/** Built-ins common/ needs, for the atomic writes and path probes that every Node process shares. */
const COMMON_BUILTINS = ['node:fs', 'node:path'];

const RULES: Record<string, Rule> = {
  common: { folders: [], packages: ['yaml', ...COMMON_BUILTINS] },
  files: { folders: ['common'], packages: ['node:*', 'hyparquet'] },
  webview: { folders: ['common'], packages: ['@vscode-elements/elements/'] },
  server: {
    folders: ['common', 'files'],
    packages: ['node:*', 'yaml', 'vscode-languageserver', 'vscode-languageserver/'].concat(
      'vscode-languageserver-textdocument',
    ),
  },
  extension: { folders: ['common', 'files'], packages: ['node:*', 'yaml', 'vscode', 'vscode-languageclient/'] },
  trainer: {
    folders: ['common', 'files'],
    packages: ['node:*', 'yaml', '@tensorflow/', '@huggingface/transformers', 'tsx/', 'webgpu'],
  },
};

function sourceFiles(folder: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(ROOT, folder), { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(path.join(e.parentPath, e.name));
  }
  return out.sort();
}

/** Every module a file names: imports, `import type`, re-exports, `import()` and `require()`. */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map((f) => f.fileName);
}

function allowedPackage(spec: string, rule: Rule): boolean {
  if (spec.startsWith('node:') && rule.packages.includes('node:*')) return true;
  return rule.packages.some((p) => (p.endsWith('/') ? spec.startsWith(p) : spec === p));
}

/** Why `spec`, imported by `file` of `folder`, breaks the layering; undefined when it does not. */
function layeringProblem(folder: string, file: string, spec: string): string | undefined {
  const rule = RULES[folder]!;
  const where = path.relative(ROOT, file);
  if (!spec.startsWith('.')) {
    return allowedPackage(spec, rule) ? undefined : `${where} imports ${spec}, which ${folder}/ may not use`;
  }
  const target = path.relative(ROOT, path.resolve(path.dirname(file), spec)).split(path.sep)[0]!;
  if (target === folder || rule.folders.includes(target)) return undefined;
  return `${where} imports ${spec} from ${target}/; ${folder}/ may import only ${[folder, ...rule.folders].join(', ')}`;
}

for (const folder of Object.keys(RULES)) {
  test(`${folder}/ imports only what its layer allows`, () => {
    const problems: string[] = [];
    const files = sourceFiles(folder);
    assert.ok(files.length > 0, `${folder}/ has no sources: the rule checks nothing`);
    for (const file of files) {
      for (const spec of importsOf(file)) {
        const problem = layeringProblem(folder, file, spec);
        if (problem) problems.push(problem);
      }
    }
    assert.deepEqual(problems, []);
  });
}

test('the rules catch what they are for', () => {
  const file = (folder: string) => path.join(ROOT, folder, 'x.ts');
  assert.match(layeringProblem('extension', file('extension'), '../server/initializationOptions') ?? '', /server\//);
  assert.match(layeringProblem('server', file('server'), '../trainer/engine/loadConfig') ?? '', /trainer\//);
  assert.match(layeringProblem('webview', file('webview'), 'node:fs') ?? '', /may not use/);
  assert.match(layeringProblem('common', file('common'), 'vscode') ?? '', /may not use/);
  assert.match(layeringProblem('common', file('common'), '@tensorflow/tfjs-core') ?? '', /may not use/);
  assert.match(layeringProblem('common', file('common'), 'node:child_process') ?? '', /may not use/);
  assert.match(layeringProblem('files', file('files'), '../trainer/hf/hub') ?? '', /trainer\//);
  assert.equal(layeringProblem('trainer', file('trainer'), '../files/hf/bertConfig'), undefined);
});

test('every process folder is type-checked with its own globals', () => {
  type Config = { compilerOptions?: { lib?: string[]; types?: string[] } };
  const read = (p: string) => JSON.parse(readFileSync(path.join(ROOT, p), 'utf8')) as Config;
  const base = read('tsconfig.base.json').compilerOptions ?? {};
  for (const folder of Object.keys(RULES)) {
    const own = read(path.join(folder, 'tsconfig.json')).compilerOptions ?? {};
    const lib = (own.lib ?? base.lib ?? []).map((l) => l.toLowerCase());
    const types = own.types ?? base.types ?? [];
    if (folder === 'webview') {
      assert.ok(lib.includes('dom'), 'webview/ runs in a browser: DOM');
      assert.deepEqual(types, [], 'webview/ must not see Node types');
    } else {
      assert.ok(!lib.some((l) => l.startsWith('dom')), `${folder}/ runs under Node: no DOM types`);
      assert.ok(types.includes('node'), `${folder}/ runs under Node`);
    }
  }
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const typecheck = readFileSync(path.join(ROOT, 'scripts', 'typecheck.mjs'), 'utf8');
  assert.match(pkg.scripts['typecheck'] ?? '', /scripts\/typecheck\.mjs/);
  for (const folder of Object.keys(RULES)) assert.ok(typecheck.includes(`'${folder}'`), `typecheck skips ${folder}/`);
});

test('webview/ pulls in no part of common/ that needs Node', () => {
  // Follows webview's imports into common/: a Node built-in there would break the browser bundle.
  const seen = new Set<string>();
  const stack = sourceFiles('webview');
  const problems: string[] = [];
  while (stack.length) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of importsOf(file)) {
      if (spec.startsWith('node:')) problems.push(`${path.relative(ROOT, file)} imports ${spec}`);
      if (spec.startsWith('.')) stack.push(path.resolve(path.dirname(file), spec) + '.ts');
    }
  }
  assert.ok(
    [...seen].some((f) => f.includes(`${path.sep}common${path.sep}`)),
    'webview imports common/',
  );
  assert.deepEqual(problems, []);
});
