/**
 * The Hub options of a run: the config's `model.revision`, and downloads reported as protocol `download`
 * messages, a few per second per file at most (a 440 MB model arrives in thousands of chunks), plus the last one.
 */
import type { ModelConfig } from '../../common/config/schema';
import type { TrainerMessage } from '../../common/protocol';
import type { HubOptions } from './hub';
import type { DownloadProgress } from './hubClient';

const REPORT_EVERY_MS = 250;

export interface RunHubOptions {
  /** For `name_or_path`. */
  model: HubOptions;
  /** For the tokenizer: the model's revision only when it is the model's own tokenizer. */
  tokenizer: HubOptions;
}

export function runHubOptions(model: ModelConfig, emit: (m: TrainerMessage) => void, now = Date.now): RunHubOptions {
  const onProgress = throttledProgress(emit, now);
  const revision = model.revision !== undefined ? { revision: model.revision } : {};
  const ownTokenizer = model.tokenizer === undefined || model.tokenizer === model.name_or_path;
  return { model: { ...revision, onProgress }, tokenizer: { ...(ownTokenizer ? revision : {}), onProgress } };
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
