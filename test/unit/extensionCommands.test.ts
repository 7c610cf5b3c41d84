// Every command the extension registers is declared in package.json (so it has a title and category), and
// every declared command is registered by the extension or the panels, so no palette entry does nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  contributes: { commands: { command: string }[] };
};
const declared = new Set(pkg.contributes.commands.map((c) => c.command));

function registeredIn(dir: string): Set<string> {
  const ids = new Set<string>();
  for (const f of readdirSync(path.join(root, dir)).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(path.join(root, dir, f), 'utf8');
    for (const m of text.matchAll(/(?:registerCommand|reg)\(\s*'(finetune\.[\w.]+)'/g)) ids.add(m[1]!);
  }
  return ids;
}

test('commands registered by the extension are declared in package.json', () => {
  const ours = registeredIn('extension');
  assert.ok(ours.size >= 10, `found only ${ours.size} registrations: the scan is broken`);
  for (const id of ours) assert.ok(declared.has(id), `${id} is registered but not declared in package.json`);
});

test('every declared command is registered somewhere', () => {
  const all = new Set([...registeredIn('extension'), ...registeredIn('extension/panels')]);
  for (const id of declared) assert.ok(all.has(id), `${id} is in package.json but nothing registers it`);
});
