/**
 * The Hub options of a run: the config's `model.revision`, and downloads reported as protocol `download`
 * messages, a few per second per file at most (a 440 MB model arrives in thousands of chunks), plus the last one.
 */
import type { ModelConfig } from '../../common/config/schema';
import type { TrainerMessage } from '../../common/protocol';
import type { HubOptions } from './hub';
import type { DownloadProgress } from './hubClient';

const REPORT_EVERY_MS = 250;

const CONTROL_POLL_MS = 200;

export interface RunHubOptions {
  /** For `name_or_path`. */
  model: HubOptions;
  /** For the tokenizer: the model's revision only when it is the model's own tokenizer. */
  tokenizer: HubOptions;
  /** Stops watching the run's stop/cancel flags (call once the model is loaded). */
  dispose: () => void;
}

/** The host's stop and cancel flags, set between steps; during a download they abort it. */
export interface StopFlags {
  stop: boolean;
  cancel: boolean;
}

export function runHubOptions(
  model: ModelConfig,
  emit: (m: TrainerMessage) => void,
  control?: StopFlags,
  now = Date.now,
): RunHubOptions {
  const onProgress = throttledProgress(emit, now);
  const revision = model.revision !== undefined ? { revision: model.revision } : {};
  const ownTokenizer = model.tokenizer === undefined || model.tokenizer === model.name_or_path;
  const { signal, dispose } = abortOnStop(control);
  const common = { onProgress, ...(signal ? { signal } : {}) };
  return { model: { ...revision, ...common }, tokenizer: { ...(ownTokenizer ? revision : {}), ...common }, dispose };
}

/** The flags are plain fields the protocol loop sets, so they are polled; what was downloaded is kept. */
function abortOnStop(control: StopFlags | undefined): { signal?: AbortSignal; dispose: () => void } {
  if (control === undefined) return { dispose: () => undefined };
  const ac = new AbortController();
  const timer = setInterval(() => {
    if (control.stop || control.cancel) ac.abort();
  }, CONTROL_POLL_MS);
  timer.unref();
  return { signal: ac.signal, dispose: () => clearInterval(timer) };
}

export function throttledProgress(emit: (m: TrainerMessage) => void, now = Date.now): (p: DownloadProgress) => void {
  const last = new Map<string, number>();
  return (p) => {
    const key = `${p.repo}\u0000${p.file}`;
    const t = now();
    const seen = last.get(key);
    if (p.bytes < p.total && seen !== undefined && t - seen < REPORT_EVERY_MS) return;
    last.set(key, t);
    emit({ type: 'download', repo: p.repo, file: p.file, bytes: p.bytes, total: p.total });
  };
}
