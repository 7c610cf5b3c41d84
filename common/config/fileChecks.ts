/**
 * Checks of a config against the files it names: data files and their columns, model and tokenizer folders,
 * freeze patterns against the model's real parameter names. The file system is reached through a host, so the
 * trainer, the language server and tests each give their own (tests give an in-memory one).
 */
import { isLocalReference, missingPathMessage } from '../localPath';
import type { BertHead, ParamInfo } from '../bertParams';
import { checkDataFiles } from './dataFileChecks';
import { bertParameters } from '../bertParams';
import { familyOf } from '../modelFamilies';
import { maxSequenceLength } from '../modelConfig';
import { isFrozen, unmatchedPatterns } from '../freeze';
import { didYouMean } from '../textDistance';
import type { ConfigDiagnostic } from './diagnostic';
import { diag } from './makeDiagnostic';
import type { FineTuneConfig } from './schema';
import type { ConfigDocument } from './yamlDoc';
import type { CachedModelRef, HubModel, HubRepoCache, SnapshotFiles } from './hubModel';
import { cachedLabel, DEFAULT_REVISION, hubModelDiagnostics, lookupHubModel } from './hubModel';
import { revisionProblem } from '../hubRevision';

/** What the checks need to know about a model without loading its weights. */
export interface ModelInfo {
  /** Where it was found, for hover: a folder path, or `hub` for a Hub id not on disk. */
  source: string;
  config: {
    max_position_embeddings?: number;
    vocab_size?: number;
    hidden_size?: number;
    num_hidden_layers?: number;
    num_attention_heads?: number;
    model_type?: string;
    /** ELECTRA's embedding width. */
    embedding_size?: number;
    pad_token_id?: number;
  };
  /** Parameter names and shapes from the safetensors header, or derived from config.json. */
  parameters: ParamInfo[];
  /** For a Hub id: the snapshot of the Hub cache it was read from. */
  cached?: CachedModelRef;
}

export type Lookup<T> = { ok: true; value: T } | { ok: false; reason: string; code?: string };

/** What the first rows of a data file say about its columns (the language server reads only a bounded prefix). */
export interface ColumnSample {
  /** Data rows read. */
  rows: number;
  /** True when those rows are the whole file. */
  complete: boolean;
  /** Per column (keys are the user's column names): distinct non-empty values among the rows, a few examples. */
  columns: ReadonlyMap<string, { distinct: number; examples: readonly string[] }>;
}

/**
 * The file system as the checks see it. Reads of data files are bounded (a prefix of the file) and take an
 * AbortSignal, so that a language server can drop a check that runs past its time without leaving a read going.
 */
export interface ConfigFileHost {
  /** Resolves a path written in the config (relative to the config file's folder). */
  resolve(path: string): string;
  fileExists(absPath: string): Promise<boolean>;
  /** Column names of a data file, or why they cannot be read. */
  readColumns(absPath: string, signal?: AbortSignal): Promise<Lookup<string[]>>;
  /** A summary of the file's first rows, for the label checks (single class, free text, too many classes). */
  sampleColumns(absPath: string, signal?: AbortSignal): Promise<Lookup<ColumnSample>>;
  /** A local model folder or checkpoint; `undefined` when `nameOrPath` is not a local folder (maybe a Hub id). */
  localModel(nameOrPath: string): Promise<Lookup<ModelInfo> | undefined>;
  /** Whether a tokenizer folder is usable; `undefined` when not local (maybe a Hub id). */
  localTokenizer(nameOrPath: string): Promise<Lookup<true> | undefined>;
  /** Columns of a Hub data set's split in the shared Hub cache; `undefined` when not cached (never downloads). */
  hubDatasetColumns?(q: HubDatasetQuery): Promise<Lookup<string[]> | undefined>;
  /** What the shared Hub cache holds for a model id: refs and snapshots (never downloads). */
  hubModelCache?(id: string): Promise<HubRepoCache>;
  /**
   * A cached snapshot read as `localModel` reads a folder, with whether its weights (without them the parameters
   * come from config.json) and a tokenizer are there too. `undefined` when the snapshot has no config.json.
   */
  hubSnapshotModel?(id: string, sha: string): Promise<Lookup<ModelInfo & SnapshotFiles> | undefined>;
}

