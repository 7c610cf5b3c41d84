/**
 * A TensorBoard event file: TFRecord records (`uint64 length, uint32 masked_crc32c(length), data,
 * uint32 masked_crc32c(data)`, little-endian) each holding one `Event`. Every record is appended (open, write,
 * close: no descriptor outlives a call, whatever ends the run) at once, so that a TensorBoard watching the folder shows a run as it trains and a killed trainer loses
 * nothing it logged. One file per process, named as TensorFlow names them, never reopened: a resumed run gets
 * a file of its own beside the first, as TensorBoard expects.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { maskedCrc32c } from './crc32c';
import { fileVersionEvent, scalarsEvent, sessionStartEvent } from './protobuf';
import type { Scalar } from './protobuf';

/** `events.out.tfevents.<unix seconds>.<hostname>.<pid>.0`, as tf.summary and torch's SummaryWriter name them. */
export function eventFileName(now = new Date(), host = os.hostname(), pid = process.pid): string {
  // A host name is free text to the OS: keep the file name a plain name whatever it holds.
  const safeHost = host.replace(/[^\w.-]+/g, '_') || 'localhost';
  return `events.out.tfevents.${Math.floor(now.getTime() / 1000)}.${safeHost}.${pid}.0`;
}

/** One TFRecord: the framing around `data`. */
export function tfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

export class EventFileWriter {
  readonly file: string;

  /**
   * Creates the file in `dir` and writes its version record. With `purgeFrom`, a SessionLog START at that step
   * follows: TensorBoard then drops the steps from there on that earlier files of the run logged.
   */
  constructor(dir: string, options: { purgeFrom?: number; now?: Date } = {}) {
    const now = options.now ?? new Date();
    this.file = path.join(dir, eventFileName(now));
    const wall = now.getTime() / 1000;
    const first = [tfRecord(fileVersionEvent(wall))];
    if (options.purgeFrom !== undefined) first.push(tfRecord(sessionStartEvent(wall, options.purgeFrom)));
    // 'wx': a file of this name belongs to another process (same second, same pid after a reboot): never append.
    writeFileSync(this.file, Buffer.concat(first), { flag: 'wx' });
  }

  /** Appends one event with `scalars` at `step`, written through before this returns. */
  scalars(step: number, scalars: readonly Scalar[], now = Date.now()): void {
    if (scalars.length) appendFileSync(this.file, tfRecord(scalarsEvent(now / 1000, step, scalars)));
  }
}
