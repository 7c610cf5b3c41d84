/**
 * Random-access bytes for the PyTorch checkpoint reader: a file read piece by piece (a 1.3 GB BERT-large is never
 * held twice, and a pickle's claims are checked against the file's size before anything is allocated), or a buffer
 * (tests, fuzzing). Every read is bounded by the source's size; a short read is an error, not zeros.
 */
import { promises as fs } from 'node:fs';
import { FineTuneError } from '../../../common/errors';

export interface ByteSource {
  /** Names the file in errors. */
  readonly name: string;
  readonly size: number;
  /** Exactly `length` bytes from `offset`, into `into` when given (a typed array's bytes). */
  read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

export function bufferSource(bytes: Uint8Array, name = '<buffer>'): ByteSource {
  return {
    name,
    size: bytes.length,
    async read(offset, length, into) {
      checkRange(name, bytes.length, offset, length);
      const piece = bytes.subarray(offset, offset + length);
      if (into === undefined) return piece;
      into.set(piece);
      return into;
    },
    async close() {},
  };
}

export async function fileSource(file: string): Promise<ByteSource> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FineTuneError(
      code === 'ENOENT' ? 'file-not-found' : 'file-unreadable',
      code === 'ENOENT' ? `${file} does not exist` : `cannot read ${file}`,
      { file, detail: e instanceof Error ? e.message : String(e), cause: e },
    );
  }
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw new FineTuneError('file-unreadable', `${file} is not a regular file`, { file });
  }
  const size = stat.size;
  return {
    name: file,
    size,
    async read(offset, length, into) {
      checkRange(file, size, offset, length);
      const out = into ?? new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, length - done, offset + done);
        // The file shrank under us (a download rewriting it): refuse rather than hand back zeros.
        if (bytesRead === 0) throw truncatedWhileReading(file, offset + done);
        done += bytesRead;
      }
      return out;
    },
    close: () => handle.close(),
  };
}

function checkRange(name: string, size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new RangeError(`bad read of ${name}: offset ${offset}, length ${length}`);
  }
  if (offset + length > size) throw truncatedWhileReading(name, size);
}

function truncatedWhileReading(name: string, at: number): FineTuneError {
  return new FineTuneError('torch-corrupt', `${name} ends at byte ${at}, before the data it describes`, {
    file: name,
    fix: 'The file is truncated (an interrupted download or copy); download or save it again.',
  });
}
