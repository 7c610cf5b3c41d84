/**
 * The checkpoint explorer: a run's checkpoints with step, epoch, metrics, size and labels (best, last, deleted
 * next by save_total_limit, broken with the reason), the actions on each, and a "try it" box that runs the
 * trainer's predict on a sentence (two, labelled by their columns, for a run trained on pairs) and shows the label
 * with its probabilities.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-icon/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import { formatValue } from '../common/chartData';
import { formatBytes } from '../common/memoryEstimate';
import { obj } from '../common/guard';
import { checkpointCommands, checkpointsState } from '../common/webviewProtocol';
import type { CheckpointInfo, CheckpointsState, Evaluation, Prediction } from '../common/webviewProtocol';
import { renderEvaluation } from './evaluationView';
import { button, clear, h, problemBanner } from './dom';
import { PanelIpc } from './ipc';
import { isEvalMetricKey } from '../common/metricNames';
import { plural } from '../common/plural';

const root = document.getElementById('root')!;
const showProblem = problemBanner(root);
const body = h('div');
const tryBox = h('section', { class: 'try' });
root.append(body, tryBox);
let selected: string | undefined;
/** The run's text columns, from the last snapshot: they head the texts of an evaluation's rows. */
let columns: CheckpointsState['columns'];

const ipc = new PanelIpc<CheckpointsState, unknown, typeof checkpointCommands>({
  state: checkpointsState,
  append: obj({}),
  commands: checkpointCommands,
  onProblem: showProblem,
  onSnapshot: render,
  onAppend: () => undefined,
});

function labels(c: CheckpointInfo): HTMLElement[] {
  const out: HTMLElement[] = [];
  if (c.broken) out.push(h('vscode-badge', { variant: 'counter', class: 'badge-broken', title: c.broken }, 'broken'));
  if (c.isBest) out.push(h('vscode-badge', { class: 'badge-best' }, 'best'));
  if (c.isLast) out.push(h('vscode-badge', {}, 'last'));
  if (c.deletedNext)
    out.push(
      h(
        'vscode-badge',
        { class: 'badge-delete', title: 'save_total_limit deletes it when the next checkpoint is saved' },
        'deleted next',
      ),
    );
  return out;
}

function render(s: CheckpointsState): void {
  columns = s.columns;
  clear(body);
  body.append(
    h(
      'div',
      { class: 'header' },
      h('strong', {}, s.runName),
      h('span', { class: 'muted' }, s.runDir),
      s.saveTotalLimit ? h('span', { class: 'muted' }, `save_total_limit ${s.saveTotalLimit}`) : null,
    ),
  );
  if (!s.checkpoints.length) {
    body.append(h('p', { class: 'muted' }, 'This run has no checkpoint yet.'));
    renderTry(s);
    return;
  }
  // Evaluation metrics first (what a checkpoint is chosen by), then the training loss; the rest is in the tooltip.
  const all = [...new Set(s.checkpoints.flatMap((c) => Object.keys(c.metrics)))].sort();
  const metricNames = [...all.filter(isEvalMetricKey), ...all.filter((m) => m === 'loss')].slice(0, 5);
  const head = h(
    'tr',
    {},
    ...['checkpoint', 'step', 'epoch', ...metricNames, 'size', '', 'actions'].map((t) => h('th', {}, t)),
  );
  const rows = s.checkpoints.map((c) => {
    const sound = !c.broken;
    const actions = h(
      'td',
      { class: 'actions' },
      button('', () => ipc.command('resume', { path: c.path }), {
        icon: 'debug-continue',
        secondary: true,
        disabled: !sound || s.live,
        title: s.live ? 'Resume: the run is still training' : 'Resume the run from here',
      }),
      button('', () => ipc.command('fork', { path: c.path }), {
        icon: 'repo-forked',
        secondary: true,
        disabled: !sound,
        title: 'Fork: a new config that fine-tunes from this checkpoint',
      }),
      button(
        '',
        () =>
          void ipc.request('evaluate', { path: c.path }).then(
            (v) => showEvaluation(c, v),
            (e: Error) => showProblem(e.message),
          ),
        { icon: 'beaker', secondary: true, disabled: !sound, title: 'Evaluate on a data file' },
      ),
      button(
        '',
        () => {
          selected = c.path;
          renderTry(s);
        },
        { icon: 'comment-discussion', secondary: true, disabled: !sound, title: 'Try it on a sentence' },
      ),
      button('', () => ipc.command('export', { path: c.path }), {
        icon: 'export',
        secondary: true,
        disabled: !sound,
        title: 'Export as a Hugging Face model folder with a model card',
      }),
      button('', () => ipc.command('reveal', { path: c.path }), {
        icon: 'folder-opened',
        secondary: true,
        title: 'Reveal in file manager',
      }),
      button('', () => ipc.command('delete', { path: c.path }), {
        icon: 'trash',
        secondary: true,
        title: 'Delete (asks first)',
      }),
    );
    return h(
      'tr',
      { class: c.broken ? 'broken' : '', 'data-path': c.path, title: c.broken ?? '' },
      h('td', {}, c.name),
      h('td', { class: 'num' }, c.step !== undefined ? String(c.step) : '—'),
      h('td', { class: 'num' }, formatValue(c.epoch)),
      ...metricNames.map((m) => h('td', { class: 'num' }, formatValue(c.metrics[m]))),
      h('td', { class: 'num' }, formatBytes(c.sizeBytes)),
      h('td', {}, ...labels(c), c.broken ? h('div', { class: 'error-text' }, c.broken) : null),
      actions,
    );
  });
  body.append(
    h(
      'div',
      { class: 'table-scroll' },
      h('table', { class: 'grid checkpoints' }, h('thead', {}, head), h('tbody', {}, ...rows)),
    ),
  );
  body.append(h('div', { class: 'evaluation-result' }));
  if (!selected || !s.checkpoints.some((c) => c.path === selected && !c.broken))
    selected =
      [...s.checkpoints].reverse().find((c) => c.isBest && !c.broken)?.path ??
      [...s.checkpoints].reverse().find((c) => !c.broken)?.path;
  renderTry(s);
}