/** A split of a Hub data set, as `data.dataset_name`, `dataset_config_name` and `revision` name it. */
export interface HubDatasetQuery {
  name: string;
  config?: string;
  revision?: string;
  split: string;
}

/** The split whose columns the config's column keys name: the training split of its Hub data set. */
export function hubDatasetQuery(c: FineTuneConfig): HubDatasetQuery | undefined {
  const d = c.data;
  if (d.dataset_name === undefined) return undefined;
  return {
    name: d.dataset_name,
    split: d.train_split_name,
    ...(d.dataset_config_name !== undefined ? { config: d.dataset_config_name } : {}),
    ...(d.revision !== undefined ? { revision: d.revision } : {}),
  };
}

/** A model or tokenizer reference meant as a path (not a Hub id), relative to the config's folder. */
async function isLocal(nameOrPath: string, host: ConfigFileHost): Promise<boolean> {
  if (!looksLikeHubId(nameOrPath)) return true;
  return isLocalReference(
    nameOrPath,
    (p) => host.resolve(p),
    (p) => host.fileExists(p),
  );
}

/** "no such folder", with the path as resolved: a mistyped path is not a Hub problem. */
function missingFolder(key: string, value: string, host: ConfigFileHost): string {
  return `\`${key}\`: ${missingPathMessage('folder', value, host.resolve(value))}. A relative path is relative to this file's folder.`;
}

/** A Hub id looks like `name` or `org/name` with no path separators or dots at the start. */
export function looksLikeHubId(s: string): boolean {
  return /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/.test(s) && !s.startsWith('.') && !/\.(csv|tsv|json|jsonl|yaml)$/i.test(s);
}

export function headFor(task: FineTuneConfig['task']): BertHead {
  return task === 'masked-lm' ? 'masked-lm' : 'sequence-classification';
}

/**
 * The config's pre-trained model: a local folder, a local reference to nothing (`missing`), or a Hub id seen
 * through the Hub cache.
 */
export type ConfigModel =
  { kind: 'local'; lookup: Lookup<ModelInfo> } | { kind: 'missing' } | ({ kind: 'hub' } & HubModel);

/** Looks the model of `name_or_path` up: undefined for no model, or a Hub id when the host has no Hub cache. */
export async function configModel(c: FineTuneConfig, host: ConfigFileHost): Promise<ConfigModel | undefined> {
  const name = c.model.name_or_path;
  if (c.mode !== 'fine-tune' || !name) return undefined;
  const local = await host.localModel(name);
  if (local !== undefined) return { kind: 'local', lookup: local };
  if (await isLocal(name, host)) return { kind: 'missing' };
  const revision = c.model.revision ?? DEFAULT_REVISION;
  // A malformed revision is the schema rules' error (revisionRules); it is never looked up.
  if (revisionProblem(revision) !== undefined) return undefined;
  const hub = await lookupHubModel(name, revision, host);
  return hub && { kind: 'hub', ...hub };
}

/** The model read from a folder or a cached snapshot, or why it cannot be read; undefined when it is not at hand. */
export function modelLookup(m: ConfigModel | undefined): Lookup<ModelInfo> | undefined {
  return m?.kind === 'local' ? m.lookup : m?.kind === 'hub' ? m.model : undefined;
}

