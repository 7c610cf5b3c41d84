/**
 * The Node implementation of `WorkspaceIndex`: walks the workspace folders (bounded in depth and entries, so a
 * huge workspace cannot stall completion) for data files and model folders, and the runs folder for checkpoints.
 * Results are kept for a few seconds: completion asks on every keystroke.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { WorkspaceIndex } from './languageService/serviceContext';

const DATA_EXTENSIONS = new Set(['.csv', '.tsv', '.jsonl', '.json']);
/** JSON files that belong to models, runs and tooling, never data. */
const NOT_DATA =
  /^(config|tokenizer|tokenizer_config|special_tokens_map|trainer_state|package|package-lock|tsconfig|jsconfig|launch|settings|tasks|model\.safetensors\.index|generation_config|vocab)\.json$/;
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'out', '__pycache__', '.venv', 'venv', '.vscode-test']);

export interface WorkspaceIndexOptions {
  roots: readonly string[];
  /** Where runs are written (absolute): its checkpoint folders are offered as models. */
  runsFolders: readonly string[];
  maxDepth?: number;
  maxEntries?: number;
  ttlMs?: number;
}

interface Scan {
  data: string[];
  models: { path: string; checkpoint: boolean }[];
}

export function nodeWorkspaceIndex(options: WorkspaceIndexOptions): WorkspaceIndex & { invalidate(): void } {
  let scan: Promise<Scan> | undefined;
  let started = 0;
  const ttl = options.ttlMs ?? 5000;
  const get = () => {
    if (!scan || Date.now() - started > ttl) {
      started = Date.now();
      scan = walkAll(options);
    }
    return scan;
  };
  return {
    dataFiles: async () => (await get()).data,
    modelFolders: async () => (await get()).models,
    invalidate: () => {
      scan = undefined;
    },
  };
}

async function walkAll(o: WorkspaceIndexOptions): Promise<Scan> {
  const out: Scan = { data: [], models: [] };
  const seen = new Set<string>();
  let budget = o.maxEntries ?? 20000;
  const walk = async (dir: string, depth: number, inRuns: boolean): Promise<void> => {
    if (depth > (o.maxDepth ?? 6) || budget <= 0 || seen.has(dir)) return;
    seen.add(dir);
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    budget -= entries.length;
    const names = new Set(entries.map((e) => e.name));
    if (names.has('config.json')) {
      const checkpoint = inRuns || names.has('trainer_state.json') || /^checkpoint-\d+$/.test(path.basename(dir));
      out.models.push({ path: dir, checkpoint });
      // A model folder's JSON files are not data, and it holds no nested models worth walking.
      if (!inRuns) return;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (SKIP_DIRS.has(e.name) || (e.name.startsWith('.') && e.name !== '.finetune')) continue;
        await walk(full, depth + 1, inRuns);
      } else if (
        e.isFile() &&
        !inRuns &&
        DATA_EXTENSIONS.has(path.extname(e.name).toLowerCase()) &&
        !NOT_DATA.test(e.name)
      ) {
        out.data.push(full);
      }
    }
  };
  for (const r of o.runsFolders) await walk(r, 0, true);
  for (const r of o.roots) await walk(r, 0, false);
  // The runs folder usually lies inside a root: keep one entry per folder, the checkpoint one.
  const byPath = new Map<string, { path: string; checkpoint: boolean }>();
  for (const m of out.models) if (!byPath.has(m.path)) byPath.set(m.path, m);
  out.models = [...byPath.values()];
  out.data.sort();
  return out;
}
