/**
 * How the CLI shows protocol messages: on a terminal one progress line redrawn in place (loss, accuracy,
 * learning rate, samples/s, ETA) with evaluations and checkpoints printed above it; elsewhere one plain line
 * per message, so logs of CI runs stay readable.
 */
import { formatCount } from '../common/moduleTree';
import { plural } from '../common/plural';
import type { TrainerMessage, TrainerMessageOf } from '../common/protocol';

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '--:--';
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return h ? `${h}:${pad(m)}:${pad(sec)}` : `${pad(m)}:${pad(sec)}`;
}

function formatBytes(n: number): string {
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} kB`;
  return n < 1024 ** 3 ? `${(n / 1024 ** 2).toFixed(1)} MB` : `${(n / 1024 ** 3).toFixed(2)} GB`;
}

const fmt = (x: number | null | undefined, digits = 4) =>
  x === null || x === undefined ? 'n/a' : Number(x.toPrecision(digits)).toString();

export class ProgressView {
  private total = 0;
  private lastAccuracy: number | undefined;
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly tty: boolean,
  ) {}

  /** Prints a line above the progress bar. */
  private line(s: string): void {
    this.clear();
    this.out.write(s + '\n');
  }

  clear(): void {
    if (this.tty && this.drawn) {
      this.out.write('\r\x1b[2K');
      this.drawn = false;
    }
  }

  private bar(step: number, text: string, total = this.total): void {
    const width = 24;
    const frac = total ? Math.min(1, step / total) : 0;
    const filled = Math.round(frac * width);
    const pct = `${Math.floor(frac * 100)}%`.padStart(4);
    this.out.write(`\r\x1b[2K[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${pct} ${text}`);
    this.drawn = true;
  }

  message(m: TrainerMessage): void {
    switch (m.type) {
      case 'hello':
        this.line(`backend: ${m.backend.name} (${m.backend.reason})`);
        break;
      case 'plan':
        this.total = m.totalSteps;
        this.line(
          `run ${m.runId}: ${m.mode} ${m.task}, ${m.trainExamples} training / ${plural(m.evalExamples, 'validation example')}, ${plural(m.totalSteps, 'step')}${m.resumedFromStep !== undefined ? `, resumed at step ${m.resumedFromStep}` : ''}`,
        );
        this.line(`  folder: ${m.runDir}`);
        break;
      case 'model':
        this.line(
          `model: ${formatCount(m.total)} parameters, ${formatCount(m.trainable)} trainable${m.newlyInitialized.length && m.newlyInitialized.length < 10 ? `; newly initialised: ${m.newlyInitialized.join(', ')}` : ''}`,
        );
        break;
      case 'step': {
        const parts = [`step ${m.step}/${this.total}`, `loss ${fmt(m.loss)}`];
        if (this.lastAccuracy !== undefined) parts.push(`acc ${fmt(this.lastAccuracy, 3)}`);
        parts.push(
          `lr ${m.learningRate.toExponential(2)}`,
          `${m.samplesPerSecond.toFixed(0)} samples/s`,
          `ETA ${formatDuration(m.etaMs)}`,
        );
        if (this.tty) this.bar(m.step, parts.join(' · '));
        else this.line(parts.join('  '));
        break;
      }
      case 'eval': {
        if (m.split === 'validation' && m.metrics.accuracy !== undefined) this.lastAccuracy = m.metrics.accuracy;
        const metrics = Object.entries(m.metrics)
          .map(([k, v]) => `${k} ${fmt(v)}`)
          .join('  ');
        this.line(
          `${m.split === 'test' ? 'test' : 'eval'} @ step ${m.step}: ${metrics}${m.isBest ? '  (best so far)' : ''}`,
        );
        break;
      }
      case 'checkpoint':
        this.line(
          `saved ${m.path}${m.isBest ? ' (best)' : ''}${m.deleted.length ? `; removed ${m.deleted.length} older` : ''}`,
        );
        break;
      case 'download':
        this.download(m);
        break;
      case 'log':
        this.line(`${m.level === 'info' ? '' : `${m.level}: `}${m.message}`);
        break;
      case 'done':
        this.line(
          `${m.status} at step ${m.step} in ${formatDuration(m.elapsedMs)}${m.bestMetric !== undefined ? `; best metric ${fmt(m.bestMetric)}` : ''}`,
        );
        if (m.bestCheckpoint) this.line(`  best checkpoint: ${m.bestCheckpoint}`);
        if (m.lastCheckpoint) this.line(`  last checkpoint: ${m.lastCheckpoint}`);
        break;
      default:
        break;
    }
  }

  /** A Hub download: the bar on a terminal, elsewhere one line when a file is done. */
  private download(m: TrainerMessageOf<'download'>): void {
    if (m.bytes >= m.total) this.line(`downloaded ${m.repo}: ${m.file} (${formatBytes(m.total)})`);
    else if (this.tty) {
      this.bar(m.bytes, `downloading ${m.repo}: ${m.file} ${formatBytes(m.bytes)} / ${formatBytes(m.total)}`, m.total);
    }
  }

  /** `evaluate`'s answer: the metrics, then precision, recall and F1 per class. */
  evaluation(value: unknown): void {
    const v = value as Record<string, unknown>;
    const metrics = (v.metrics ?? {}) as Record<string, number>;
    this.line(
      `${plural(Number(v.examples), 'example')}: ${Object.entries(metrics)
        .map(([k, x]) => `${k} ${fmt(x)}`)
        .join('  ')}`,
    );
    const per = v.perClass as
      { label: string; precision: number; recall: number; f1: number; support: number }[] | undefined;
    if (per) {
      this.line(`  ${'label'.padEnd(20)} precision  recall  f1      support`);
      for (const p of per)
        this.line(
          `  ${p.label.padEnd(20)} ${p.precision.toFixed(3).padEnd(10)} ${p.recall.toFixed(3).padEnd(7)} ${p.f1.toFixed(3).padEnd(7)} ${p.support}`,
        );
    }
  }
}
