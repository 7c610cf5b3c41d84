/**
 * What a client may pass as `initializationOptions` when it starts the language server; every field is optional.
 * Declared in common/ because it crosses a process boundary: the extension's language client writes it and
 * server/server.ts reads it, through `readServerInitializationOptions`, since it comes from another process.
 */
import { num, obj, opt, str } from './guard';
import type { Infer } from './guard';

export const serverInitializationOptions = obj({
  /** A folder of runs besides `.finetune/runs` (always looked in), absolute or relative to each workspace folder. */
  runsFolder: opt(str),
  /** Delay after the last change before diagnostics are computed. Default 75 ms. */
  debounceMs: opt(num),
});
export type ServerInitializationOptions = Infer<typeof serverInitializationOptions>;

/**
 * The options a client sent, each field kept only when it is well-formed: a client of another version may send
 * more, fewer or other fields, and the server then starts with its defaults rather than not at all.
 */
export function readServerInitializationOptions(value: unknown): ServerInitializationOptions {
  if (typeof value !== 'object' || value === null) return {};
  const o = value as Record<string, unknown>;
  const runsFolder = o['runsFolder'];
  const debounceMs = o['debounceMs'];
  return {
    ...(typeof runsFolder === 'string' && runsFolder.length > 0 ? { runsFolder } : {}),
    ...(typeof debounceMs === 'number' && Number.isFinite(debounceMs) && debounceMs >= 0 ? { debounceMs } : {}),
  };
}