/** The parameters the config's model will have: from the model's files, or derived from the architecture. */
export async function configParameters(
  c: FineTuneConfig,
  host: ConfigFileHost,
  numLabels = 2,
  model?: ConfigModel,
): Promise<ParamInfo[] | undefined> {
  if (c.mode === 'fine-tune' && c.model.name_or_path) {
    const m = modelLookup(model ?? (await configModel(c, host)));
    if (!m || !m.ok) return undefined;
    // A pre-trained encoder gets the head of the task, whatever head it was saved with.
    const cfg = m.value.config;
    const family = familyOf(cfg.model_type);
    // The encoder is everything under the family's prefix (bert., roberta., ...) but BERT's pooler, a head part.
    const isEncoder = (name: string) =>
      name.startsWith(`${family.prefix}.`) && !name.startsWith(`${family.prefix}.pooler.`);
    const encoder = m.value.parameters.filter((p) => isEncoder(p.name));
    if (cfg.hidden_size === undefined) return encoder;
    const head = bertParameters(
      {
        model_type: cfg.model_type,
        vocab_size: cfg.vocab_size ?? 1,
        hidden_size: cfg.hidden_size,
        num_hidden_layers: 0,
        intermediate_size: 1,
        max_position_embeddings: 1,
        type_vocab_size: 1,
        embedding_size: cfg.embedding_size,
      },
      headFor(c.task),
      numLabels,
    ).filter((p) => !isEncoder(p.name));
    return [...encoder, ...head];
  }
  const a = c.model.architecture;
  if (c.mode === 'from-scratch' && a) {
    return bertParameters({ ...a, vocab_size: a.vocab_size ?? 30522 }, headFor(c.task), numLabels);
  }
  return undefined;
}

/** "the model's `x`", or for a cached Hub model "`x` of org/name (cached at revision main = 1a2b3c4)". */
function ofModel(info: ModelInfo | undefined, what: string): string {
  return info?.cached ? `${what} of ${cachedLabel(info.cached)}` : `model's ${what}`;
}

/** The model is missing, unreadable, or (a Hub id) not where an offline run could get it. */
function modelDiagnostics(
  c: FineTuneConfig,
  doc: ConfigDocument,
  host: ConfigFileHost,
  model: ConfigModel | undefined,
): ConfigDiagnostic[] {
  const name = c.model.name_or_path;
  if (c.mode !== 'fine-tune' || !name || !doc.pair(['model', 'name_or_path'])) return [];
  const at = ['model', 'name_or_path'];
  // undefined: a Hub id, and this host cannot see the Hub cache.
  if (model === undefined) return [];
  if (model.kind === 'missing')
    return [diag('error', 'model-not-found', missingFolder('model.name_or_path', name, host), at, doc, [], 'value')];
  const out: ConfigDiagnostic[] = [];
  const m = modelLookup(model);
  if (m && !m.ok) out.push(diag('error', 'model-invalid', `\`model.name_or_path\`: ${m.reason}`, at, doc, [], 'value'));
  if (model.kind === 'hub') out.push(...hubModelDiagnostics(c, doc, model));
  else if (doc.pair(['model', 'revision'])) {
    const message = `\`model.revision\` applies to a Hub id; ${name} is a local folder, used as it is.`;
    out.push(diag('warning', 'revision-ignored', message, ['model', 'revision'], doc, [], 'key'));
  }
  return out;
}

