/**
 * Writes schemas/finetune.schema.json from common/config/schema.ts and puts the config language's entries in
 * package.json's `contributes` (languages, grammars, yamlValidation), leaving every other entry as it is.
 * `node --import tsx scripts/gen-schema.ts --check` only reports drift (exit 1), for CI.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../common/atomicWrite';
import type { JsonSchema } from '../common/config/jsonSchema';
import { configContributions, jsonSchemaText, SCHEMA_FILE, SCHEMA_REPOSITORY } from '../common/config/jsonSchema';

const root = path.resolve(import.meta.dirname ?? __dirname, '..');
const identity = (e: JsonSchema): string => String(e['id'] ?? e['language'] ?? e['url']);

/** package.json with our contributions merged in: entries with the same id/language/url are replaced. */
export function withContributions(pkg: JsonSchema): JsonSchema {
  const contributes = { ...((pkg['contributes'] as JsonSchema | undefined) ?? {}) };
  for (const [key, ours] of Object.entries(configContributions())) {
    const mine = new Set(ours.map(identity));
    const theirs = ((contributes[key] as JsonSchema[] | undefined) ?? []).filter((e) => !mine.has(identity(e)));
    contributes[key] = [...theirs, ...ours];
  }
  return { ...pkg, contributes };
}

/** `owner/name` of package.json's `repository` (a GitHub URL, or the `github:owner/name` shorthand). */
export function repositoryOf(pkg: JsonSchema): string | undefined {
  const field = pkg['repository'];
  const url = typeof field === 'string' ? field : (field as { url?: unknown } | undefined)?.url;
  if (typeof url !== 'string') return undefined;
  const m = /^(?:github:|(?:git\+)?https:\/\/github\.com\/)([\w.-]+\/[\w.-]+?)(?:\.git)?\/?$/.exec(url);
  return m?.[1];
}

/** The schema is published from the repository package.json names; a fork renames both, or neither. */
function checkRepository(pkg: JsonSchema): void {
  const repository = repositoryOf(pkg);
  if (repository === SCHEMA_REPOSITORY) return;
  console.error(
    `package.json's repository is ${repository ?? 'not a GitHub URL'}, but the schema is published from ` +
      `${SCHEMA_REPOSITORY}: change SCHEMA_REPOSITORY in common/config/jsonSchema.ts (or package.json) to match.`,
  );
  process.exit(1);
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const schemaPath = path.join(root, SCHEMA_FILE);
  const pkgPath = path.join(root, 'package.json');
  const read = (p: string) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return '';
    }
  };
  const pkgText = read(pkgPath);
  checkRepository(JSON.parse(pkgText) as JsonSchema);
  const wantedPkg = JSON.stringify(withContributions(JSON.parse(pkgText) as JsonSchema), null, 2) + '\n';
  const drift: string[] = [];
  if (read(schemaPath) !== jsonSchemaText()) drift.push(SCHEMA_FILE);
  if (pkgText !== wantedPkg) drift.push('package.json (contributes)');
  if (check) {
    if (drift.length) {
      console.error(`Out of date: ${drift.join(', ')}. Run \`node --import tsx scripts/gen-schema.ts\`.`);
      process.exit(1);
    }
    console.log('Schema and package.json contributions are up to date.');
    return;
  }
  if (drift.includes(SCHEMA_FILE)) await writeFileAtomic(schemaPath, jsonSchemaText());
  if (pkgText !== wantedPkg) await writeFileAtomic(pkgPath, wantedPkg);
  console.log(drift.length ? `Wrote ${drift.join(', ')}.` : 'Nothing to do.');
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename ?? __filename)) void main();
