/**
 * Progress bars for several runs at once: on a terminal, one line per run redrawn in place (ANSI cursor-up);
 * elsewhere (CI logs, pipes) a plain line whenever a run crosses another quarter, so logs stay short.
 */

export interface RunProgress {
  label: string;
  step: number;
  total: number;
  loss?: number;
  valAccuracy?: number;
  samplesPerSecond?: number;
  state: 'waiting' | 'starting' | 'training' | 'done' | 'failed';
  note?: string;
}

export function bar(fraction: number, width = 24): string {
  const f = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

export function progressLine(p: RunProgress): string {
  const parts = [
    `${p.label.padEnd(22)} ${bar(p.total ? p.step / p.total : 0)} ${String(p.step).padStart(4)}/${p.total || '?'}`,
  ];
  if (p.loss !== undefined) parts.push(`loss ${p.loss.toFixed(3)}`);
  if (p.valAccuracy !== undefined) parts.push(`val acc ${(100 * p.valAccuracy).toFixed(1)}%`);
  if (p.samplesPerSecond !== undefined) parts.push(`${p.samplesPerSecond.toFixed(0)} samples/s`);
  if (p.state !== 'training') parts.push(p.note ? `${p.state}: ${p.note}` : p.state);
  return parts.join('  ');
}

export class MultiProgress {
  private drawn = 0;
  private readonly quarters = new Map<string, number>();
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly tty: boolean,
    private readonly runs: RunProgress[],
  ) {}

  update(): void {
    if (this.tty) {
      const cols = (this.out as NodeJS.WriteStream).columns ?? 120;
      let s = this.drawn ? `\x1b[${this.drawn}A` : '';
      for (const p of this.runs) s += `\x1b[2K${progressLine(p).slice(0, cols - 1)}\n`;
      this.drawn = this.runs.length;
      this.out.write(s);
      return;
    }
    for (const p of this.runs) {
      const q = p.state === 'done' || p.state === 'failed' ? 4 : p.total ? Math.floor((4 * p.step) / p.total) : 0;
      if ((this.quarters.get(p.label) ?? -1) < q && p.state !== 'waiting') {
        this.quarters.set(p.label, q);
        this.out.write(`${progressLine(p)}\n`);
      }
    }
  }
}
