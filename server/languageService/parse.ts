/**
 * The language server's parse of a config text: the bounded parse the trainer uses too (common/config/
 * boundedParse.ts), so that the editor and a run agree on what is refused and why, and no input makes the
 * server crash or hang.
 */
import type { BoundedParse } from '../../common/config/boundedParse';
import { CONFIG_LIMITS, parseConfigBounded } from '../../common/config/boundedParse';

export type Parsed = BoundedParse;

/** Above this, the file is not parsed: no real config is this large, and parsing would block typing. */
export const MAX_TEXT_LENGTH = CONFIG_LIMITS.maxChars;

export function parseConfig(text: string, maxLength = MAX_TEXT_LENGTH): Parsed {
  return parseConfigBounded(text, { maxChars: maxLength });
}
