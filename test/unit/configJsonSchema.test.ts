import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { JsonSchema } from '../../common/config/jsonSchema';
import {
  CONFIG_SCHEMA_URL,
  configContributions,
  generateJsonSchema,
  jsonSchemaText,
  SCHEMA_FILE,
} from '../../common/config/jsonSchema';
import { configSchema } from '../../common/config/schema';
import type { FieldSpec, SectionSpec } from '../../common/config/spec';
import { repositoryOf, withContributions } from '../../scripts/gen-schema';

const root = path.resolve(import.meta.dirname, '../..');
const FIX = 'Run `node --import tsx scripts/gen-schema.ts` and commit the result.';

describe('generated JSON Schema and package.json contributions', () => {
  it('the committed schema file is what the source generates', () => {
    const committed = readFileSync(path.join(root, SCHEMA_FILE), 'utf8');
    assert.equal(committed, jsonSchemaText(), `${SCHEMA_FILE} drifted from common/config/schema.ts. ${FIX}`);
  });

  it('package.json contributes the language, grammar and yamlValidation entries the source defines', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as JsonSchema;
    const contributes = pkg['contributes'] as Record<string, JsonSchema[]>;
    // Other entries in package.json belong to other parts; ours must be present exactly once and equal.
    assert.deepEqual(withContributions(pkg)['contributes'], contributes, `package.json contributions drifted. ${FIX}`);
    for (const [key, entries] of Object.entries(configContributions())) {
      for (const e of entries)
        assert.deepEqual(
          contributes[key]?.filter((x) => JSON.stringify(x) === JSON.stringify(e)).length,
          1,
          `${key} lacks ${JSON.stringify(e)}`,
        );
    }
  });

  it("the schema's $id is its copy in package.json's repository, as the wizard's $schema line and README say", () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as JsonSchema;
    const repository = repositoryOf(pkg);
    assert.ok(repository, 'package.json names a GitHub repository');
    const url = `https://raw.githubusercontent.com/${repository}/main/${SCHEMA_FILE}`;
    assert.equal(CONFIG_SCHEMA_URL, url);
    assert.equal(generateJsonSchema()['$id'], url);
    const committed = JSON.parse(readFileSync(path.join(root, SCHEMA_FILE), 'utf8')) as JsonSchema;
    assert.equal(committed['$id'], url, `${SCHEMA_FILE} has another $id. ${FIX}`);
    assert.ok(readFileSync(path.join(root, 'README.md'), 'utf8').includes(`$schema=${url}`), 'README names the URL');
  });

  it("repositoryOf reads package.json's repository in npm's forms", () => {
    const of = (repository: unknown) => repositoryOf({ repository });
    assert.equal(of({ type: 'git', url: 'https://github.com/a-b/c.d.git' }), 'a-b/c.d');
    assert.equal(of({ url: 'git+https://github.com/a/b' }), 'a/b');
    assert.equal(of('github:a/b'), 'a/b');
    for (const other of ['https://gitlab.com/a/b.git', 'https://github.com/a', { url: 3 }, undefined])
      assert.equal(of(other), undefined, JSON.stringify(other));
  });

  it('every file the contributions name exists', () => {
    const c = configContributions();
    for (const p of [
      c.languages[0]!['configuration'],
      c.grammars[0]!['path'],
      c.yamlValidation[0]!['url'],
    ] as string[]) {
      assert.ok(existsSync(path.join(root, p)), `${p} is missing`);
      JSON.parse(readFileSync(path.join(root, p), 'utf8'));
    }
  });

  it('mirrors every key of the schema, with types, required keys, defaults and ranges', () => {
    const walk = (spec: SectionSpec<unknown>, json: JsonSchema, at: string) => {
      const props = json['properties'] as Record<string, JsonSchema>;
      assert.deepEqual(Object.keys(props), Object.keys(spec.fields), at);
      assert.equal(json['additionalProperties'], false);
      const required = Object.entries(spec.fields as Record<string, FieldSpec>)
        .filter(([, f]) => f.required && f.requiredUnless === undefined)
        .map(([k]) => k);
      assert.deepEqual(json['required'] ?? [], required, `${at} required`);
      // A key that another may stand in for (`train_file` or `dataset_name`) is required as one of the two.
      for (const [k, f] of Object.entries(spec.fields as Record<string, FieldSpec>)) {
        if (f.requiredUnless === undefined) continue;
        assert.deepEqual(json['anyOf'], [{ required: [k] }, { required: [f.requiredUnless] }], `${at}.${k} anyOf`);
      }
      for (const [k, f] of Object.entries(spec.fields as Record<string, FieldSpec>)) {
        const p = props[k]!;
        assert.ok(String(p['description']).startsWith(f.description), `${at}.${k} description`);
        if (f.type === 'section') walk(f as SectionSpec<unknown>, p, `${at}.${k}`);
        else assert.deepEqual(p['default'], f.default, `${at}.${k} default`);
        if (f.type === 'enum') assert.deepEqual(p['enum'], [...f.values]);
        if (f.type === 'number' || f.type === 'integer') {
          for (const b of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'] as const)
            assert.equal(p[b], f[b], `${at}.${k} ${b}`);
        }
      }
    };
    walk(configSchema as SectionSpec<unknown>, generateJsonSchema(), 'config');
  });

  it('is draft-07 and describes the learning rate range', () => {
    const s = generateJsonSchema();
    assert.equal(s['$schema'], 'http://json-schema.org/draft-07/schema#');
    const lr = (
      (s['properties'] as Record<string, JsonSchema>)['training']!['properties'] as Record<string, JsonSchema>
    )['learning_rate']!;
    assert.equal(lr['exclusiveMinimum'], 0);
    assert.match(String(lr['description']), /Range: in \(0, 10\]/);
  });
});
