/**
 * The one way a config text is parsed, by the trainer and by the language server alike: the text is refused
 * before parsing when it is larger, longer or nested deeper than any real config (each refusal names the limit
 * and the place), and the diagnostics work stops at a cap instead of computing every one and showing a few.
 * No input makes this throw: an unexpected parser failure becomes a diagnostic too.
 */
import type { ConfigDiagnostic } from './diagnostic';
import { scanYaml } from './nestingScan';
import type { ValidationResult } from './validate';
import { validateConfigText } from './validate';

export interface ConfigLimits {
  /** Characters (UTF-16 units, never more than the file's UTF-8 bytes). */
  maxChars: number;
  maxLines: number;
  /** Block indentation levels plus flow brackets; a config needs four or five. */
  maxDepth: number;
  /** Keys and values; a config has about a hundred. */
  maxScalars: number;
  maxDiagnostics: number;
}

/**
 * A training config is a few dozen lines. These bounds are a hundred times that and still keep a parse well
 * under a second, so that neither the trainer nor typing in the editor can be stalled by a config.
 */
export const CONFIG_LIMITS: Readonly<ConfigLimits> = {
  maxChars: 128 * 1024,
  maxLines: 5_000,
  maxDepth: 64,
  maxScalars: 10_000,
  maxDiagnostics: 500,
};

export interface BoundedParse {
  /** Absent when the text was refused before parsing (too large, binary, too deep, parser failure). */
  result?: ValidationResult;
  /** At most `maxDiagnostics`. */
  diagnostics: ConfigDiagnostic[];
  /** Problems not computed past the cap (a lower bound). */
  dropped: number;
}

/** A NUL byte, or many undecodable bytes (shown as U+FFFD), in the first 8 KiB means a binary file. */
export function looksBinary(text: string): boolean {
  const head = text.slice(0, 8192);
  if (head.includes('\u0000')) return true;
  let bad = 0;
  for (const ch of head) if (ch === '\uFFFD') bad++;
  return head.length > 0 && bad / head.length > 0.1;
}

/** Offset of the start of line `n` (0-based), or -1 when the text has fewer lines; stops counting there. */
function lineStartOffset(text: string, n: number): number {
  let at = 0;
  for (let line = 0; line < n; line++) {
    const nl = text.indexOf('\n', at);
    if (nl < 0) return -1;
    at = nl + 1;
  }
  return at;
}

function refusal(text: string, code: string, message: string, start = 0): BoundedParse {
  const lineEnd = text.indexOf('\n', start);
  const end = Math.min(lineEnd < 0 ? text.length : lineEnd, start + 200);
  const range = { start, end: Math.max(end, start) };
  return { diagnostics: [{ severity: 'error', code, message, path: [], range }], dropped: 0 };
}

/** Checks the limits that need no parse; a refusal, or undefined when the text may be parsed. */
function checkLimits(text: string, limits: ConfigLimits): BoundedParse | undefined {
  if (text.length > limits.maxChars) {
    const message =
      `This file is ${text.length} characters long, above the limit of ${limits.maxChars} for a config. ` +
      'A training config is a few dozen lines; is this the right file?';
    return refusal(text, 'file-too-large', message);
  }
  if (looksBinary(text)) return refusal(text, 'binary-file', 'This file looks binary, not like a YAML config.');
  const pastLast = lineStartOffset(text, limits.maxLines);
  if (pastLast >= 0 && pastLast < text.length) {
    const message = `This file has more than ${limits.maxLines} lines, the limit for a config (which has a few dozen).`;
    return refusal(text, 'file-too-long', message, pastLast);
  }
  const problem = scanYaml(text, limits);
  if (problem?.limit === 'depth') {
    const message =
      `The YAML is nested more than ${limits.maxDepth} levels deep here (brackets and indentation); ` +
      'a config needs four or five. Close the brackets or flatten the structure.';
    return refusal(text, 'nesting-too-deep', message, problem.offset);
  }
  if (problem) {
    const message =
      `This file has more than ${limits.maxScalars} keys and values, the limit for a config ` +
      '(which has about a hundred); is this the right file?';
    return refusal(text, 'too-many-values', message, problem.offset);
  }
  return undefined;
}

/** Validates a config text within `limits`; never throws. */
export function parseConfigBounded(text: string, limits: Partial<ConfigLimits> = {}): BoundedParse {
  const l: ConfigLimits = { ...CONFIG_LIMITS, ...limits };
  const refused = checkLimits(text, l);
  if (refused) return refused;
  try {
    const result = validateConfigText(text, { maxDiagnostics: l.maxDiagnostics });
    return { result, diagnostics: result.diagnostics, dropped: result.dropped };
  } catch (e) {
    // The limits above keep the parser's recursion shallow; this is the last guard, for the unforeseen.
    const why = e instanceof RangeError ? 'it is nested too deeply' : e instanceof Error ? e.message : String(e);
    return refusal(text, 'yaml-syntax', `The YAML could not be read: ${why}.`);
  }
}

/** 1-based line and column of `offset`, as editors and the trainer's messages count them. */
export function positionOf(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let nl = text.indexOf('\n'); nl >= 0 && nl < end; nl = text.indexOf('\n', nl + 1)) {
    line++;
    lineStart = nl + 1;
  }
  return { line, col: end - lineStart + 1 };
}
