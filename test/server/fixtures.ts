/**
 * Test fixtures for the language service: an in-memory file host and workspace, and documents written with a
 * `|` where the cursor is (as vscode-json-languageservice's tests do).
 */
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { Position } from 'vscode-languageserver';
import type { MemoryFs } from '../unit/configHelpers';
import { defaultFs, memoryHost } from '../unit/configHelpers';
import type { FineTuneLanguageService } from '../../server/languageService/service';
import type { WorkspaceIndex } from '../../server/languageService/serviceContext';
import { createLanguageService } from '../../server/languageService/service';

export { defaultFs, memoryHost };
export type { MemoryFs };
export const URI = 'file:///ws/exp.finetune.yaml';

export function memoryWorkspace(fs: MemoryFs): WorkspaceIndex {
  return {
    dataFiles: async () => Object.keys(fs.files).sort(),
    modelFolders: async () => [
      ...Object.keys(fs.models).map((p) => ({ path: p, checkpoint: false })),
      { path: '/ws/.finetune/runs/exp-1/checkpoint-500', checkpoint: true },
    ],
  };
}

export function service(fs: MemoryFs = defaultFs()): FineTuneLanguageService {
  return createLanguageService({ hostFor: () => memoryHost(fs), workspace: memoryWorkspace(fs), fileTimeoutMs: 2000 });
}

let version = 0;
/** A document from text with one `|` marking the cursor. */
export function withCursor(marked: string, uri = URI): { document: TextDocument; position: Position } {
  const at = marked.indexOf('|');
  if (at < 0) throw new Error('no | cursor in the test document');
  const text = marked.slice(0, at) + marked.slice(at + 1);
  const document = TextDocument.create(uri, 'finetune-yaml', ++version, text);
  return { document, position: document.positionAt(at) };
}

export function doc(text: string, uri = URI): TextDocument {
  return TextDocument.create(uri, 'finetune-yaml', ++version, text);
}

/** A valid fine-tuning config to edit in tests. */
export const BASE = `mode: fine-tune
model:
  name_or_path: models/tiny
data:
  train_file: data/train.csv
  validation_file: data/val.csv
training:
  learning_rate: 3e-5
`;
