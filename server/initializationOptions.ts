/**
 * What a client may pass as `initializationOptions` when it starts the server; every field is optional.
 * In its own file so that the extension can import the type without importing server.ts (which starts a
 * connection on import).
 */
export interface ServerInitializationOptions {
  /** A folder of runs besides `.finetune/runs` (always looked in), absolute or relative to each workspace folder. */
  runsFolder?: string;
  /** Delay after the last change before diagnostics are computed. Default 75 ms. */
  debounceMs?: number;
}
