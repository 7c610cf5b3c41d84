/**
 * The freezing panel: the model's modules as a tree (embeddings, each encoder layer with attention and
 * feed-forward, pooler, classifier) with trainable / frozen / total counts, a checkbox per module, the shortcuts,
 * and the training-memory estimate. Every change goes to the host, which edits the config; the new state comes
 * back as a snapshot, so the page always shows what the file says.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-icon/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { formatBytes } from '../common/memoryEstimate';
import { formatCount } from '../common/moduleTree';
import type { ModuleNode } from '../common/protocol';
import { freezeCommands, freezeState } from '../common/webviewProtocol';
import type { FreezeState } from '../common/webviewProtocol';
import { obj } from '../common/guard';
import { button, clear, h, problemBanner } from './dom';
import { PanelIpc } from './ipc';

const root = document.getElementById('root')!;
const showProblem = problemBanner(root);
const body = h('div');
root.append(body);
let expanded = new Set<string>(['bert', 'bert.encoder', 'bert.encoder.layer']);

const ipc = new PanelIpc<FreezeState, unknown, typeof freezeCommands>({
  state: freezeState,
  append: obj({}),
  commands: freezeCommands,
  onProblem: showProblem,
  onSnapshot: render,
  onAppend: () => undefined,
});
expanded = new Set(ipc.viewState({ expanded: [...expanded] }).expanded);

function counts(n: ModuleNode): string {
  const frozen = n.total - n.trainable;
  return `${formatCount(n.trainable)} trainable · ${formatCount(frozen)} frozen · ${formatCount(n.total)} total`;
}

/** HF names, with what a BERT reader calls them: `intermediate` and `output` of a layer are its feed-forward. */
function moduleLabel(n: ModuleNode): string {
  if (/^\d+$/.test(n.name)) return `layer ${n.name}`;
  if (/\.layer\.\d+\.intermediate$/.test(n.path)) return 'feed-forward in (intermediate)';
  if (/\.layer\.\d+\.output$/.test(n.path)) return 'feed-forward out (output)';
  return n.name;
}

function row(n: ModuleNode, depth: number): HTMLElement[] {
  const kids = n.children.filter((c) => c.children.length > 0);
  const label = moduleLabel(n);
  const box = h('vscode-checkbox', {
    checked: n.trainable > 0,
    indeterminate: n.trainable > 0 && n.trainable < n.total,
    label,
    title: `${n.path}: ticked trains, unticked is frozen`,
  }) as HTMLElement & { checked: boolean };
  box.addEventListener('change', () => ipc.command('setFrozen', { path: n.path, frozen: !box.checked }));
  const twisty = kids.length
    ? h('vscode-icon', {
        name: expanded.has(n.path) ? 'chevron-down' : 'chevron-right',
        'action-icon': true,
        label: 'expand',
      })
    : h('span', { class: 'twisty-space' });
  twisty.addEventListener('click', () => {
    if (expanded.has(n.path)) expanded.delete(n.path);
    else expanded.add(n.path);
    ipc.saveViewState({ expanded: [...expanded] });
    render(last!);
  });
  const line = h(
    'div',
    { class: `module-row${n.trainable === 0 ? ' frozen' : ''}`, 'data-path': n.path },
    twisty,
    box,
    h('span', { class: 'muted counts' }, counts(n)),
  );
  line.style.paddingLeft = `${depth * 16}px`;
  const out: HTMLElement[] = [line];
  if (kids.length && expanded.has(n.path)) for (const c of kids) out.push(...row(c, depth + 1));
  return out;
}

let last: FreezeState | undefined;
function render(s: FreezeState): void {
  last = s;
  clear(body);
  body.append(
    h(
      'div',
      { class: 'header' },
      h('strong', {}, s.configName ?? 'No config'),
      s.source ? h('span', { class: 'muted' }, `from ${s.source}`) : null,
      s.configPath
        ? button('Open config', () => ipc.command('openConfig', {}), { icon: 'go-to-file', secondary: true })
        : null,
    ),
  );
  if (!s.tree) {
    body.append(h('p', { class: 'muted' }, s.reason ?? 'No model.'));
    return;
  }
  const n = h('vscode-textfield', {
    type: 'number',
    value: String(Math.min(2, s.numLayers)),
    min: '0',
    max: String(s.numLayers),
    'aria-label': 'N',
  }) as HTMLElement & { value: string };
  n.classList.add('narrow');
  body.append(
    h(
      'div',
      { class: 'toolbar' },
      button('Freeze embeddings', () => ipc.command('shortcut', { kind: 'freeze-embeddings' }), { secondary: true }),
      button(
        'Train the top N layers only',
        () => ipc.command('shortcut', { kind: 'top-n', n: Math.max(0, Math.min(s.numLayers, Number(n.value) || 0)) }),
        { secondary: true },
      ),
      n,
      button('Train head only', () => ipc.command('shortcut', { kind: 'head-only' }), { secondary: true }),
      button('Unfreeze all', () => ipc.command('shortcut', { kind: 'unfreeze-all' }), { secondary: true }),
    ),
    h('p', { class: 'totals' }, `Whole model: ${counts(s.tree)}`),
  );
  if (s.memory) {
    const m = s.memory;
    body.append(
      h(
        'table',
        { class: 'grid memory', 'aria-label': 'Training memory estimate' },
        h('caption', {}, `Training memory, batch ${s.batchSize} × ${s.maxLength} tokens (float32 estimate)`),
        h(
          'tbody',
          {},
          ...(
            [
              ['weights', m.weights],
              ['gradients', m.gradients],
              ['AdamW states', m.optimizer],
              [`activations (${m.layersWithActivations} layers)`, m.activations],
              ['AdamW update temporaries', m.update],
              ['total', m.total],
            ] as const
          ).map(([k, v]) => h('tr', {}, h('td', {}, k), h('td', { class: 'num' }, formatBytes(v)))),
        ),
      ),
    );
  }
  const tree = h('div', { class: 'module-tree', role: 'tree' });
  // Skip the `bert` / `encoder.layer` levels that only group: show embeddings, layer 0…N, pooler, classifier.
  const top = s.tree.children
    .flatMap((c) => (c.name === 'bert' ? c.children : [c]))
    .filter((c) => c.children.length > 0);
  for (const c of top) {
    if (c.name === 'encoder')
      for (const layer of c.children.find((x) => x.name === 'layer')?.children ?? []) tree.append(...row(layer, 0));
    else tree.append(...row(c, 0));
  }
  body.append(tree);
  if (s.freeze.length || s.unfreeze.length)
    body.append(h('p', { class: 'muted' }, `freeze: [${s.freeze.join(', ')}]  unfreeze: [${s.unfreeze.join(', ')}]`));
}
