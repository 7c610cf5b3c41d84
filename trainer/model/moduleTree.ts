/**
 * The module tree (embeddings, encoder.layer.N.{attention,intermediate,output}, pooler, classifier / cls)
 * with total and trainable parameter counts, for the freezing UI. Built from parameter specs only, so it can
 * be shown for bert-large before any weight is allocated.
 */
import type { BertConfig, BertHead, ParamSpec } from './config';
import { parameterSpecs, sizeOf } from './config';

export interface ModuleNode {
  /** Last path segment, e.g. "attention". */
  name: string;
  /** Dotted HF prefix, e.g. "bert.encoder.layer.0.attention"; "" for the root. */
  path: string;
  total: number;
  trainable: number;
  children: ModuleNode[];
}

/** Modules stop here: deeper segments (query, dense, LayerNorm) are parameters of these modules. */
function modulePath(name: string): string[] {
  const parts = name.split('.');
  const layer = /^bert\.encoder\.layer\.(\d+)\.(attention|intermediate|output)\./.exec(name);
  if (layer) return ['bert', 'encoder', 'layer', layer[1]!, layer[2]!];
  if (name.startsWith('bert.embeddings.')) return ['bert', 'embeddings'];
  if (name.startsWith('bert.pooler.')) return ['bert', 'pooler'];
  if (name.startsWith('classifier.')) return ['classifier'];
  if (name.startsWith('cls.predictions.transform.')) return ['cls', 'predictions', 'transform'];
  if (name.startsWith('cls.')) return ['cls', 'predictions'];
  return parts.slice(0, -1);
}

export function buildModuleTree(specs: readonly ParamSpec[], isTrainable: (name: string) => boolean): ModuleNode {
  const root: ModuleNode = { name: '', path: '', total: 0, trainable: 0, children: [] };
  for (const spec of specs) {
    const n = sizeOf(spec.shape);
    const t = isTrainable(spec.name) ? n : 0;
    let node = root;
    node.total += n;
    node.trainable += t;
    for (const seg of modulePath(spec.name)) {
      const path = node.path ? `${node.path}.${seg}` : seg;
      let child = node.children.find((c) => c.name === seg);
      if (!child) {
        child = { name: seg, path, total: 0, trainable: 0, children: [] };
        node.children.push(child);
      }
      child.total += n;
      child.trainable += t;
      node = child;
    }
  }
  return root;
}

/** The same tree from a config alone. */
export function moduleTreeFor(
  config: BertConfig,
  head: BertHead,
  numLabels: number,
  isTrainable: (name: string) => boolean = () => true,
): ModuleNode {
  return buildModuleTree(parameterSpecs(config, head, numLabels), isTrainable);
}
