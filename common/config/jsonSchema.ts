/**
 * A JSON Schema (draft-07) generated from the config schema, so that other YAML tooling (Red Hat's YAML
 * extension, yaml-language-server in other editors) checks and completes `*.finetune.yaml` too. Also the
 * package.json contributions that point at it: scripts/gen-schema.ts writes both, and a test fails when the
 * committed files drift from what this module generates.
 */
import { configSchema } from './schema';
import type { FieldSpec, SectionSpec } from './spec';
import { describeRange } from './spec';

export const SCHEMA_FILE = 'schemas/finetune.schema.json';
/** The GitHub repository of package.json's `repository`, whose main branch publishes the generated schema. */
export const SCHEMA_REPOSITORY = 'finetune-studio/finetune-studio';
/**
 * Where the schema is published: its `$id`, and the `$schema=` line the wizard writes for other YAML tools.
 * scripts/gen-schema.ts refuses to write a schema whose repository is not package.json's.
 */
export const CONFIG_SCHEMA_URL = `https://raw.githubusercontent.com/${SCHEMA_REPOSITORY}/main/${SCHEMA_FILE}`;
export const LANGUAGE_ID = 'finetune-yaml';

export type JsonSchema = { [key: string]: unknown };

/** The description with the facts a hover would show, since plain JSON Schema tools show only this text. */
function describe(s: FieldSpec): string {
  const extra: string[] = [];
  const range = describeRange(s);
  if (range) extra.push(`Range: ${range}.`);
  if (s.hf) extra.push(`Hugging Face: ${s.hf}.`);
  return [s.description, ...extra].join(' ');
}

function fieldSchema(s: FieldSpec): JsonSchema {
  const out: JsonSchema = { description: describe(s), markdownDescription: describe(s) };
  const nullable = 'nullable' in s && s.nullable === true;
  switch (s.type) {
    case 'section':
      return sectionSchema(s as SectionSpec<unknown>, out);
    case 'number':
    case 'integer':
      out['type'] = nullable ? [s.type, 'null'] : s.type;
      for (const k of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'] as const)
        if (s[k] !== undefined) out[k] = s[k];
      break;
    case 'string':
      out['type'] = nullable ? ['string', 'null'] : 'string';
      out['minLength'] = 1;
      break;
    case 'boolean':
      out['type'] = 'boolean';
      break;
    case 'enum':
      out['type'] = 'string';
      out['enum'] = [...s.values];
      if (s.valueDocs) out['markdownEnumDescriptions'] = s.values.map((v) => s.valueDocs?.[v] ?? '');
      break;
    case 'string[]':
      // A single pattern is accepted too, as the trainer does.
      if (s.values) {
        // A list of choices: one of them, or a list of them.
        const one: JsonSchema = { type: 'string', enum: [...s.values] };
        out['anyOf'] = [one, { type: 'array', items: one }];
        break;
      }
      out['type'] = ['array', 'string'];
      out['items'] = { type: 'string' };
      break;
    case 'map<number>': {
      const value: JsonSchema = { type: 'number' };
      if (s.minimum !== undefined) value['minimum'] = s.minimum;
      if (s.exclusiveMinimum !== undefined) value['exclusiveMinimum'] = s.exclusiveMinimum;
      if (s.maximum !== undefined) value['maximum'] = s.maximum;
      out['type'] = 'object';
      out['additionalProperties'] = value;
      break;
    }
  }
  if (s.default !== undefined) out['default'] = s.default;
  if (s.examples?.length) out['examples'] = [...s.examples];
  if (s.deprecated) out['deprecationMessage'] = s.deprecated;
  return out;
}

function sectionSchema(spec: SectionSpec<unknown>, out: JsonSchema): JsonSchema {
  const properties: JsonSchema = {};
  const required: string[] = [];
  const eitherOr: JsonSchema[] = [];
  for (const [k, f] of Object.entries(spec.fields as Record<string, FieldSpec>)) {
    properties[k] = fieldSchema(f);
    if (f.required && f.requiredUnless !== undefined)
      eitherOr.push({ anyOf: [{ required: [k] }, { required: [f.requiredUnless] }] });
    else if (f.required) required.push(k);
  }
  out['type'] = 'object';
  out['properties'] = properties;
  if (required.length) out['required'] = required;
  if (eitherOr.length === 1) Object.assign(out, eitherOr[0]);
  else if (eitherOr.length > 1) out['allOf'] = eitherOr;
  out['additionalProperties'] = false;
  return out;
}

export function generateJsonSchema(): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: CONFIG_SCHEMA_URL,
    title: 'Fine-Tune Studio training configuration (*.finetune.yaml)',
    ...sectionSchema(configSchema as SectionSpec<unknown>, { description: configSchema.description }),
  };
}

/** The file's exact text, so that regeneration is byte-stable. */
export function jsonSchemaText(): string {
  return JSON.stringify(generateJsonSchema(), null, 2) + '\n';
}

/** The package.json `contributes` entries that belong to the config language; the rest of package.json is not ours. */
export function configContributions(): {
  languages: JsonSchema[];
  grammars: JsonSchema[];
  yamlValidation: JsonSchema[];
} {
  return {
    languages: [
      {
        id: LANGUAGE_ID,
        aliases: ['Fine-Tune Config', 'finetune-yaml'],
        extensions: ['.finetune.yaml', '.finetune.yml'],
        configuration: './language-configuration.json',
      },
    ],
    // The grammar only includes VS Code's built-in YAML grammar (`source.yaml`), so highlighting is YAML's.
    grammars: [
      { language: LANGUAGE_ID, scopeName: 'source.finetune-yaml', path: './syntaxes/finetune-yaml.tmLanguage.json' },
    ],
    yamlValidation: [{ fileMatch: '*.finetune.yaml', url: `./${SCHEMA_FILE}` }],
  };
}
