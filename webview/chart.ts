/**
 * A small canvas line chart: raw and smoothed lines, linear or log y, hover read-out, drag to zoom on an x range,
 * double-click to reset, vertical markers (best checkpoint). It redraws at most once per animation frame and
 * only what is visible, thinned to a few points per pixel column with min/max buckets, so a 100,000-step run
 * costs the same to draw as a 1,000-step one. Export as PNG (the canvas) or SVG (the same thinned paths).
 */
import { downsampleMinMax, formatValue, MinMaxBlocks, nearestIndex, niceTicks } from '../common/chartData';
import { h, themeColor } from './dom';

export interface ChartSeries {
  label: string;
  color: string;
  xs: ArrayLike<number>;
  ys: ArrayLike<number | null>;
  /** Faint raw line under a strong smoothed one. */
  faint?: boolean;
  /** Draw a dot at each point (sparse series such as evaluations). */
  dots?: boolean;
  /** Left out of the hover read-out (the raw twin of a smoothed line is read from the smoothed entry). */
  quiet?: boolean;
}

export interface ChartMarker {
  x: number;
  label: string;
  color: string;
}

const PAD = { left: 56, right: 12, top: 22, bottom: 28 };

export class LineChart {
  readonly element: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly tip: HTMLElement;
  private series: ChartSeries[] = [];
  private markers: ChartMarker[] = [];
  private zoom: [number, number] | undefined;
  private logY = false;
  private hoverX: number | undefined;
  private drag: { from: number; to: number } | undefined;
  private dirty = true;
  private frame = 0;
  private width = 0;
  private height = 0;

  constructor(
    private title: string,
    private xLabel: string,
    private readonly onZoom: (range: [number, number] | undefined) => void,
  ) {
    this.canvas = h('canvas', { class: 'chart-canvas', role: 'img', 'aria-label': title });
    this.tip = h('div', { class: 'chart-tip', hidden: true });
    this.element = h('div', { class: 'chart' }, this.canvas, this.tip);
    new ResizeObserver(() => this.invalidate()).observe(this.element);
    this.canvas.addEventListener('mousemove', (e) => this.onMove(e));
    this.canvas.addEventListener('mouseleave', () => {
      this.hoverX = undefined;
      this.tip.hidden = true;
      this.invalidate();
    });
    this.canvas.addEventListener('mousedown', (e) => {
      const x = this.pxToX(e.offsetX);
      this.drag = { from: x, to: x };
    });
    window.addEventListener('mouseup', () => {
      const d = this.drag;
      this.drag = undefined;
      if (d && Math.abs(this.xToPx(d.to) - this.xToPx(d.from)) > 4)
        this.onZoom([Math.min(d.from, d.to), Math.max(d.from, d.to)]);
      this.invalidate();
    });
    this.canvas.addEventListener('dblclick', () => this.onZoom(undefined));
  }

  set(
    series: ChartSeries[],
    markers: ChartMarker[],
    opts: { zoom: [number, number] | undefined; logY: boolean; xLabel?: string },
  ): void {
    this.series = series;
    this.markers = markers;
    this.zoom = opts.zoom;
    this.logY = opts.logY;
    if (opts.xLabel) this.xLabel = opts.xLabel;
    this.invalidate();
  }

