/** Evaluation results: the confusion matrix as a heatmap table, and precision / recall / F1 per class. */
import { formatValue } from '../common/chartData';
import type { EvalRecord } from '../common/runSeries';
import { h } from './dom';

export function renderEvaluation(title: string, e: EvalRecord): HTMLElement {
  const box = h('section', { class: 'evaluation' }, h('h3', {}, `Evaluation at step ${e.step}${title ? ` — ${title}` : ''} (${e.split})`));
  const labels = e.labels ?? e.perClass?.map((p) => p.label) ?? [];
  if (e.confusion && e.confusion.length) {
    const max = Math.max(1, ...e.confusion.flat());
    const head = h('tr', {}, h('th', { class: 'corner' }, 'true \\ predicted'), ...labels.map((l) => h('th', {}, l)));
    const rows = e.confusion.map((row, i) =>
      h(
        'tr',
        {},
        h('th', {}, labels[i] ?? String(i)),
        ...row.map((n, j) => {
          const td = h('td', { class: i === j ? 'num diag' : 'num', title: `true ${labels[i] ?? i}, predicted ${labels[j] ?? j}: ${n}` }, String(n));
          // Intensity by share of the largest cell; theme colour mixed with transparency reads in every theme.
          td.style.background = `color-mix(in srgb, var(--vscode-charts-blue) ${Math.round((n / max) * 70)}%, transparent)`;
          return td;
        }),
      ),
    );
    box.append(h('table', { class: 'grid confusion', 'aria-label': 'Confusion matrix' }, h('thead', {}, head), h('tbody', {}, ...rows)));
  }
  if (e.perClass && e.perClass.length) {
    box.append(
      h(
        'table',
        { class: 'grid', 'aria-label': 'Per-class metrics' },
        h('thead', {}, h('tr', {}, ...['class', 'precision', 'recall', 'F1', 'support'].map((t) => h('th', {}, t)))),
        h('tbody', {}, ...e.perClass.map((p) => h('tr', {}, h('td', {}, p.label), h('td', { class: 'num' }, formatValue(p.precision)), h('td', { class: 'num' }, formatValue(p.recall)), h('td', { class: 'num' }, formatValue(p.f1)), h('td', { class: 'num' }, String(p.support))))),
      ),
    );
  }
  return box;
}
