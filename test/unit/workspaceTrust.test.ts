// Restricted Mode is declared in package.json (issue 13, defect 7), and what it declares holds: the restricted
// settings exist, and the path-valued setting that makes the extension read another folder is among them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

interface Pkg {
  capabilities?: {
    untrustedWorkspaces?: { supported: boolean | 'limited'; description?: string; restrictedConfigurations?: string[] };
  };
  contributes: { configuration: { properties: Record<string, { scope?: string; type?: string }> } };
}
const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as Pkg;

test('package.json declares limited support for untrusted workspaces, with a description', () => {
  const u = pkg.capabilities?.untrustedWorkspaces;
  assert.ok(u, 'capabilities.untrustedWorkspaces is missing');
  assert.equal(u.supported, 'limited');
  assert.match(u.description ?? '', /starts no trainer/);
});

test('restricted settings are declared settings, and the runs folder is one of them', () => {
  const restricted = pkg.capabilities?.untrustedWorkspaces?.restrictedConfigurations ?? [];
  const declared = new Map(Object.entries(pkg.contributes.configuration.properties));
  for (const key of restricted) assert.ok(declared.has(key), `${key} is restricted but not a setting`);
  assert.ok(restricted.includes('finetune.runsFolder'));
});
