/**
 * Validation of a config text that always answers: a size cap, a binary-file check, and a guard around the
 * parser (deep nesting can exhaust the stack), so that no input makes the server crash or hang.
 */
import type { ConfigDiagnostic } from '../../common/config/diagnostic';
import type { ValidationResult } from '../../common/config/validate';
import { validateConfigText } from '../../common/config/validate';

/** Above this, the file is not parsed: no real config is this large, and parsing would block typing. */
export const MAX_TEXT_LENGTH = 1_000_000;

export interface Parsed {
  /** Absent when the text could not be parsed at all (too large, binary, parser failure). */
  result?: ValidationResult;
  diagnostics: ConfigDiagnostic[];
}

function whole(text: string, code: string, message: string): Parsed {
  const end = text.indexOf('\n');
  return { diagnostics: [{ severity: 'error', code, message, path: [], range: { start: 0, end: Math.min(end < 0 ? text.length : end, 200) } }] };
}

/** A NUL byte, or many undecodable bytes (shown as U+FFFD), in the first 8 KiB means a binary file. */
export function looksBinary(text: string): boolean {
  const head = text.slice(0, 8192);
  if (head.includes('\u0000')) return true;
  let bad = 0;
  for (const ch of head) if (ch === '\uFFFD') bad++;
  return head.length > 0 && bad / head.length > 0.1;
}

/** Deeper flow collections than this are refused before parsing: the parser recurses on them. */
export const MAX_FLOW_DEPTH = 200;

/** Offset where `[`/`{` nesting first exceeds `max` (quotes and comments skipped), or -1. */
export function tooDeep(text: string, max = MAX_FLOW_DEPTH): number {
  let depth = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = '';
      else if (c === '\n') quote = ''; // Unterminated on this line (an apostrophe in a plain word): stop ignoring.
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      const nl = text.indexOf('\n', i);
      if (nl < 0) break;
      i = nl;
    } else if (c === '[' || c === '{') {
      if (++depth > max) return i;
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return -1;
}

export function parseConfig(text: string, maxLength = MAX_TEXT_LENGTH): Parsed {
  if (text.length > maxLength) {
    return whole(text, 'file-too-large', `This file is ${text.length} characters long, above the ${maxLength} that the config checks read. A training config is a few dozen lines; is this the right file?`);
  }
  if (looksBinary(text)) return whole(text, 'binary-file', 'This file looks binary, not like a YAML config.');
  const deep = tooDeep(text);
  if (deep >= 0) {
    return { diagnostics: [{ severity: 'error', code: 'yaml-syntax', message: `Brackets are nested more than ${MAX_FLOW_DEPTH} levels deep here; a config needs two or three.`, path: [], range: { start: deep, end: deep + 1 } }] };
  }
  try {
    const result = validateConfigText(text);
    return { result, diagnostics: result.diagnostics };
  } catch (e) {
    const overflow = e instanceof RangeError;
    return whole(text, 'yaml-syntax', overflow ? 'The YAML is nested too deeply to read.' : `The YAML could not be read: ${e instanceof Error ? e.message : String(e)}`);
  }
}