function showEvaluation(c: CheckpointInfo, e: Evaluation | undefined): void {
  const box = body.querySelector('.evaluation-result');
  if (!box || e === undefined) return;
  clear(box);
  const on = e.file ? ` on ${e.file.split(/[\\/]/).pop()}` : '';
  box.append(renderEvaluation(`Evaluation of ${c.name}${on} (${plural(e.examples, 'example')})`, e, true, columns));
}

type TextField = HTMLElement & { value: string };

/** A text field of the "try it" box, under a label that names its column when the run has pairs. */
function textField(placeholder: string, label: string, column?: string): { field: TextField; box: HTMLElement } {
  const field = h('vscode-textfield', { placeholder, 'aria-label': label }) as TextField;
  field.classList.add('wide');
  const box = column ? h('label', { class: 'try-field' }, h('span', { class: 'try-column' }, column), field) : field;
  return { field, box };
}

/** A tried text and, for a pair, the column it was typed for. */
interface TriedText {
  column?: string;
  text: string;
}

function showPrediction(out: HTMLElement, p: Prediction, texts: readonly TriedText[]): void {
  const bars = Object.entries(p.probabilities)
    .sort((a, b) => b[1] - a[1])
    .map(([label, prob]) => {
      const bar = h('span', { class: 'bar' });
      bar.style.width = `${Math.round(prob * 100)}%`;
      const percent = h('span', { class: 'num' }, `${(prob * 100).toFixed(1)}%`);
      const name = h('span', { class: 'prob-label' }, label);
      return h('div', { class: 'prob-row' }, name, h('span', { class: 'bar-track' }, bar), percent);
    });
  // The texts as the model saw them, both of a pair, so that the answer is read against its question.
  const shown = texts.map((t) =>
    h('div', { class: 'tried-text muted' }, ...(t.column ? [h('strong', {}, `${t.column}: `)] : []), t.text),
  );
  out.replaceChildren(...shown, h('div', { class: 'predicted' }, 'Predicted: ', h('strong', {}, p.label)), ...bars);
}

function renderTry(s: CheckpointsState): void {
  clear(tryBox);
  if (!selected) return;
  const name = s.checkpoints.find((c) => c.path === selected)?.name ?? '';
  const pair = s.columns?.textPair;
  const textColumn = s.columns?.text ?? 'text';
  const first = pair
    ? textField('First text of the pair', `First text (${textColumn})`, textColumn)
    : textField('Type a sentence and press Enter', 'Text to classify');
  const second = pair ? textField('Second text, then Enter', `Second text (${pair})`, pair) : undefined;
  const out = h('div', { class: 'prediction', 'aria-live': 'polite' });
  const go = () => {
    const text = first.field.value.trim();
    const textPair = second?.field.value.trim();
    if (!text || !selected) return;
    // Enter in the first text of a pair goes on to the second.
    if (second && !textPair) return void second.field.focus();
    out.replaceChildren(h('span', { class: 'muted' }, 'Predicting…'));
    const texts: TriedText[] =
      pair && textPair
        ? [
            { column: textColumn, text },
            { column: pair, text: textPair },
          ]
        : [{ text }];
    ipc.request('try', { path: selected, text, ...(textPair ? { textPair } : {}) }).then(
      (p) => showPrediction(out, p, texts),
      (e: Error) => out.replaceChildren(h('span', { class: 'error-text' }, e.message)),
    );
  };
  for (const f of [first, second]) {
    f?.field.addEventListener('keydown', (e) => {
      if ((e as KeyboardEvent).key === 'Enter') go();
    });
  }
  const predict = button('Predict', go, { icon: 'play' });
  const row = h(
    'div',
    { class: pair ? 'try-row try-pair' : 'try-row' },
    first.box,
    ...(second ? [second.box] : []),
    predict,
  );
  tryBox.append(h('h3', {}, `Try ${name}`), row, out);
}
