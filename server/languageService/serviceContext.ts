/**
 * What completion, hover and validation share: the per-request context and the offset-to-range helper. It lives
 * apart from service.ts so that the features do not import the service that imports them.
 */
import type { Range } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { OffsetRange } from '../../common/config/diagnostic';
import type { ConfigFileHost } from '../../common/config/fileChecks';
import type { Parsed } from './parse';

/** Files the completions offer, as absolute paths; the service writes them relative to the config's folder. */
export interface WorkspaceIndex {
  /** Data files with a supported extension (csv, tsv, jsonl, json). */
  dataFiles(): Promise<string[]>;
  /** Folders with a config.json: models, and checkpoints of earlier runs (`checkpoint: true`). */
  modelFolders(): Promise<{ path: string; checkpoint: boolean }[]>;
}

export interface ServiceContext {
  document: TextDocument;
  parsed: Parsed;
  host: ConfigFileHost | undefined;
  workspace: WorkspaceIndex | undefined;
  /** The config's folder on disk, when it is a file. */
  folder: string | undefined;
  timeoutMs: number;
}

export function toRange(document: TextDocument, r: OffsetRange): Range {
  return { start: document.positionAt(r.start), end: document.positionAt(r.end) };
}
