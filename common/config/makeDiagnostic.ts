import type { ConfigDiagnostic, ConfigFix, Severity } from './diagnostic';
import type { ConfigDocument, KeyPath } from './yamlDoc';

/** A diagnostic on the key (or the value) at `path`. */
export function diag(
  severity: Severity,
  code: string,
  message: string,
  path: KeyPath,
  document: ConfigDocument,
  fixes: ConfigFix[],
  on: 'key' | 'value' = 'key',
): ConfigDiagnostic {
  return {
    severity,
    code,
    message,
    path,
    range: on === 'key' ? document.keyRange(path) : document.valueRange(path),
    ...(fixes.length ? { fixes } : {}),
  };
}

/**
 * Diagnostics collected up to a cap. Past it nothing more is computed, only counted as dropped: a file of
 * 100,000 duplicated keys must not cost 100,000 messages (each with ranges and suggestions) to show 500.
 */
export class DiagnosticList {
  readonly items: ConfigDiagnostic[] = [];
  /** Diagnostics refused because the list was full; the walkers stop early, so this is a lower bound. */
  dropped = 0;

  constructor(readonly max = Infinity) {}

  get full(): boolean {
    return this.items.length >= this.max;
  }

  /** Adds `make()`'s diagnostic unless the list is full; `make` is not called then. */
  add(make: () => ConfigDiagnostic): void {
    if (this.full) this.dropped++;
    else this.items.push(make());
  }
}
