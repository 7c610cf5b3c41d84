/**
 * Reads a `*.finetune.yaml`, validates it with the shared schema and the file checks, and refuses to go on
 * when anything is wrong: every error is listed as `file:line:col: message` with its fix, before any training.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { checkConfigFiles } from '../../common/config/fileChecks';
import type { ConfigDiagnostic } from '../../common/config/diagnostic';
import type { FineTuneConfig } from '../../common/config/schema';
import { validateConfigText } from '../../common/config/validate';
import type { ConfigDocument } from '../../common/config/yamlDoc';
import { FineTuneError } from '../../common/errors';
import { nodeConfigHost } from '../../files/configHost';

export interface LoadedConfig {
  file: string;
  dir: string;
  text: string;
  config: FineTuneConfig;
  /** Warnings and infos, formatted; errors stop the load instead. */
  warnings: string[];
}

/** `file:line:col: severity: message [code]` plus one `fix:` line per quick fix. */
export function formatDiagnostic(file: string, doc: ConfigDocument, d: ConfigDiagnostic): string {
  const { line, col } = doc.lineOf(d.range.start);
  const lines = [`${file}:${line}:${col}: ${d.severity}: ${d.message} [${d.code}]`];
  for (const f of d.fixes ?? []) lines.push(`  fix: ${f.title}`);
  return lines.join('\n');
}

export async function readConfigText(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new FineTuneError('config-not-found', `cannot read the config ${file}`, {
      file,
      detail: e instanceof Error ? e.message : String(e),
      fix: 'Check the path of the *.finetune.yaml file.',
    });
  }
}

export async function loadConfig(configFile: string): Promise<LoadedConfig> {
  const file = path.resolve(configFile);
  const dir = path.dirname(file);
  const text = await readConfigText(file);
  const v = validateConfigText(text);
  let diagnostics = v.diagnostics;
  // File checks only on a structurally valid config: a wrong type would make them misleading.
  if (!diagnostics.some((d) => d.severity === 'error')) {
    diagnostics = [...diagnostics, ...(await checkConfigFiles(v.config, v.document, nodeConfigHost(dir)))];
  }
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const shown = path.relative(process.cwd(), file) || file;
  if (errors.length) {
    const first = errors[0]!;
    const pos = v.document.lineOf(first.range.start);
    throw new FineTuneError('config-invalid', `${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''})` : ''}`, {
      file,
      line: pos.line,
      column: pos.col,
      detail: errors.map((d) => formatDiagnostic(shown, v.document, d)).join('\n'),
      fix: first.fixes?.[0]?.title ?? 'Fix the config and run again; nothing was trained.',
    });
  }
  const warnings = diagnostics.filter((d) => d.severity !== 'error').map((d) => formatDiagnostic(shown, v.document, d));
  return { file, dir, text, config: v.config, warnings };
}

/** The backend the config asks for, read without the file checks (hello goes out before them). */
export function peekBackend(text: string): FineTuneConfig['backend'] {
  try {
    return validateConfigText(text).config.backend ?? 'auto';
  } catch {
    return 'auto';
  }
}
