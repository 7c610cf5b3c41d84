/**
 * The module tree of a model (embeddings, encoder.layer.N.attention, ..., classifier) with total and trainable
 * parameter counts at every level, built from parameter names alone so that the trainer (live model), the
 * language server and the freezing panel (config.json + safetensors header) all show the same tree.
 */
import type { ModuleNode } from './protocol';
import type { ParamInfo } from './bertParams';
import { numel } from './bertParams';

export function buildModuleTree(
  params: readonly ParamInfo[],
  isTrainable: (name: string) => boolean,
  rootName = 'model',
): ModuleNode {
  const root: ModuleNode = { name: rootName, path: '', total: 0, trainable: 0, children: [] };
  for (const p of params) {
    const n = numel(p.shape);
    const t = isTrainable(p.name) ? n : 0;
    const parts = p.name.split('.');
    let node = root;
    node.total += n;
    node.trainable += t;
    let path = '';
    for (const part of parts) {
      path = path ? `${path}.${part}` : part;
      let child = node.children.find((c) => c.name === part);
      if (!child) {
        child = { name: part, path, total: 0, trainable: 0, children: [] };
        node.children.push(child);
      }
      child.total += n;
      child.trainable += t;
      node = child;
    }
    node.shape = [...p.shape];
  }
  return root;
}

/** Every module path and parameter name in the tree, for completion of freeze patterns. */
export function allPaths(node: ModuleNode): string[] {
  const out: string[] = [];
  const walk = (n: ModuleNode) => {
    if (n.path) out.push(n.path);
    n.children.forEach(walk);
  };
  walk(node);
  return out;
}

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}
