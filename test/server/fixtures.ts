/**
 * Test fixtures for the language service: an in-memory file host and workspace, and documents written with a
 * `|` where the cursor is (as vscode-json-languageservice's tests do).
 */
import * as path from 'node:path';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { Position } from 'vscode-languageserver';
import { bertParameters } from '../../common/bertParams';
import type { ConfigFileHost, ModelInfo } from '../../common/config/fileChecks';
import type { FineTuneLanguageService, WorkspaceIndex } from '../../server/languageService/service';
import { createLanguageService } from '../../server/languageService/service';

export const ROOT = '/ws';
export const URI = 'file:///ws/exp.finetune.yaml';

export interface MemoryFs {
  /** Absolute path → CSV text. */
  files: Record<string, string>;
  /** Absolute folder → model. */
  models: Record<string, ModelInfo>;
  tokenizers?: string[];
  /** Counts reads, to test caching. */
  reads?: { columns: number };
}

function csvRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => l.split(','));
}

export function memoryHost(fs: MemoryFs, base = ROOT): ConfigFileHost {
  const resolve = (p: string) => path.posix.resolve(base, p);
  return {
    resolve,
    fileExists: async (p) => p in fs.files || Object.keys(fs.files).some((f) => f.startsWith(p + '/')),
    async readColumns(p) {
      if (fs.reads) fs.reads.columns++;
      const t = fs.files[p];
      if (t === undefined) return { ok: false, reason: `${p}: no such file` };
      return { ok: true, value: csvRows(t)[0] ?? [] };
    },
    async distinctValues(p, column, limit) {
      const rows = csvRows(fs.files[p] ?? '');
      const i = rows[0]?.indexOf(column) ?? -1;
      if (i < 0) return { ok: false, reason: `no column ${column}` };
      return { ok: true, value: [...new Set(rows.slice(1).map((r) => r[i]!))].slice(0, limit) };
    },
    async localModel(n) {
      const m = fs.models[resolve(n)];
      return m ? { ok: true, value: m } : undefined;
    },
    async localTokenizer(n) {
      return fs.tokenizers?.includes(resolve(n)) ? { ok: true, value: true } : undefined;
    },
  };
}

/** A tiny BERT checkpoint as the host reports it: 2 layers, hidden 32. */
export function tinyModel(source: string, layers = 2): ModelInfo {
  const config = { vocab_size: 100, hidden_size: 32, num_hidden_layers: layers, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 64, type_vocab_size: 2 };
  return { source, config: { ...config, model_type: 'bert' }, parameters: bertParameters(config, 'sequence-classification') };
}

export function defaultFs(): MemoryFs {
  return {
    files: {
      '/ws/data/train.csv': 'text,label\nhello,pos\nbad,neg\n',
      '/ws/data/one.csv': 'sentence,label\nhello,pos\nfine,pos\n',
      '/ws/data/val.csv': 'text,label\nok,pos\n',
    },
    models: { '/ws/models/tiny': tinyModel('/ws/models/tiny') },
    tokenizers: ['/ws/models/tiny'],
    reads: { columns: 0 },
  };
}

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
