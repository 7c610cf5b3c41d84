/**
 * The run folder `<config dir>/<output_dir>/<run-id>/` as a format: the names of its files, and the bounded read
 * that every reader of them goes through. The trainer writes these files; the extension, its panels and the CLI
 * read them, so each is declared once here (run.json in runJson.ts, trainer_state.json in trainerState.ts,
 * checkpoint folders in checkpoints.ts, metrics.jsonl in metricsLog.ts).
 */
import { promises as fs } from 'node:fs';
import { FineTuneError } from '../errors';

export const RUN_JSON = 'run.json';
export const METRICS_JSONL = 'metrics.jsonl';
export const TRAIN_LOG = 'train.log';
export const RESOLVED_CONFIG = 'config.resolved.yaml';
export const TRAINER_STATE_JSON = 'trainer_state.json';

/**
 * Reads a whole text file of at most `maxBytes`; a larger one (or a FIFO, a device) is refused rather than read,
 * since these files may come from another machine or be edited by hand.
 */
export async function readTextBounded(file: string, maxBytes: number): Promise<string> {
  const handle = await fs.open(file, 'r');
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw tooBig(file, `it is not a regular file`);
    if (st.size > maxBytes) throw tooBig(file, `it has ${st.size} bytes; at most ${maxBytes} are read`);
    const buf = Buffer.alloc(st.size);
    let at = 0;
    while (at < buf.length) {
      const { bytesRead } = await handle.read(buf, at, buf.length - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return buf.subarray(0, at).toString('utf8');
  } finally {
    await handle.close();
  }
}

function tooBig(file: string, why: string): FineTuneError {
  return new FineTuneError('run-file-too-large', `${file} cannot be read: ${why}`, {
    file,
    fix: 'Check that the file belongs to a Fine-Tune Studio run folder and was not replaced.',
  });
}
