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
