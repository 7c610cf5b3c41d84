/** Evaluation results: the confusion matrix as a heatmap table, and precision / recall / F1 per class. */
import { formatValue } from '../common/chartData';
import { metricTitle } from '../common/metricNames';
import type { EvaluationRow } from '../common/protocol';
import type { EvalRecord } from '../common/runSeries';
import { h } from './dom';

/** What the tables need: a run's `eval` message and the checkpoint explorer's evaluation of a file both have it. */
export type EvaluationTables = Pick<EvalRecord, 'labels' | 'confusion' | 'perClass'> & {
  metrics?: Record<string, number>;
  /** The checkpoint explorer's evaluation of a file: rows with their texts, the misclassified first. */
  rows?: EvaluationRow[];
};

/** The run's text columns, to head the rows' text cells as the data file names them. */
export interface TextColumns {
  text: string;
  textPair?: string;
}

/** "Evaluation at step 120 — run-b (validation)". */
export function evalHeading(e: EvalRecord, runName: string): string {
  return `Evaluation at step ${e.step}${runName ? ` — ${runName}` : ''} (${e.split})`;
}

/**
 * The heading, then (with `withMetrics`) the scalar metrics, the confusion matrix, the per-class table and the
 * rows with both texts of a pair.
 */
export function renderEvaluation(
  heading: string,
  e: EvaluationTables,
  withMetrics = false,
  columns?: TextColumns,
): HTMLElement {
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
  if (e.rows && e.rows.length) box.append(...renderRows(e.rows, columns));
  return box;
}

/** The rows' table as text: its caption, column heads and cells, and which rows were misclassified. */
export interface RowsTable {
  caption: string;
  heads: string[];
  cells: string[][];
  wrong: boolean[];
}

/** Line, the text (and its pair) under the run's column names, the true and predicted label, the probability. */
export function rowsTable(rows: readonly EvaluationRow[], columns: TextColumns | undefined): RowsTable {
  const pair = rows.some((r) => r.textPair !== undefined);
  const textHead = columns?.text ?? 'text';
  const pairHead = columns?.textPair ?? 'second text';
  const heads = ['line', textHead, ...(pair ? [pairHead] : []), 'label', 'predicted', 'probability'];
  const wrong = rows.map((r) => r.predicted !== r.label);
  const misclassified = wrong.filter(Boolean).length;
  const caption = misclassified
    ? `Rows: the ${misclassified} misclassified first${misclassified === rows.length ? '' : ', then correct ones'}`
    : 'Rows: every one shown was classified correctly';
  const cells = rows.map((r) => [
    String(r.line),
    r.text,
    ...(pair ? [r.textPair ?? ''] : []),
    r.label,
    r.predicted,
    formatValue(r.probability),
  ]);
  return { caption, heads, cells, wrong };
}

function renderRows(rows: readonly EvaluationRow[], columns: TextColumns | undefined): HTMLElement[] {
  const t = rowsTable(rows, columns);
  // After the line, one or two text cells; then label, predicted and probability.
  const texts = t.heads.length - 4;
  const body = t.cells.map((cells, r) =>
    h(
      'tr',
      { class: t.wrong[r] ? 'wrong' : 'right' },
      ...cells.map((cell, i) => {
        const cls = i === 0 || i === cells.length - 1 ? 'num' : i <= texts ? 'row-text' : '';
        return h('td', { class: i === cells.length - 2 && t.wrong[r] ? 'error-text' : cls }, cell);
      }),
    ),
  );
  return [
    h('h4', {}, t.caption),
    h(
      'table',
      { class: 'grid rows', 'aria-label': 'Rows' },
      h('thead', {}, h('tr', {}, ...t.heads.map((x) => h('th', {}, x)))),
      h('tbody', {}, ...body),
    ),
  ];
}
