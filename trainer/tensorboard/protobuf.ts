/**
 * The few protocol-buffer messages a TensorBoard scalar log needs, encoded by hand (tensorflow/core/util/event.proto
 * and framework/summary.proto): a dependency on a protobuf runtime for three messages would weigh more than this.
 *
 *   Event      { double wall_time = 1; int64 step = 2; oneof { string file_version = 3; Summary summary = 5;
 *                SessionLog session_log = 7; } }
 *   Summary    { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
 *   SessionLog { SessionStatus status = 1; }  (START = 1)
 */

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

/** Appends protobuf fields to a growing list of chunks. */
class Encoder {
  private readonly chunks: Uint8Array[] = [];

  private varint(v: bigint): void {
    const out: number[] = [];
    // int64 is encoded as its two's complement in 64 bits (a negative step takes ten bytes).
    let x = BigInt.asUintN(64, v);
    while (x >= 0x80n) {
      out.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    out.push(Number(x));
    this.chunks.push(Uint8Array.from(out));
  }

  private key(field: number, wire: number): void {
    this.varint(BigInt((field << 3) | wire));
  }

  double(field: number, v: number): this {
    this.key(field, WIRE_FIXED64);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.chunks.push(b);
    return this;
  }

  float(field: number, v: number): this {
    this.key(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.chunks.push(b);
    return this;
  }

  int64(field: number, v: number): this {
    this.key(field, WIRE_VARINT);
    this.varint(BigInt(Math.trunc(v)));
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.key(field, WIRE_BYTES);
    this.varint(BigInt(b.length));
    this.chunks.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  finish(): Uint8Array {
    return Buffer.concat(this.chunks);
  }
}

export interface Scalar {
  tag: string;
  value: number;
}

const EVENT = { wallTime: 1, step: 2, fileVersion: 3, summary: 5, sessionLog: 7 } as const;
const SESSION_START = 1;

/** The first event of every file: TensorBoard reads a file only after `brain.Event:2`. */
export function fileVersionEvent(wallTime: number): Uint8Array {
  return new Encoder().double(EVENT.wallTime, wallTime).string(EVENT.fileVersion, 'brain.Event:2').finish();
}

/** One event holding several scalars at a step (one Summary with a Value each). */
export function scalarsEvent(wallTime: number, step: number, scalars: readonly Scalar[]): Uint8Array {
  const summary = new Encoder();
  for (const s of scalars) summary.bytes(1, new Encoder().string(1, s.tag).float(2, s.value).finish());
  return new Encoder()
    .double(EVENT.wallTime, wallTime)
    .int64(EVENT.step, step)
    .bytes(EVENT.summary, summary.finish())
    .finish();
}

/**
 * SessionLog START at `step`: TensorBoard drops what earlier files logged at this step and after, as
 * `SummaryWriter(purge_step=...)` asks it to when a run restarts from a checkpoint.
 */
export function sessionStartEvent(wallTime: number, step: number): Uint8Array {
  const log = new Encoder().int64(1, SESSION_START).finish();
  return new Encoder().double(EVENT.wallTime, wallTime).int64(EVENT.step, step).bytes(EVENT.sessionLog, log).finish();
}
