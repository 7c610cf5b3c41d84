/**
 * Reading a user's data file without trusting what the path points at. A `train_file` may be a symlink to
 * /dev/zero, a FIFO or a socket, or simply larger than memory: every read here opens the file without
 * blocking, checks with fstat that it is a regular file, and reads at most a stated number of bytes, in chunks,
 * so that the language server's event loop keeps turning and a caller's AbortSignal stops the read.
 */
import { constants, promises as fs } from 'node:fs';
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { FineTuneError } from '../../common/errors';

/**
 * The largest data file the trainer reads whole: V8 cannot hold a string much longer than 2^29 characters, and
 * the rows built from it cost a few times the file again.
 */
export const MAX_DATA_FILE_BYTES = 512 * 1024 * 1024;

/** One read call's size: large enough that a 1 MiB sample is one trip to the thread pool. */
const CHUNK = 1024 * 1024;

export interface Prefix {
  bytes: Uint8Array;
  /** True when the bytes are the whole file. */
  complete: boolean;
}

/** The first `maxBytes` of a regular file, read in chunks; the signal stops it between chunks. */
export async function readPrefix(file: string, maxBytes: number, signal?: AbortSignal): Promise<Prefix> {
  return withRegularFile(file, signal, async (handle) => {
    const buf = new Uint8Array(maxBytes + 1);
    let filled = 0;
    // One byte past the budget tells a file of exactly maxBytes from a longer one.
    while (filled < buf.length) {
      throwIfAborted(signal, file);
      const { bytesRead } = await handle.read(buf, filled, Math.min(CHUNK, buf.length - filled), filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    const complete = filled <= maxBytes;
    return { bytes: buf.subarray(0, Math.min(filled, maxBytes)), complete };
  });
}

/** The whole file, refused with a clear error when it is over `maxBytes` (the trainer's read). */
export async function readWhole(file: string, maxBytes = MAX_DATA_FILE_BYTES): Promise<Uint8Array> {
  return withRegularFile(file, undefined, async (handle) => {
    const { size } = await handle.stat();
    if (size > maxBytes) throw tooLarge(file, size, maxBytes);
    const { bytes, complete } = await readChunks(handle, size, maxBytes);
    // The file grew between fstat and the read (a log still being written): refuse rather than cut a row.
    if (!complete) throw tooLarge(file, bytes.length + 1, maxBytes);
    return bytes;
  });
}

/**
 * The last `bytes` bytes of a file and its size (a Parquet footer): never more than that is read, whatever the
 * file's size.
 */
export async function readTail(file: string, bytes: number): Promise<{ tail: Uint8Array; size: number }> {
  return withRegularFile(file, undefined, async (handle) => {
    const { size } = await handle.stat();
    const length = Math.min(size, bytes);
    const tail = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await handle.read(tail, filled, length - filled, size - length + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return { tail: tail.subarray(0, filled), size };
  });
}

async function readChunks(handle: FileHandle, size: number, maxBytes: number): Promise<Prefix> {
  let buf = new Uint8Array(Math.min(size, maxBytes) + 1);
  let filled = 0;
  for (;;) {
    if (filled === buf.length) {
      if (buf.length > maxBytes) return { bytes: buf.subarray(0, filled), complete: false };
      const grown = new Uint8Array(Math.min(buf.length * 2, maxBytes + 1));
      grown.set(buf);
      buf = grown;
    }
    const { bytesRead } = await handle.read(buf, filled, Math.min(CHUNK * 16, buf.length - filled), filled);
    if (bytesRead === 0) return { bytes: buf.subarray(0, filled), complete: true };
    filled += bytesRead;
  }
}

async function withRegularFile<T>(
  file: string,
  signal: AbortSignal | undefined,
  use: (h: FileHandle) => Promise<T>,
): Promise<T> {
  throwIfAborted(signal, file);
  await checkRegular(file, () => fs.stat(file));
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, holding a libuv thread for good.
  const handle = await fs.open(file, constants.O_RDONLY | constants.O_NONBLOCK).catch((e: unknown) => {
    throw unreadable(file, e);
  });
  try {
    // Checked again on the open file: the path may have been swapped since the stat.
    await checkRegular(file, () => handle.stat());
    return await use(handle);
  } finally {
    await handle.close();
  }
}

async function checkRegular(file: string, stat: () => Promise<Stats>): Promise<void> {
  let s: Stats;
  try {
    s = await stat();
  } catch (e) {
    throw unreadable(file, e);
  }
  if (s.isFile()) return;
  const kind = s.isDirectory()
    ? 'a folder'
    : s.isFIFO()
      ? 'a named pipe (FIFO)'
      : s.isCharacterDevice() || s.isBlockDevice()
        ? 'a device'
        : s.isSocket()
          ? 'a socket'
          : 'not a regular file';
  throw new FineTuneError('data-not-a-file', `${file} is ${kind}, not a data file`, {
    file,
    fix: 'Point the config at a regular CSV, TSV, JSONL or JSON file (a symlink to one is fine).',
  });
}

export function throwIfAborted(signal: AbortSignal | undefined, file: string): void {
  if (signal?.aborted) {
    throw new FineTuneError('data-read-cancelled', `reading ${file} was cancelled`, { file });
  }
}

function tooLarge(file: string, size: number, maxBytes: number): FineTuneError {
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MiB`;
  return new FineTuneError('data-too-large', `${file} is ${mb(size)}, over the ${mb(maxBytes)} a data file may have`, {
    file,
    detail: 'The trainer reads a data file whole into memory before tokenizing it.',
    fix: 'Split the file into smaller ones, or sample it, and point train_file at one of them.',
  });
}

export function unreadable(file: string, e: unknown): FineTuneError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const missing = code === 'ENOENT' || code === 'ENOTDIR';
  return new FineTuneError(
    missing ? 'data-not-found' : 'data-unreadable',
    missing ? `${file} does not exist` : `cannot read ${file}`,
    {
      file,
      detail: e instanceof Error ? e.message : String(e),
      ...(missing ? { fix: 'Check the path in the config; relative paths are relative to the config file.' } : {}),
    },
  );
}