/** Every check of the config against the files it names. `signal` stops the data-file reads when a caller gives up. */
export async function checkConfigFiles(
  c: FineTuneConfig,
  doc: ConfigDocument,
  host: ConfigFileHost,
  signal?: AbortSignal,
): Promise<ConfigDiagnostic[]> {
  const out: ConfigDiagnostic[] = await checkDataFiles(c, doc, host, signal);
  const present = (...path: string[]) => doc.pair(path) !== undefined;

  // Model and tokenizer.
  const model = present('model', 'name_or_path') ? await configModel(c, host) : undefined;
  out.push(...modelDiagnostics(c, doc, host, model));
  const found = modelLookup(model);
  const modelInfo = found?.ok ? found.value : undefined;
  if (c.model.tokenizer && present('model', 'tokenizer')) {
    const t = await host.localTokenizer(c.model.tokenizer);
    if (t === undefined && (await isLocal(c.model.tokenizer, host))) {
      out.push(
        diag(
          'error',
          'tokenizer-not-found',
          missingFolder('model.tokenizer', c.model.tokenizer, host),
          ['model', 'tokenizer'],
          doc,
          [],
          'value',
        ),
      );
    } else if (t && !t.ok)
      out.push(
        diag(
          'error',
          'tokenizer-invalid',
          `\`model.tokenizer\`: ${t.reason}`,
          ['model', 'tokenizer'],
          doc,
          [],
          'value',
        ),
      );
  }
  const cfg = modelInfo?.config;
  const maxPos = cfg?.max_position_embeddings;
  // RoBERTa's positions start at pad_token_id + 1: roberta-base's 514 position embeddings take 512 tokens.
  const longest =
    maxPos === undefined
      ? undefined
      : maxSequenceLength({ ...cfg, max_position_embeddings: maxPos, pad_token_id: cfg?.pad_token_id ?? 1 });
  if (maxPos !== undefined && longest !== undefined && c.data.max_length > longest) {
    const why = longest === maxPos ? '' : `, whose first position is pad_token_id + 1: it takes ${longest} tokens`;
    out.push(
      diag(
        'error',
        'max-length-over-positions',
        `\`data.max_length\` (${c.data.max_length}) is above the ${ofModel(modelInfo, `\`max_position_embeddings\` (${maxPos})`)}${why}.`,
        present('data', 'max_length') ? ['data', 'max_length'] : ['model', 'name_or_path'],
        doc,
        [],
        'value',
      ),
    );
  }
  if (c.training.resume_from_checkpoint && present('training', 'resume_from_checkpoint')) {
    const abs = host.resolve(c.training.resume_from_checkpoint);
    if (!(await host.fileExists(abs))) {
      const message = missingFolder('training.resume_from_checkpoint', c.training.resume_from_checkpoint, host);
      out.push(
        diag('error', 'checkpoint-not-found', message, ['training', 'resume_from_checkpoint'], doc, [], 'value'),
      );
    } else if (!(await host.fileExists(abs + '/trainer_state.json'))) {
      out.push(
        diag(
          'error',
          'checkpoint-not-found',
          `\`resume_from_checkpoint\`: ${c.training.resume_from_checkpoint} is not a checkpoint folder (no trainer_state.json).`,
          ['training', 'resume_from_checkpoint'],
          doc,
          [],
          'value',
        ),
      );
    }
  }

  // Freeze patterns against the real parameter names.
  const params = await configParameters(c, host, 2, model);
  if (params) {
    const names = params.map((p) => p.name);
    const thisModel = modelInfo?.cached ? cachedLabel(modelInfo.cached) : 'this model';
    for (const list of ['freeze', 'unfreeze'] as const) {
      for (const i of unmatchedPatterns(c[list], names)) {
        const s = didYouMean(c[list][i]!, [
          ...new Set(names.flatMap((n) => n.split('.').map((_, j, a) => a.slice(0, j + 1).join('.')))),
        ]);
        out.push(
          diag(
            'warning',
            'pattern-matches-nothing',
            `\`${c[list][i]}\` matches no parameter of ${thisModel}.${s ? ` Did you mean \`${s}\`?` : ''}`,
            [list, i],
            doc,
            s
              ? [
                  {
                    title: `Change to \`${s}\``,
                    edits: [{ range: doc.valueRange([list, i]), newText: s }],
                    preferred: true,
                  },
                ]
              : [],
            'value',
          ),
        );
      }
    }
    if (c.freeze.length && names.every((n) => isFrozen(n, c.freeze, c.unfreeze))) {
      const head = c.task === 'masked-lm' ? 'cls' : 'classifier';
      // Only offered when `unfreeze` is absent: editing an existing list in place is the freezing panel's job.
      const fix = present('unfreeze')
        ? []
        : [
            {
              title: `Unfreeze the head (\`${head}\`)`,
              edits: [doc.insertKeyEdit([], 'unfreeze', `[${head}]`)],
              preferred: true,
            },
          ];
      out.push(
        diag(
          'error',
          'everything-frozen',
          `These patterns freeze every parameter: nothing would train. Unfreeze at least the head, e.g. \`unfreeze: [${head}]\`.`,
          ['freeze'],
          doc,
          fix,
        ),
      );
    }
    for (const [pattern] of Object.entries(c.training.learning_rates ?? {})) {
      if (unmatchedPatterns([pattern], names).length) {
        out.push(
          diag(
            'warning',
            'pattern-matches-nothing',
            `\`${pattern}\` matches no parameter of ${thisModel}.`,
            ['training', 'learning_rates', pattern],
            doc,
            [],
          ),
        );
      }
    }
  }
  return out;
}
