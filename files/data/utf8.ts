/**
 * Strict UTF-8 decoding of data files, so that a Latin-1 or UTF-16 file is reported with the line to fix instead
 * of being read as mojibake. Works on a whole file or on a prefix cut anywhere (even inside a character).
 */
import { isUtf8 } from 'node:buffer';
import { FineTuneError } from '../../common/errors';

const SAVE_AS_UTF8 =
  'Save the file as UTF-8 (in VS Code: the encoding in the status bar, then "Save with Encoding" > UTF-8).';

/** Decodes strictly and drops a leading BOM. `complete: false` allows the bytes to end inside a character. */
export function decodeUtf8(bytes: Uint8Array, file: string, complete = true): string {
  const whole = complete ? bytes : bytes.subarray(0, bytes.length - cutCharacter(bytes));
  // isUtf8 and toString are native and linear; TextDecoder's fatal mode costs several times more on large files.
  const buf = Buffer.from(whole.buffer, whole.byteOffset, whole.byteLength);
  if (!isUtf8(buf)) {
    if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
      throw new FineTuneError(
        'data-not-utf8',
        `${file} is UTF-16 (it starts with a UTF-16 byte order mark), not UTF-8`,
        {
          file,
          line: 1,
          fix: SAVE_AS_UTF8,
        },
      );
    }
    const { line, column } = firstInvalidUtf8(whole);
    throw new FineTuneError('data-not-utf8', `line ${line} has bytes that are not valid UTF-8`, {
      file,
      line,
      column,
      fix: SAVE_AS_UTF8,
    });
  }
  const text = buf.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** How many trailing bytes are the start of a character that the end of a prefix cut off (0 to 3). */
function cutCharacter(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const b = bytes[bytes.length - back] as number;
    if (b < 0x80) return 0;
    if (b >= 0xc0) {
      const width = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return width > back ? back : 0;
    }
  }
  return 0;
}

/** Where the first invalid sequence starts, in one pass (a 50 MB line must not cost a quadratic search). */
export function firstInvalidUtf8(bytes: Uint8Array): { line: number; column: number } {
  let line = 1;
  let column = 1;
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    if (b === 0x0a || (b === 0x0d && bytes[i + 1] !== 0x0a)) {
      line++;
      column = 1;
      i++;
      continue;
    }
    const width = sequenceWidth(bytes, i);
    if (width === 0) return { line, column };
    i += width;
    column++;
  }
  return { line, column };
}

/** Bytes in the valid sequence at `i`, or 0 when it is not one (the ranges of RFC 3629, as TextDecoder checks). */
function sequenceWidth(bytes: Uint8Array, i: number): number {
  const b = bytes[i] as number;
  if (b < 0x80) return 1;
  let width: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) width = 2;
  else if (b >= 0xe0 && b <= 0xef) {
    width = 3;
    if (b === 0xe0) lo = 0xa0;
    if (b === 0xed) hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    width = 4;
    if (b === 0xf0) lo = 0x90;
    if (b === 0xf4) hi = 0x8f;
  } else return 0;
  for (let k = 1; k < width; k++) {
    const c = bytes[i + k];
    if (c === undefined) return 0;
    if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return 0;
  }
  return width;
}
