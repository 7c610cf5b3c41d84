/**
 * `predict --file`: one text per line of a UTF-8 file, read with bounds (a regular file only, at most
 * MAX_TEXT_FILE_BYTES and MAX_TEXT_LINES non-empty lines), so that `/dev/zero` or a 5 GB log is refused with a
 * message instead of filling memory.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FineTuneError } from '../../common/errors';

export const MAX_TEXT_FILE_BYTES = 16 * 1024 * 1024;
export const MAX_TEXT_LINES = 100_000;

function problem(code: string, file: string, message: string, fix: string): FineTuneError {
  return new FineTuneError(code, message, { file, fix });
}

export async function readTextLines(
  file: string,
  limits = { bytes: MAX_TEXT_FILE_BYTES, lines: MAX_TEXT_LINES },
): Promise<string[]> {
  const abs = path.resolve(file);
  const handle = await fs.open(abs, 'r').catch((e: NodeJS.ErrnoException) => {
    const missing = e.code === 'ENOENT';
    throw problem(
      missing ? 'path-not-found' : 'data-unreadable',
      abs,
      missing ? `no such file: ${abs}` : `cannot read ${abs}: ${e.message}`,
      'Give --file a text file with one text per line (relative to the working directory).',
    );
  });
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      throw problem('data-not-a-file', abs, `${abs} is not a regular file`, 'Give --file a text file.');
    }
    // One byte past the limit tells "at the limit" from "above it", even if the file grows meanwhile.
    const buffer = Buffer.alloc(Math.min(stat.size, limits.bytes) + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > limits.bytes) {
      const mb = (limits.bytes / 2 ** 20).toFixed(0);
      throw problem('data-too-large', abs, `${abs} is larger than ${mb} MiB`, 'Split it into smaller files.');
    }
    const lines = buffer
      .subarray(0, bytesRead)
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .split(/\r\n|\r|\n/)
      .filter((l) => l.trim() !== '');
    if (!lines.length) throw problem('data-empty', abs, `${abs} has no text`, 'Write one text per line.');
    if (lines.length > limits.lines) {
      throw problem(
        'data-too-large',
        abs,
        `${abs} has more than ${limits.lines} lines`,
        'Split it into smaller files.',
      );
    }
    return lines;
  } finally {
    await handle.close();
  }
}
