/**
 * A Hub download as the editor shows it (the run's status bar item, the metrics panel's progress bar), folded from
 * the trainer's `download` messages: the file in flight, or none once it is complete, training has begun or the
 * run has ended. One module for the extension host and the webview, so both say the same thing.
 */
import { count, obj, str, type Infer } from './guard';
import type { TrainerMessage } from './protocol';

export const downloadState = obj({ repo: str, file: str, bytes: count, total: count });
export type DownloadState = Infer<typeof downloadState>;

/** The download in flight after `m`; the same object when `m` changes nothing. */
export function downloadAfter(prev: DownloadState | undefined, m: TrainerMessage): DownloadState | undefined {
  switch (m.type) {
    case 'download':
      return m.bytes < m.total ? { repo: m.repo, file: m.file, bytes: m.bytes, total: m.total } : undefined;
    case 'model':
    case 'step':
    case 'done':
      return undefined;
    case 'error':
      return m.fatal ? undefined : prev;
    default:
      return prev;
  }
}

/** Whole percent, never 100 before the last byte. */
export function downloadPercent(d: DownloadState): number {
  if (d.total <= 0) return 100;
  return Math.min(d.bytes < d.total ? 99 : 100, Math.floor((100 * d.bytes) / d.total));
}

/** `120/440 MB`: both numbers in the total's unit (decimal, as the Hub shows file sizes). */
export function formatDownloadedBytes(d: DownloadState): string {
  const [div, unit, digits] =
    d.total >= 1e9 ? [1e9, 'GB', 2] : d.total >= 1e6 ? [1e6, 'MB', 0] : d.total >= 1e3 ? [1e3, 'kB', 0] : [1, 'B', 0];
  return `${(d.bytes / div).toFixed(digits)}/${(d.total / div).toFixed(digits)} ${unit}`;
}

/** `↓ model.safetensors 120/440 MB` for the status bar. */
export function downloadStatusText(d: DownloadState): string {
  return `↓ ${d.file} ${formatDownloadedBytes(d)}`;
}

/** `Downloading bert-base-uncased: model.safetensors, 120/440 MB (27%)` for the panel and tooltips. */
export function downloadDescription(d: DownloadState): string {
  return `Downloading ${d.repo}: ${d.file}, ${formatDownloadedBytes(d)} (${downloadPercent(d)}%)`;
}