  invalidate(): void {
    this.dirty = true;
    if (!this.frame)
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        if (this.dirty) this.draw();
      });
  }

  // ---- geometry -------------------------------------------------------------------------------------------------

  private xDomain(): [number, number] {
    if (this.zoom) return this.zoom;
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of this.series) {
      if (s.xs.length === 0) continue;
      lo = Math.min(lo, s.xs[0]!);
      hi = Math.max(hi, s.xs[s.xs.length - 1]!);
    }
    if (!Number.isFinite(lo)) return [0, 1];
    return hi > lo ? [lo, hi] : [lo - 1, hi + 1];
  }

  private readonly blocks = new WeakMap<object, MinMaxBlocks>();

  private visible(s: ChartSeries, x0: number, x1: number): number[] {
    const cols = Math.max(16, Math.floor(this.width - PAD.left - PAD.right));
    let b = this.blocks.get(s.ys);
    if (!b) this.blocks.set(s.ys, (b = new MinMaxBlocks()));
    return downsampleMinMax(s.xs, s.ys, x0, x1, cols, b).indices;
  }

  /** From the thinned points: each bucket keeps its min and max, so the range is exact. */
  private yDomain(x0: number, x1: number, visible: number[][]): [number, number] {
    let lo = Infinity;
    let hi = -Infinity;
    this.series.forEach((s, k) => {
      for (const i of visible[k]!) {
        const x = s.xs[i]!;
        if (x < x0 || x > x1) continue;
        const y = s.ys[i];
        if (y === null || y === undefined || !Number.isFinite(y) || (this.logY && y <= 0)) continue;
        if (y < lo) lo = y;
        if (y > hi) hi = y;
      }
    });
    if (!Number.isFinite(lo)) return this.logY ? [0.1, 1] : [0, 1];
    if (this.logY) return hi > lo ? [lo, hi] : [lo / 2, hi * 2];
    const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.05 || 1;
    return [lo - pad, hi + pad];
  }

  private xToPx(x: number): number {
    const [a, b] = this.xDomain();
    return PAD.left + ((x - a) / (b - a)) * (this.width - PAD.left - PAD.right);
  }
  private pxToX(px: number): number {
    const [a, b] = this.xDomain();
    return a + ((px - PAD.left) / Math.max(1, this.width - PAD.left - PAD.right)) * (b - a);
  }
  private yToPx(y: number, d: [number, number]): number {
    const t = this.logY
      ? (Math.log10(y) - Math.log10(d[0])) / (Math.log10(d[1]) - Math.log10(d[0]))
      : (y - d[0]) / (d[1] - d[0]);
    return this.height - PAD.bottom - t * (this.height - PAD.top - PAD.bottom);
  }

  // ---- drawing --------------------------------------------------------------------------------------------------

  private draw(): void {
    this.dirty = false;
    const rect = this.element.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    this.width = Math.max(100, rect.width);
    this.height = Math.max(80, rect.height);
    if (this.canvas.width !== Math.round(this.width * dpr) || this.canvas.height !== Math.round(this.height * dpr)) {
      this.canvas.width = Math.round(this.width * dpr);
      this.canvas.height = Math.round(this.height * dpr);
      this.canvas.style.width = `${this.width}px`;
      this.canvas.style.height = `${this.height}px`;
    }
    const g = this.canvas.getContext('2d');
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, this.width, this.height);
    const fg = themeColor('--vscode-editor-foreground', '#ccc');
    const muted = themeColor('--vscode-descriptionForeground', '#999');
    const grid = themeColor('--vscode-editorWidget-border', '#444');
    const font = themeColor('--vscode-font-family', 'sans-serif');
    g.font = `11px ${font}`;
    const [x0, x1] = this.xDomain();
    const visible = this.series.map((s) => this.visible(s, x0, x1));
    const yd = this.yDomain(x0, x1, visible);

    g.fillStyle = fg;
    g.textAlign = 'left';
    g.textBaseline = 'top';
    g.fillText(this.title, PAD.left, 4);
    g.strokeStyle = grid;
    g.lineWidth = 1;
    g.fillStyle = muted;
    g.textBaseline = 'middle';
    g.textAlign = 'right';
    for (const t of niceTicks(yd[0], yd[1], 4, this.logY)) {
      const y = Math.round(this.yToPx(t, yd)) + 0.5;
      g.globalAlpha = 0.4;
      g.beginPath();
      g.moveTo(PAD.left, y);
      g.lineTo(this.width - PAD.right, y);
      g.stroke();
      g.globalAlpha = 1;
      g.fillText(formatValue(t), PAD.left - 4, y);
    }
    g.textAlign = 'center';
    g.textBaseline = 'top';
    for (const t of niceTicks(x0, x1, Math.max(2, Math.floor(this.width / 90)))) {
      g.fillText(formatValue(t), this.xToPx(t), this.height - PAD.bottom + 4);
    }
    g.textAlign = 'right';
    g.fillText(this.xLabel, this.width - PAD.right, this.height - 12);

    g.save();
    g.beginPath();
    g.rect(PAD.left, PAD.top - 2, this.width - PAD.left - PAD.right, this.height - PAD.top - PAD.bottom + 4);
    g.clip();
    this.series.forEach((s, k) => {
      const idx = visible[k]!;
      g.strokeStyle = s.color;
      g.fillStyle = s.color;
      g.globalAlpha = s.faint ? 0.3 : 1;
      g.lineWidth = s.faint ? 1 : 1.6;
      if (s.faint && idx.length > this.width - PAD.left - PAD.right) {
        // A dense raw line is a band anyway: one filled 1-px bar per pixel column from its min to its max
        // rasterises far faster than thousands of anti-aliased segments, and looks the same.
        this.drawBand(g, s, idx, yd);
        return;
      }
      g.beginPath();
      let pen = false;
      for (const i of idx) {
        const y = s.ys[i];
        if (y === null || y === undefined || !Number.isFinite(y) || (this.logY && y <= 0)) {
          pen = false;
          continue;
        }
        const px = this.xToPx(s.xs[i]!);
        const py = this.yToPx(y, yd);
        if (pen) g.lineTo(px, py);
        else g.moveTo(px, py);
        pen = true;
      }
      g.stroke();
      if (s.dots)
        for (const i of idx) {
          const y = s.ys[i];
          if (y === null || y === undefined || !Number.isFinite(y)) continue;
          g.beginPath();
          g.arc(this.xToPx(s.xs[i]!), this.yToPx(y, yd), 2.5, 0, Math.PI * 2);
          g.fill();
        }
    });
    g.globalAlpha = 1;
    for (const m of this.markers) {
      if (m.x < x0 || m.x > x1) continue;
      const px = Math.round(this.xToPx(m.x)) + 0.5;
      g.strokeStyle = m.color;
      g.setLineDash([4, 3]);
      g.beginPath();
      g.moveTo(px, PAD.top);
      g.lineTo(px, this.height - PAD.bottom);
      g.stroke();
      g.setLineDash([]);
      g.fillStyle = m.color;
      g.textAlign = 'left';
      g.textBaseline = 'top';
      g.fillText(m.label, px + 3, PAD.top);
    }
    if (this.drag) {
      const a = this.xToPx(this.drag.from);
      const b = this.xToPx(this.drag.to);
      g.fillStyle = themeColor('--vscode-editor-selectionBackground', 'rgba(80,120,200,0.3)');
      g.globalAlpha = 0.5;
      g.fillRect(Math.min(a, b), PAD.top, Math.abs(b - a), this.height - PAD.top - PAD.bottom);
      g.globalAlpha = 1;
    }
    if (this.hoverX !== undefined) {
      const px = Math.round(this.xToPx(this.hoverX)) + 0.5;
      g.strokeStyle = muted;
      g.beginPath();
      g.moveTo(px, PAD.top);
      g.lineTo(px, this.height - PAD.bottom);
      g.stroke();
    }
    g.restore();
  }

  private drawBand(g: CanvasRenderingContext2D, s: ChartSeries, idx: number[], yd: [number, number]): void {
    g.beginPath();
    let col = NaN;
    let lo = 0;
    let hi = 0;
    const flush = () => {
      if (!Number.isNaN(col)) g.rect(col, hi, 1, Math.max(1, lo - hi));
    };
    for (const i of idx) {
      const y = s.ys[i];
      if (y === null || y === undefined || !Number.isFinite(y) || (this.logY && y <= 0)) continue;
      const c = Math.floor(this.xToPx(s.xs[i]!));
      const py = this.yToPx(y, yd);
      if (c !== col) {
        flush();
        col = c;
        lo = hi = py;
      } else {
        if (py > lo) lo = py;
        if (py < hi) hi = py;
      }
    }
    flush();
    g.fill();
  }

  private onMove(e: MouseEvent): void {
    const x = this.pxToX(e.offsetX);
    if (this.drag) {
      this.drag.to = x;
      this.invalidate();
      return;
    }
    let best: number | undefined;
    const lines: HTMLElement[] = [];
    for (const s of this.series) {
      const i = nearestIndex(s.xs, x);
      if (i < 0) continue;
      if (best === undefined || Math.abs(s.xs[i]! - x) < Math.abs(best - x)) best = s.xs[i]!;
    }
    if (best === undefined) return;
    for (const s of this.series) {
      if (s.quiet) continue;
      const i = nearestIndex(s.xs, best);
      if (i < 0 || s.xs[i] !== best) continue;
      const swatch = h('span', { class: 'swatch' });
      swatch.style.background = s.color;
      lines.push(h('div', {}, swatch, `${s.label}: ${formatValue(s.ys[i])}`));
    }
    this.hoverX = best;
    this.tip.replaceChildren(h('div', { class: 'tip-x' }, `${this.xLabel} ${formatValue(best)}`), ...lines);
    this.tip.hidden = false;
    const left = Math.min(e.offsetX + 12, this.width - 180);
    this.tip.style.left = `${Math.max(0, left)}px`;
    this.tip.style.top = `${PAD.top}px`;
    this.invalidate();
  }

  toPng(): string {
    return this.canvas.toDataURL('image/png');
  }

  /** The current view as standalone SVG (explicit colours, since the file leaves VS Code's theme behind). */
  toSvg(): string {
    const W = this.width;
    const H = this.height;
    const [x0, x1] = this.xDomain();
    const visible = this.series.map((s) => this.visible(s, x0, x1));
    const yd = this.yDomain(x0, x1, visible);
    const esc = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
    const parts: string[] = [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    ];
    parts.push(`<text x="${PAD.left}" y="14">${esc(this.title)}</text>`);
    for (const t of niceTicks(yd[0], yd[1], 4, this.logY)) {
      const y = this.yToPx(t, yd).toFixed(1);
      parts.push(
        `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y}" y2="${y}" stroke="#ccc"/><text x="${PAD.left - 4}" y="${y}" text-anchor="end" dominant-baseline="middle">${formatValue(t)}</text>`,
      );
    }
    for (const t of niceTicks(x0, x1, Math.max(2, Math.floor(W / 90)))) {
      parts.push(
        `<text x="${this.xToPx(t).toFixed(1)}" y="${H - PAD.bottom + 14}" text-anchor="middle">${formatValue(t)}</text>`,
      );
    }
    parts.push(`<text x="${W - PAD.right}" y="${H - 4}" text-anchor="end">${esc(this.xLabel)}</text>`);
    this.series.forEach((s, k) => {
      let d = '';
      let pen = false;
      for (const i of visible[k]!) {
        const y = s.ys[i];
        if (y === null || y === undefined || !Number.isFinite(y) || (this.logY && y <= 0)) {
          pen = false;
          continue;
        }
        d += `${pen ? 'L' : 'M'}${this.xToPx(s.xs[i]!).toFixed(1)},${this.yToPx(y, yd).toFixed(1)}`;
        pen = true;
      }
      parts.push(
        `<path d="${d}" fill="none" stroke="${esc(s.color)}" stroke-width="${s.faint ? 1 : 1.6}" opacity="${s.faint ? 0.3 : 1}"><title>${esc(s.label)}</title></path>`,
      );
    });
    for (const m of this.markers) {
      const x = this.xToPx(m.x).toFixed(1);
      parts.push(
        `<line x1="${x}" x2="${x}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="${esc(m.color)}" stroke-dasharray="4 3"/><text x="${x}" y="${PAD.top + 10}">${esc(m.label)}</text>`,
      );
    }
    parts.push('</svg>');
    return parts.join('\n');
  }
}
