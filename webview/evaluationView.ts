/** Evaluation results: the confusion matrix as a heatmap table, and precision / recall / F1 per class. */
import { formatValue } from '../common/chartData';
import { metricTitle } from '../common/metricNames';
import type { EvalRecord } from '../common/runSeries';
import { h } from './dom';

/** What the tables need: a run's `eval` message and the checkpoint explorer's evaluation of a file both have it. */
export type EvaluationTables = Pick<EvalRecord, 'labels' | 'confusion' | 'perClass'> & {
  metrics?: Record<string, number>;
};

/** "Evaluation at step 120 — run-b (validation)". */
export function evalHeading(e: EvalRecord, runName: string): string {
  return `Evaluation at step ${e.step}${runName ? ` — ${runName}` : ''} (${e.split})`;
}

/** The heading, then (with `withMetrics`) the scalar metrics, the confusion matrix and the per-class table. */
export function renderEvaluation(heading: string, e: EvaluationTables, withMetrics = false): HTMLElement {
  const box = h('section', { class: 'evaluation' }, h('h3', {}, heading));
  const scalars = Object.entries(e.metrics ?? {}).filter(([, x]) => typeof x === 'number');
  if (withMetrics && scalars.length) {
    box.append(
      h(
        'table',
        { class: 'grid scalars', 'aria-label': 'Metrics' },
        h(
          'tbody',
          {},
          ...scalars.map(([k, x]) =>
            h('tr', {}, h('td', {}, metricTitle(k)), h('td', { class: 'num' }, formatValue(x))),
          ),
        ),
      ),
    );
  }
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
          const td = h(
            'td',
            { class: i === j ? 'num diag' : 'num', title: `true ${labels[i] ?? i}, predicted ${labels[j] ?? j}: ${n}` },
            String(n),
          );
          // Intensity by share of the largest cell; theme colour mixed with transparency reads in every theme.
          td.style.background = `color-mix(in srgb, var(--vscode-charts-blue) ${Math.round((n / max) * 70)}%, transparent)`;
          return td;
        }),
      ),
    );
    box.append(
      h(
        'table',
        { class: 'grid confusion', 'aria-label': 'Confusion matrix' },
        h('thead', {}, head),
        h('tbody', {}, ...rows),
      ),
    );
  }
  if (e.perClass && e.perClass.length) {
    box.append(
      h(
        'table',
        { class: 'grid', 'aria-label': 'Per-class metrics' },
        h('thead', {}, h('tr', {}, ...['class', 'precision', 'recall', 'F1', 'support'].map((t) => h('th', {}, t)))),
        h(
          'tbody',
          {},
          ...e.perClass.map((p) =>
            h(
              'tr',
              {},
              h('td', {}, p.label),
              h('td', { class: 'num' }, formatValue(p.precision)),
              h('td', { class: 'num' }, formatValue(p.recall)),
              h('td', { class: 'num' }, formatValue(p.f1)),
              h('td', { class: 'num' }, String(p.support)),
            ),
          ),
        ),
      ),
    );
  }
  return box;
}
