/**
 * The memory diagnostics of a config (common/config/memoryRule.ts) with what the server knows: the model's
 * shape from the architecture block, a local model folder (config.json and its safetensors header) or the table
 * of well-known Hub models, and this machine's cores and memory for the threads and ceilings the trainer would use.
 */
import * as os from 'node:os';
import type { ConfigDiagnostic } from '../../common/config/diagnostic';
import type { ConfigFileHost, ModelInfo } from '../../common/config/fileChecks';
import { configModel, modelLookup } from '../../common/config/fileChecks';
import { memoryDiagnostics } from '../../common/config/memoryRule';
import type { ModelShape } from '../../common/config/memoryRule';
import type { FineTuneConfig } from '../../common/config/schema';
import type { ConfigDocument } from '../../common/config/yamlDoc';
import { threadsFor } from '../../common/memoryCheck';
import { THREADS_ENV } from '../../common/protocol';
import { wellKnownModel } from './modelFacts';

/** BERT's vocabulary, when `vocab_size` is left to the tokenizer. */
const BERT_VOCAB = 30522;

/** The model's shape, or undefined when it cannot be known without a download. */
export async function modelShape(c: FineTuneConfig, host: ConfigFileHost | undefined): Promise<ModelShape | undefined> {
  const a = c.model.architecture;
  if (c.mode === 'from-scratch') return a && { ...a, vocab_size: a.vocab_size ?? BERT_VOCAB };
  const id = c.model.name_or_path;
  if (!id) return undefined;
  // A local folder or a cached Hub snapshot, else the table of well-known Hub models.
  const found = host ? modelLookup(await configModel(c, host)) : undefined;
  if (found) return found.ok ? shapeOf(found.value) : undefined;
  return wellKnownModel(id)?.config;
}

/** A local model's shape: config.json's sizes, and the feed-forward width from the weights' header. */
function shapeOf(m: ModelInfo): ModelShape | undefined {
  const { hidden_size: H, num_hidden_layers: L, num_attention_heads: A, vocab_size: V } = m.config;
  if (H === undefined || L === undefined || A === undefined || V === undefined) return undefined;
  const ffn = m.parameters.find((p) => /^bert\.encoder\.layer\.0\.intermediate\.dense\.weight$/.test(p.name));
  // On disk a Linear weight is [out, in]: the intermediate size is the dimension that is not the hidden size.
  const I = ffn?.shape.find((d) => d !== H) ?? ffn?.shape[0] ?? 4 * H;
  const positions = m.parameters.find((p) => p.name === 'bert.embeddings.position_embeddings.weight')?.shape[0];
  const types = m.parameters.find((p) => p.name === 'bert.embeddings.token_type_embeddings.weight')?.shape[0];
  return {
    vocab_size: V,
    hidden_size: H,
    num_hidden_layers: L,
    num_attention_heads: A,
    intermediate_size: I,
    max_position_embeddings: positions ?? m.config.max_position_embeddings ?? 512,
    type_vocab_size: types ?? 2,
  };
}

export async function memoryDiagnosticsFor(
  c: FineTuneConfig,
  doc: ConfigDocument,
  host: ConfigFileHost | undefined,
): Promise<ConfigDiagnostic[]> {
  const shape = await modelShape(c, host);
  if (!shape) return [];
  const threads = threadsFor(process.env[THREADS_ENV], os.availableParallelism());
  return memoryDiagnostics(c, doc, shape, { threads, machineBytes: os.totalmem() });
}
