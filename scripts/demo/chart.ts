/**
 * Learning curves as a standalone SVG, built as a string in plain Node (no browser, no canvas): two panels,
 * validation accuracy and training loss against the optimiser step, one path per run in each panel, coloured by
 * variant and dashed by seed so that three seeds of one variant read as one family.
 */
import type { CurvePoint } from './runMetrics';

export interface ChartRun {
  /** e.g. `finetune seed 2`; shown in the legend. */
  label: string;
  variant: string;
  seedIndex: number;
  validationAccuracy: readonly CurvePoint[];
  trainLoss: readonly CurvePoint[];
}

export const PALETTE = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const DASHES = ['', '6 3', '2 3', '8 3 2 3'];

export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

interface Panel {
  title: string;
  x: number;
  y: number;
  w: number;
  h: number;
  series: { run: ChartRun; points: readonly CurvePoint[] }[];
  yMin?: number;
  yMax?: number;
}

function extent(values: number[], fallback: [number, number]): [number, number] {
  if (values.length === 0) return fallback;
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  return [lo, hi];
}

const fmt = (v: number): string =>
  Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);

function renderPanel(p: Panel, colourOf: (variant: string) => string): string {
  const all = p.series.flatMap((s) => s.points);
  const [x0, x1] = extent(
    all.map((q) => q.step),
    [0, 1],
  );
  const [yLo, yHi] = extent(
    all.map((q) => q.value),
    [0, 1],
  );
  const y0 = p.yMin ?? yLo;
  const y1 = p.yMax ?? yHi;
  const sx = (v: number): number => p.x + ((v - Math.min(x0, 0)) / (x1 - Math.min(x0, 0) || 1)) * p.w;
  const sy = (v: number): number => p.y + p.h - ((v - y0) / (y1 - y0 || 1)) * p.h;
  const out: string[] = [];
  out.push(`<g class="panel">`);
  out.push(`<text x="${p.x}" y="${p.y - 10}" font-size="14" font-weight="bold">${escapeXml(p.title)}</text>`);
  out.push(`<rect x="${p.x}" y="${p.y}" width="${p.w}" height="${p.h}" fill="none" stroke="#999"/>`);
  for (let i = 0; i <= 4; i++) {
    const v = y0 + ((y1 - y0) * i) / 4;
    const y = sy(v).toFixed(1);
    out.push(`<line x1="${p.x}" y1="${y}" x2="${p.x + p.w}" y2="${y}" stroke="#eee"/>`);
    out.push(
      `<text x="${p.x - 6}" y="${y}" font-size="11" text-anchor="end" dominant-baseline="middle">${fmt(v)}</text>`,
    );
    const xv = Math.min(x0, 0) + ((x1 - Math.min(x0, 0)) * i) / 4;
    out.push(
      `<text x="${sx(xv).toFixed(1)}" y="${p.y + p.h + 16}" font-size="11" text-anchor="middle">${Math.round(xv)}</text>`,
    );
  }
  out.push(`<text x="${p.x + p.w / 2}" y="${p.y + p.h + 32}" font-size="12" text-anchor="middle">step</text>`);
  for (const s of p.series) {
    if (s.points.length === 0) continue;
    const d = s.points
      .map((q, i) => `${i === 0 ? 'M' : 'L'}${sx(q.step).toFixed(1)},${sy(q.value).toFixed(1)}`)
      .join(' ');
    const dash = DASHES[s.run.seedIndex % DASHES.length] as string;
    out.push(
      `<path d="${d}" fill="none" stroke="${colourOf(s.run.variant)}" stroke-width="1.6"${dash ? ` stroke-dasharray="${dash}"` : ''}>` +
        `<title>${escapeXml(s.run.label)}</title></path>`,
    );
  }
  out.push(`</g>`);
  return out.join('\n');
}

/** One SVG with two panels; every run contributes exactly one `<path>` to each panel that has data for it. */
export function learningCurvesSvg(runs: readonly ChartRun[], title = 'Learning curves'): string {
  const variants = [...new Set(runs.map((r) => r.variant))];
  const colourOf = (v: string): string => PALETTE[variants.indexOf(v) % PALETTE.length] as string;
  const width = 980;
  const height = 420;
  const panelW = 380;
  const panelH = 280;
  const acc: Panel = {
    title: 'Validation accuracy',
    x: 60,
    y: 60,
    w: panelW,
    h: panelH,
    series: runs.map((run) => ({ run, points: run.validationAccuracy })),
  };
  const loss: Panel = {
    title: 'Training loss',
    x: 60 + panelW + 80,
    y: 60,
    w: panelW,
    h: panelH,
    series: runs.map((run) => ({ run, points: run.trainLoss })),
  };
  const legend = variants.map((v, i) => {
    const x = 60 + i * 220;
    const y = height - 24;
    return `<line x1="${x}" y1="${y}" x2="${x + 24}" y2="${y}" stroke="${colourOf(v)}" stroke-width="3"/><text x="${x + 30}" y="${y + 4}" font-size="12">${escapeXml(v)}</text>`;
  });
  const seeds = `<text x="${width - 20}" y="${height - 20}" font-size="11" text-anchor="end" fill="#555">line style = seed</text>`;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="24" font-size="16" text-anchor="middle">${escapeXml(title)}</text>`,
    renderPanel(acc, colourOf),
    renderPanel(loss, colourOf),
    ...legend,
    seeds,
    `</svg>`,
    '',
  ].join('\n');
}
