/**
 * Reads a `*.finetune.yaml`, validates it with the shared schema and the file checks, and refuses to go on
 * when anything is wrong: every error is listed as `file:line:col: message` with its fix, before any training.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { checkConfigFiles } from '../../common/config/fileChecks';
import type { ConfigDiagnostic } from '../../common/config/diagnostic';
import type { FineTuneConfig } from '../../common/config/schema';
import { CONFIG_LIMITS, parseConfigBounded, positionOf } from '../../common/config/boundedParse';
import { FineTuneError } from '../../common/errors';
import { applyOverrides } from '../../common/config/overrides';
import type { ConfigOverride, OverriddenText } from '../../common/config/overrides';
import { nodeConfigHost } from '../../files/configHost';
import { plural } from '../../common/plural';

export interface LoadedConfig {
  file: string;
  dir: string;
  text: string;
  config: FineTuneConfig;
  /** Warnings and infos, formatted; errors stop the load instead. */
  warnings: string[];
  /** Keys set on the command line (`--learning_rate 3e-5`), already applied to `config`. */
  overrides: readonly ConfigOverride[];
}

export interface LoadConfigOptions {
  overrides?: readonly ConfigOverride[];
}

/** `file:line:col: severity: message [code]` plus one `fix:` line per quick fix. */
export function formatDiagnostic(file: string, text: string, d: ConfigDiagnostic): string {
  const { line, col } = positionOf(text, d.range.start);
  const lines = [`${file}:${line}:${col}: ${d.severity}: ${d.message} [${d.code}]`];
  for (const f of d.fixes ?? []) lines.push(`  fix: ${f.title}`);
  return lines.join('\n');
}

function unreadable(file: string, detail: string, fix = 'Check the path of the *.finetune.yaml file.'): FineTuneError {
  return new FineTuneError('config-not-found', `cannot read the config ${file}`, { file, detail, fix });
}

/**
 * The config's text, read with a bound: a regular file only (not `/dev/zero` or a pipe), and never more than
 * the config size limit, so that a huge or endless file is refused before it fills memory.
 */
export async function readConfigText(file: string, maxBytes = CONFIG_LIMITS.maxChars): Promise<string> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (e) {
    throw unreadable(file, e instanceof Error ? e.message : String(e));
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw unreadable(file, 'It is not a regular file.', 'Point at a *.finetune.yaml file.');
    // One byte more than the limit tells "at the limit" from "above it", even if the file grows meanwhile.
    const buffer = Buffer.alloc(Math.min(stat.size, maxBytes) + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > maxBytes) {
      throw new FineTuneError('config-invalid', `the config is larger than ${maxBytes} bytes, the limit for a config`, {
        file,
        line: 1,
        column: 1,
        fix: 'A training config is a few dozen lines: check that this is the right file.',
      });
    }
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * A diagnostic as a line: at its place in the file (`file:line:col: error: …`), or, when it is about a key set on
 * the command line, under the flag's name (`--learning_rate: …`), since the file does not hold that value.
 */
function located(shown: string, text: string, over: OverriddenText, d: ConfigDiagnostic): Located {
  const at = over.place(d);
  if ('override' in at) {
    const flag = at.override.flag;
    return { line: `${flag}: ${d.severity}: ${d.message} [${d.code}]`, message: `${flag}: ${d.message}`, flag };
  }
  const moved = { ...d, range: { start: at.offset, end: at.offset } };
  return {
    line: formatDiagnostic(shown, text, moved),
    message: d.message,
    offset: at.offset,
    fix: d.fixes?.[0]?.title,
  };
}

interface Located {
  line: string;
  message: string;
  flag?: string;
  offset?: number;
  fix?: string;
}

/** The error that stops a run before training: the first problem's place, every problem in `detail`. */
function invalid(file: string, text: string, errors: readonly Located[], dropped: number): FineTuneError {
  const first = errors[0]!;
  const more = errors.length - 1 + dropped;
  const suffix = more > 0 ? ` (and ${dropped > 0 ? 'more than ' : ''}${plural(more, 'more error')})` : '';
  const pos = positionOf(text, first.offset ?? 0);
  const fix = first.flag
    ? `Change the value of ${first.flag} on the command line; nothing was trained.`
    : (first.fix ?? 'Fix the config and run again; nothing was trained.');
  return new FineTuneError('config-invalid', `${first.message}${suffix}`, {
    file,
    ...(first.flag ? {} : { line: pos.line, column: pos.col }),
    detail: errors.map((e) => e.line).join('\n'),
    fix,
  });
}

export async function loadConfig(configFile: string, options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const file = path.resolve(configFile);
  const dir = path.dirname(file);
  const text = await readConfigText(file);
  const overrides = options.overrides ?? [];
  // Overrides are written into the text, so the schema, the rules and the file checks see them as the file's own.
  const over = applyOverrides(text, overrides);
  const parsed = parseConfigBounded(over.text);
  let diagnostics = parsed.diagnostics;
  const v = parsed.result;
  // File checks only on a structurally valid config: a wrong type would make them misleading.
  if (v && !diagnostics.some((d) => d.severity === 'error')) {
    diagnostics = [...diagnostics, ...(await checkConfigFiles(v.config, v.document, nodeConfigHost(dir)))];
  }
  const shown = path.relative(process.cwd(), file) || file;
  const lines = (severity: 'error' | 'other') =>
    diagnostics
      .filter((d) => (d.severity === 'error') === (severity === 'error'))
      .map((d) => located(shown, text, over, d));
  const errors = lines('error');
  if (errors.length || !v) throw invalid(file, text, errors, parsed.dropped);
  return { file, dir, text, config: v.config, warnings: lines('other').map((l) => l.line), overrides };
}

/** The backend the config asks for, read without the file checks (hello goes out before them). */
export function peekBackend(text: string, overrides: readonly ConfigOverride[] = []): FineTuneConfig['backend'] {
  return parseConfigBounded(applyOverrides(text, overrides).text).result?.config.backend ?? 'auto';
}
