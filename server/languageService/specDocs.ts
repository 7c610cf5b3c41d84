/** Looking up schema entries by key path, and the markdown that completion and hover show for them. */
import { configSchema } from '../../common/config/schema';
import type { FieldSpec, SectionSpec } from '../../common/config/spec';
import { describeRange, describeType } from '../../common/config/spec';

/** The spec at a key path (list indices and map keys below a leaf are ignored), or undefined for unknown keys. */
export function specAt(path: readonly (string | number)[]): FieldSpec | undefined {
  let spec: FieldSpec = configSchema as SectionSpec<unknown>;
  for (const key of path) {
    if (spec.type !== 'section') return spec;
    const fields = spec.fields as Record<string, FieldSpec>;
    if (typeof key !== 'string' || !Object.prototype.hasOwnProperty.call(fields, key)) return undefined;
    spec = fields[key]!;
  }
  return spec;
}

export function formatValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.join(', ')}]`;
  return String(v);
}

/** Markdown for a key: description, type, default, range, and the Hugging Face argument it follows. */
export function keyDocs(path: readonly string[], spec: FieldSpec): string {
  const lines = [`**${path.join('.')}**${spec.required ? ' (required)' : ''}`, '', spec.description, ''];
  const facts: string[] = [`Type: ${describeType(spec)}`];
  if (spec.default !== undefined) facts.push(`Default: \`${formatValue(spec.default)}\``);
  const range = describeRange(spec);
  if (range) facts.push(`Range: ${range}`);
  if (spec.hf) facts.push(`Hugging Face: \`${spec.hf}\``);
  if (spec.deprecated) facts.push(`Deprecated: ${spec.deprecated}`);
  return [...lines, facts.map((f) => `- ${f}`).join('\n')].join('\n');
}
