/**
 * The sample-efficiency chart as a standalone SVG (plain Node, like chart.ts): test score against the number of
 * labelled training examples on a log-scale x axis, one line per arm through the means, a marker at each mean
 * and an error bar of ± one standard deviation over seeds.
 */
import { escapeXml, PALETTE } from './chart';
import type { CurvePoint } from './curve';

export interface ArmCurve {
  arm: string;
  points: readonly CurvePoint[];
}

interface Frame {
  x: number;
  y: number;
  w: number;
  h: number;
  sx: (size: number) => number;
  sy: (score: number) => number;
  yLo: number;
  yHi: number;
  sizes: number[];
}

const r1 = (v: number): string => v.toFixed(1);

/** Scales: x is log(size) over the sizes drawn; y spans the error bars, widened to whole percent steps. */
function frame(arms: readonly ArmCurve[]): Frame {
  const all = arms.flatMap((a) => a.points);
  const sizes = [...new Set(all.map((p) => p.size))].sort((a, b) => a - b);
  const lo = Math.min(...all.map((p) => p.mean - p.std), 1);
  const hi = Math.max(...all.map((p) => p.mean + p.std), 0);
  const yLo = Math.max(0, Math.floor((all.length ? lo : 0) * 20) / 20);
  const yHi = Math.min(1, Math.ceil((all.length ? hi : 1) * 20) / 20);
  const span = yHi - yLo || 0.05;
  const x0 = Math.log(sizes[0] ?? 1);
  const x1 = Math.log(sizes.at(-1) ?? 2);
  const f = { x: 70, y: 60, w: 560, h: 300 };
  return {
    ...f,
    sizes,
    yLo,
    yHi: yLo + span,
    // A single size sits in the middle rather than dividing by zero.
    sx: (s) => f.x + 20 + (x1 > x0 ? ((Math.log(s) - x0) / (x1 - x0)) * (f.w - 40) : (f.w - 40) / 2),
    sy: (v) => f.y + f.h - ((v - yLo) / span) * f.h,
  };
}

function axes(fr: Frame): string[] {
  const out = [`<rect x="${fr.x}" y="${fr.y}" width="${fr.w}" height="${fr.h}" fill="none" stroke="#999"/>`];
  for (let i = 0; i <= 4; i++) {
    const v = fr.yLo + ((fr.yHi - fr.yLo) * i) / 4;
    const y = r1(fr.sy(v));
    out.push(`<line x1="${fr.x}" y1="${y}" x2="${fr.x + fr.w}" y2="${y}" stroke="#eee"/>`);
    out.push(
      `<text x="${fr.x - 6}" y="${y}" font-size="11" text-anchor="end" dominant-baseline="middle">${(100 * v).toFixed(1)}</text>`,
    );
  }
  for (const s of fr.sizes) {
    const x = r1(fr.sx(s));
    out.push(`<line x1="${x}" y1="${fr.y}" x2="${x}" y2="${fr.y + fr.h}" stroke="#f3f3f3"/>`);
    out.push(`<text x="${x}" y="${fr.y + fr.h + 16}" font-size="11" text-anchor="middle">${s}</text>`);
  }
  out.push(
    `<text x="${fr.x + fr.w / 2}" y="${fr.y + fr.h + 34}" font-size="12" text-anchor="middle">labelled training examples (log scale)</text>`,
    `<text x="18" y="${fr.y + fr.h / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 18 ${fr.y + fr.h / 2})">test score (%)</text>`,
  );
  return out;
}

/** One arm: a line through the means, then per point an error bar (class "error-bar") and a marker. */
function armMarks(a: ArmCurve, colour: string, fr: Frame): string[] {
  const pts = [...a.points].sort((p, q) => p.size - q.size);
  const out: string[] = [];
  if (pts.length > 1) {
    const d = pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${r1(fr.sx(p.size))},${r1(fr.sy(p.mean))}`).join(' ');
    out.push(
      `<path d="${d}" fill="none" stroke="${colour}" stroke-width="2"><title>${escapeXml(a.arm)}</title></path>`,
    );
  }
  for (const p of pts) {
    const x = r1(fr.sx(p.size));
    const [top, bottom] = [r1(fr.sy(p.mean + p.std)), r1(fr.sy(p.mean - p.std))];
    const tip = `${escapeXml(a.arm)}, ${p.size} examples: ${(100 * p.mean).toFixed(1)} ± ${(100 * p.std).toFixed(1)} (${p.n} seeds)`;
    out.push(
      `<g class="error-bar"><line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="${colour}"/>` +
        `<line x1="${r1(fr.sx(p.size) - 4)}" y1="${top}" x2="${r1(fr.sx(p.size) + 4)}" y2="${top}" stroke="${colour}"/>` +
        `<line x1="${r1(fr.sx(p.size) - 4)}" y1="${bottom}" x2="${r1(fr.sx(p.size) + 4)}" y2="${bottom}" stroke="${colour}"/></g>`,
      `<circle class="point" cx="${x}" cy="${r1(fr.sy(p.mean))}" r="3.5" fill="${colour}"><title>${tip}</title></circle>`,
    );
  }
  return out;
}

/** The chart: every arm's points with error bars, a legend, and a title. */
export function sampleEfficiencySvg(arms: readonly ArmCurve[], title = 'Sample efficiency'): string {
  const fr = frame(arms);
  const width = 720;
  const height = 450;
  const colourOf = (i: number): string => PALETTE[i % PALETTE.length] as string;
  const legend = arms.map((a, i) => {
    const x = fr.x + i * 180;
    const y = height - 24;
    return `<line x1="${x}" y1="${y}" x2="${x + 24}" y2="${y}" stroke="${colourOf(i)}" stroke-width="3"/><text x="${x + 30}" y="${y + 4}" font-size="12">${escapeXml(a.arm)}</text>`;
  });
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="24" font-size="16" text-anchor="middle">${escapeXml(title)}</text>`,
    ...axes(fr),
    ...arms.flatMap((a, i) => armMarks(a, colourOf(i), fr)),
    ...legend,
    `<text x="${width - 20}" y="${height - 20}" font-size="11" text-anchor="end" fill="#555">bars: ± 1 std over seeds</text>`,
    `</svg>`,
    '',
  ].join('\n');
}
