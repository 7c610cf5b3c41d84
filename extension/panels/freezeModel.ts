/**
 * The module tree and memory estimate of a config's model, for the freezing tree and panel: from the trainer's
 * `model` message when a run of this config is live, else from the model files (config.json + safetensors
 * header, never the weights) or, for a model trained from scratch, from the architecture in the config.
 * No `vscode`: tested under node.
 */
import * as path from 'node:path';
import type { ParamInfo } from '../../common/bertParams';
import { configParameters, headFor } from '../../common/config/fileChecks';
import type { ConfigFileHost } from '../../common/config/fileChecks';
import type { FineTuneConfig } from '../../common/config/schema';
import { validateConfigText } from '../../common/config/validate';
import { readFreezeLists } from '../../common/freezeEdit';
import { trainablePredicate } from '../../common/freeze';
import { estimateTrainingMemory, lowestTrainableModule } from '../../common/memoryEstimate';
import { buildModuleTree } from '../../common/moduleTree';
import type { ModuleNode } from '../../common/protocol';
import type { FreezeState } from '../../common/webviewProtocol';

export interface FreezeModel {
  state: FreezeState;
  /** Every parameter name, for computing freeze edits. */
  names: string[];
}

export interface ShapeSummary {
  hidden_size?: number;
  num_hidden_layers?: number;
  num_attention_heads?: number;
  intermediate_size?: number;
  vocab_size?: number;
}

/** Parameter names and shapes found in a module tree (its leaves). */
export function leavesOf(tree: ModuleNode): ParamInfo[] {
  const out: ParamInfo[] = [];
  const walk = (n: ModuleNode) => {
    if (n.shape && n.children.length === 0) out.push({ name: n.path, shape: n.shape });
    n.children.forEach(walk);
  };
  walk(tree);
  return out;
}

/** Layer count and sizes, read off the parameter shapes (PyTorch layout: Linear weights are [out, in]). */
export function shapesFromParams(params: readonly ParamInfo[]): ShapeSummary {
  const find = (n: string) => params.find((p) => p.name === n)?.shape;
  const layers = new Set(
    params.map((p) => /^bert\.encoder\.layer\.(\d+)\./.exec(p.name)?.[1]).filter((x): x is string => !!x),
  );
  const word = find('bert.embeddings.word_embeddings.weight');
  const inter = find('bert.encoder.layer.0.intermediate.dense.weight');
  return {
    num_hidden_layers: layers.size,
    ...(word ? { vocab_size: word[0]!, hidden_size: word[1]! } : {}),
    ...(inter ? { intermediate_size: Math.max(...inter) } : {}),
  };
}

export async function freezeModelFor(
  configPath: string,
  text: string,
  host: ConfigFileHost,
  live?: { tree: ModuleNode; runName: string },
): Promise<FreezeModel> {
  // One parse: the validator's document holds the freeze lists as written, its config the resolved values.
  const { config, document } = validateConfigText(text);
  const lists = readFreezeLists(document);
  const base = {
    configPath,
    configName: path.basename(configPath),
    numLayers: 0,
    batchSize: config.training.per_device_train_batch_size,
    maxLength: config.data.max_length,
    freeze: lists.freeze,
    unfreeze: lists.unfreeze,
  };
  let params: ParamInfo[] | undefined;
  let source: string;
  if (live) {
    params = leavesOf(live.tree);
    source = `the live run ${live.runName}`;
  } else {
    params = await configParameters(config, host).catch(() => undefined);
    source =
      config.mode === 'from-scratch'
        ? 'the architecture in the config'
        : `the model files of ${config.model.name_or_path ?? '?'}`;
  }
  if (!params || params.length === 0) {
    return { state: { ...base, reason: reasonWithout(config) }, names: [] };
  }
  const tree = buildModuleTree(params, trainablePredicate(lists.freeze, lists.unfreeze));
  const shapes = { ...shapesFromParams(params), ...(config.mode === 'from-scratch' ? config.model.architecture : {}) };
  const numLayers = shapes.num_hidden_layers ?? 0;
  const H = shapes.hidden_size ?? 0;
  const memory = estimateTrainingMemory({
    hiddenSize: H,
    numLayers,
    intermediateSize: shapes.intermediate_size ?? 4 * H,
    // Heads only change the attention-score term; 64 per head is BERT's convention when the config is not at hand.
    numHeads: (shapes as ShapeSummary).num_attention_heads ?? Math.max(1, Math.round(H / 64)),
    vocabSize: shapes.vocab_size ?? 0,
    numLabels: params.find((p) => p.name === 'classifier.weight')?.shape[0] ?? 2,
    head: headFor(config.task),
    batchSize: base.batchSize,
    seqLength: base.maxLength,
    totalParams: tree.total,
    trainableParams: tree.trainable,
    lowestTrainable: lowestTrainableModule(tree, numLayers),
  });
  return { state: { ...base, numLayers, tree, memory, source }, names: params.map((p) => p.name) };
}

function reasonWithout(c: FineTuneConfig): string {
  if (c.mode === 'from-scratch') return 'The config has no `model.architecture`, so the model is not known yet.';
  if (!c.model.name_or_path) return 'The config has no `model.name_or_path`.';
  return `The model ${c.model.name_or_path} is not a local folder with config.json and model.safetensors (a Hub model shows here once it has been downloaded into a folder, or once a run has started).`;
}
