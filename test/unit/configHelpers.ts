/** Helpers for config tests: apply a quick fix to a text, find a diagnostic, read the text it points at. */
import * as path from 'node:path';
import { bertParameters } from '../../common/bertParams';
import type { ConfigDiagnostic, ConfigFix } from '../../common/config/diagnostic';
import type { ConfigFileHost, ModelInfo } from '../../common/config/fileChecks';

/** Applies a fix's edits (non-overlapping, in any order) to `text`. */
export function applyFix(text: string, fix: ConfigFix): string {
  const edits = [...fix.edits].sort((a, b) => b.range.start - a.range.start);
  let out = text;
  for (const e of edits) out = out.slice(0, e.range.start) + e.newText + out.slice(e.range.end);
  return out;
}

export function find(diagnostics: readonly ConfigDiagnostic[], code: string): ConfigDiagnostic | undefined {
  return diagnostics.find((d) => d.code === code);
}

export function codes(diagnostics: readonly ConfigDiagnostic[]): string[] {
  return diagnostics.map((d) => d.code);
}

/** The text a diagnostic's range covers. */
export function covered(text: string, d: ConfigDiagnostic): string {
  return text.slice(d.range.start, d.range.end);
}

/** A valid fine-tuning config that passes every check, to break one key at a time. */
export const VALID = `mode: fine-tune
model:
  name_or_path: bert-base-uncased
data:
  train_file: data/train.csv
  validation_split: 0.1
training:
  learning_rate: 3e-5
`;

/** A valid from-scratch config. */
export const SCRATCH = `mode: from-scratch
model:
  tokenizer: bert-base-uncased
  architecture:
    hidden_size: 128
    num_attention_heads: 4
    max_position_embeddings: 256
data:
  train_file: data/train.csv
  max_length: 128
`;

export const ROOT = '/ws';

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
    async sampleColumns(p) {
      const rows = csvRows(fs.files[p] ?? '');
      const header = rows[0] ?? [];
      const columns = new Map(
        header.map((c, i) => {
          const values = new Set(
            rows
              .slice(1)
              .map((r) => r[i] ?? '')
              .filter((v) => v !== ''),
          );
          return [c, { distinct: values.size, examples: [...values].slice(0, 5) }] as const;
        }),
      );
      return { ok: true, value: { rows: rows.length - 1, complete: true, columns } };
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
  const config = {
    vocab_size: 100,
    hidden_size: 32,
    num_hidden_layers: layers,
    num_attention_heads: 2,
    intermediate_size: 64,
    max_position_embeddings: 64,
    type_vocab_size: 2,
  };
  return {
    source,
    config: { ...config, model_type: 'bert' },
    parameters: bertParameters(config, 'sequence-classification'),
  };
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
