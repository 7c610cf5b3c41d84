/**
 * Defaults from the schema, without the YAML parser: the extension host uses them at activation (wizard presets),
 * where pulling in the validator would double its bundle.
 */
import type { ArchitectureConfig, ModelConfig } from './schema';
import { configSchema } from './schema';
import type { FieldSpec, SectionSpec } from './spec';

/** Fills absent keys with their defaults, recursively; sections always exist in the result. */
export function applyDefaults(spec: SectionSpec<unknown>, raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(spec.fields) as [string, FieldSpec][]) {
    if (f.type === 'section') {
      const sub = raw[k];
      // `architecture` stays absent unless given: its presence is meaningful (from-scratch).
      if (sub === undefined && k === 'architecture') continue;
      out[k] = applyDefaults(f as SectionSpec<unknown>, (sub as Record<string, unknown>) ?? {});
    } else if (raw[k] !== undefined) out[k] = raw[k];
    else if (f.default !== undefined) out[k] = Array.isArray(f.default) ? [...f.default] : f.default;
  }
  return out;
}

/** `model.architecture` with every default the schema declares (BertConfig's own), for presets and tools. */
export function defaultArchitecture(): ArchitectureConfig {
  const model = configSchema.fields.model as SectionSpec<ModelConfig>;
  return applyDefaults(model.fields.architecture as SectionSpec<unknown>, {}) as unknown as ArchitectureConfig;
}
