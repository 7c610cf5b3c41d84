/** Diagnostics about a config file, as data: the trainer prints them, the language server publishes them. */

export type Severity = 'error' | 'warning' | 'info';

/** Offsets into the document text. */
export interface OffsetRange {
  start: number;
  end: number;
}

export interface TextEdit {
  range: OffsetRange;
  newText: string;
}

export interface ConfigFix {
  title: string;
  edits: TextEdit[];
  /** The fix a user most likely wants (VS Code's "preferred" quick fix). */
  preferred?: boolean;
}

export interface ConfigDiagnostic {
  severity: Severity;
  /** Stable kebab-case code, e.g. `unknown-key`, `out-of-range`, `load-best-needs-matching-strategies`. */
  code: string;
  message: string;
  /** The key path the diagnostic is about, e.g. ['training', 'learning_rate']. */
  path: readonly (string | number)[];
  range: OffsetRange;
  fixes?: ConfigFix[];
}
