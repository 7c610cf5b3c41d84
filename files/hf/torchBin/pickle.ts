/**
 * A pickle machine that can only build data. Python's unpickler imports and calls whatever a file names (that is
 * how a `.bin` runs `os.system`); this one knows the protocol-2 opcodes that `torch.save` writes for a state dict
 * and asks its host for every global, so the host's short list of tensor-describing functions is all a file can
 * reach. Any other opcode (INST, OBJ, STACK_GLOBAL, NEWOBJ, EXT*, ...) stops the machine with its byte offset.
 * Memory is linear in the pickle's size: each opcode pushes at most one value, and memo hits are references.
 */
import { FineTuneError } from '../../../common/errors';

export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}
export class PyList {
  readonly items: PyValue[] = [];
}
/** A dict or OrderedDict; keys are data, so they live in a Map. */
export class PyDict {
  readonly entries = new Map<PyKey, PyValue>();
}
/** What GLOBAL produced: a name the host accepted, callable by REDUCE when `call` is set. */
export class PyGlobal {
  constructor(
    readonly qualifiedName: string,
    readonly call?: (args: readonly PyValue[], at: number) => PyValue,
  ) {}
}
export type PyKey = string | number | bigint | boolean | null;
/** Host objects (storages, tensors) are opaque to the machine: any object outside the classes above. */
export type PyValue = PyKey | PyTuple | PyList | PyDict | PyGlobal | { readonly host: string };

export interface PickleHost {
  /** The value GLOBAL pushes for `module.name`, or a thrown refusal. */
  global(module: string, name: string, at: number): PyGlobal;
  /** What BINPERSID pushes for a persistent id (torch's storages). */
  persistentLoad(pid: PyValue, at: number): PyValue;
}

export interface PickleResult {
  value: PyValue;
  /** Offset just past STOP (the next pickle of a legacy file starts there). */
  end: number;
}

/** Where a problem is: the file and the part of it holding this pickle (e.g. `archive/data.pkl`). */
export interface PickleOrigin {
  file: string;
  part: string;
}

const MAX_GLOBAL_NAME = 256;

/** Names for the error messages of opcodes we refuse; see CPython's Lib/pickletools.py. */
const OPCODE_NAMES = new Map<number, string>(
  Object.entries({
    i: 'INST',
    o: 'OBJ',
    '\x93': 'STACK_GLOBAL',
    '\x81': 'NEWOBJ',
    '\x92': 'NEWOBJ_EX',
    '\x82': 'EXT1',
    '\x83': 'EXT2',
    '\x84': 'EXT4',
    P: 'PERSID',
    I: 'INT',
    L: 'LONG',
    S: 'STRING',
    V: 'UNICODE',
    F: 'FLOAT',
    l: 'LIST',
    d: 'DICT',
    p: 'PUT',
    g: 'GET',
    '0': 'POP',
    '1': 'POP_MARK',
    '2': 'DUP',
    '\x8c': 'SHORT_BINUNICODE',
    '\x94': 'MEMOIZE',
    '\x95': 'FRAME',
    B: 'BINBYTES',
    C: 'SHORT_BINBYTES',
    U: 'SHORT_BINSTRING',
    T: 'BINSTRING',
    '\x8b': 'LONG4',
    '\x90': 'ADDITEMS',
    '\x91': 'FROZENSET',
    '\x8f': 'EMPTY_SET',
  }).map(([k, v]) => [k.charCodeAt(0), v]),
);

export function pickleError(origin: PickleOrigin, at: number, message: string, code = 'torch-corrupt'): FineTuneError {
  return new FineTuneError(code, `${origin.file} (${origin.part}, byte ${at}): ${message}`, {
    file: origin.file,
    fix:
      code === 'torch-corrupt'
        ? 'The file is damaged or was not written by torch.save; download or save it again.'
        : CONVERT_FIX,
  });
}

export const CONVERT_FIX =
  'Do not load this file unless you trust where it came from. If you do, convert it once in Python with ' +
  'transformers: AutoModelForPreTraining.from_pretrained(folder).save_pretrained(folder, safe_serialization=True) ' +
  "(or the model's own class, to keep its head), and the model.safetensors it writes is used instead.";

/** Runs one pickle from `start` to its STOP. */
export function unpickle(bytes: Uint8Array, start: number, host: PickleHost, origin: PickleOrigin): PickleResult {
  return new Machine(bytes, start, host, origin).run();
}

class Machine {
  private readonly stack: PyValue[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, PyValue>();
  private readonly view: DataView;
  private pos: number;
  /** Offset of the opcode being run, for messages. */
  private at = 0;

  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    private readonly host: PickleHost,
    private readonly origin: PickleOrigin,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
  }

  run(): PickleResult {
    for (;;) {
      this.at = this.pos;
      const op = this.u8();
      if (op === 0x2e /* . STOP */) return { value: this.pop(), end: this.pos };
      this.step(op);
    }
  }

  private step(op: number): void {
    switch (op) {
      case 0x80 /* PROTO */: {
        const v = this.u8();
        if (v > 5) throw this.fail(`pickle protocol ${v} does not exist`);
        return;
      }
      case 0x28 /* ( MARK */:
        this.marks.push(this.stack.length);
        return;
      case 0x7d /* } EMPTY_DICT */:
        return this.push(new PyDict());
      case 0x29 /* ) EMPTY_TUPLE */:
        return this.push(new PyTuple([]));
      case 0x5d /* ] EMPTY_LIST */:
        return this.push(new PyList());
      case 0x4e /* N NONE */:
        return this.push(null);
      case 0x88 /* NEWTRUE */:
        return this.push(true);
      case 0x89 /* NEWFALSE */:
        return this.push(false);
      case 0x4b /* K BININT1 */:
        return this.push(this.u8());
      case 0x4d /* M BININT2 */:
        return this.push(this.fixed(2).getUint16(0, true));
      case 0x4a /* J BININT */:
        return this.push(this.fixed(4).getInt32(0, true));
      case 0x8a /* LONG1 */:
        return this.push(this.long1());
      case 0x47 /* G BINFLOAT */:
        return this.push(this.fixed(8).getFloat64(0, false));
      case 0x58 /* X BINUNICODE */:
        return this.push(this.utf8(this.fixed(4).getUint32(0, true)));
      case 0x71 /* q BINPUT */:
        return this.put(this.u8());
      case 0x72 /* r LONG_BINPUT */:
        return this.put(this.fixed(4).getUint32(0, true));
      case 0x68 /* h BINGET */:
        return this.get(this.u8());
      case 0x6a /* j LONG_BINGET */:
        return this.get(this.fixed(4).getUint32(0, true));
      default:
        return this.structural(op);
    }
  }

  /** Opcodes that combine values: tuples, containers, calls. */
  private structural(op: number): void {
    switch (op) {
      case 0x74 /* t TUPLE */:
        return this.push(new PyTuple(this.popMark()));
      case 0x85 /* TUPLE1 */:
        return this.push(new PyTuple(this.popN(1)));
      case 0x86 /* TUPLE2 */:
        return this.push(new PyTuple(this.popN(2)));
      case 0x87 /* TUPLE3 */:
        return this.push(new PyTuple(this.popN(3)));
      case 0x73 /* s SETITEM */:
        return this.setItems(this.popN(2));
      case 0x75 /* u SETITEMS */:
        return this.setItems(this.popMark());
      case 0x61 /* a APPEND */:
        return this.append(this.popN(1));
      case 0x65 /* e APPENDS */:
        return this.append(this.popMark());
      case 0x63 /* c GLOBAL */:
        return this.push(this.host.global(this.line(), this.line(), this.at));
      case 0x52 /* R REDUCE */:
        return this.reduce();
      case 0x51 /* Q BINPERSID */:
        return this.push(this.host.persistentLoad(this.pop(), this.at));
      case 0x62 /* b BUILD */:
        return this.build();
      default: {
        const name = OPCODE_NAMES.get(op) ?? `0x${op.toString(16).padStart(2, '0')}`;
        throw pickleError(
          this.origin,
          this.at,
          `the pickle uses the opcode ${name}, which a PyTorch state dict never needs; it was not run`,
          'torch-unsafe-pickle',
        );
      }
    }
  }

  private reduce(): void {
    const args = this.pop();
    const fn = this.pop();
    if (!(fn instanceof PyGlobal) || fn.call === undefined) throw this.fail('REDUCE of something that is not callable');
    if (!(args instanceof PyTuple)) throw this.fail(`REDUCE of ${fn.qualifiedName} without an argument tuple`);
    this.push(fn.call(args.items, this.at));
  }

  /** State for an object: only a dict's attributes (OrderedDict's `_metadata`), which a state dict does not need. */
  private build(): void {
    const state = this.pop();
    const target = this.top();
    if (!(target instanceof PyDict) || !(state instanceof PyDict || state === null)) {
      throw this.fail('BUILD on something other than a dict', 'torch-unsafe-pickle');
    }
  }

  private setItems(items: PyValue[]): void {
    if (items.length % 2 !== 0) throw this.fail('SETITEMS with an odd number of values');
    const dict = this.top();
    if (!(dict instanceof PyDict)) throw this.fail('SETITEMS on something that is not a dict');
    for (let i = 0; i < items.length; i += 2) dict.entries.set(this.key(items[i]!), items[i + 1]!);
  }

  private append(items: PyValue[]): void {
    const list = this.top();
    if (!(list instanceof PyList)) throw this.fail('APPENDS on something that is not a list');
    for (const item of items) list.items.push(item);
  }

  private key(v: PyValue): PyKey {
    if (v === null || typeof v !== 'object') return v;
    throw this.fail('a dict key that is not a string or a number');
  }

  private put(index: number): void {
    if (this.stack.length === 0) throw this.fail('PUT on an empty stack');
    this.memo.set(index, this.stack[this.stack.length - 1]!);
  }

  private get(index: number): void {
    const v = this.memo.get(index);
    if (v === undefined) throw this.fail(`GET of memo entry ${index}, which was never stored`);
    this.push(v);
  }

  private push(v: PyValue): void {
    this.stack.push(v);
  }

  private pop(): PyValue {
    const floor = this.marks.length ? this.marks[this.marks.length - 1]! : 0;
    if (this.stack.length <= floor) throw this.fail('the stack is empty');
    return this.stack.pop()!;
  }

  private top(): PyValue {
    const floor = this.marks.length ? this.marks[this.marks.length - 1]! : 0;
    if (this.stack.length <= floor) throw this.fail('the stack is empty');
    return this.stack[this.stack.length - 1]!;
  }

  private popN(n: number): PyValue[] {
    const out = new Array<PyValue>(n);
    for (let i = n - 1; i >= 0; i--) out[i] = this.pop();
    return out;
  }

  private popMark(): PyValue[] {
    const mark = this.marks.pop();
    if (mark === undefined) throw this.fail('no MARK to close');
    return this.stack.splice(mark);
  }

  private u8(): number {
    if (this.pos >= this.bytes.length) throw this.fail('the pickle ends before STOP (the file is truncated)');
    return this.bytes[this.pos++]!;
  }

  private take(n: number): Uint8Array {
    // Lengths come from the file: checked against what is left before anything is sliced or allocated.
    if (n > this.bytes.length - this.pos) {
      throw this.fail(`an opcode claims ${n} bytes but only ${this.bytes.length - this.pos} are left`);
    }
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  private fixed(n: number): DataView {
    const b = this.take(n);
    return new DataView(b.buffer, b.byteOffset, n);
  }

  private utf8(n: number): string {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(this.take(n));
    } catch (e) {
      if (e instanceof FineTuneError) throw e;
      throw this.fail('a string is not valid UTF-8');
    }
  }

  private long1(): bigint {
    const b = this.take(this.u8());
    let n = 0n;
    for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
    if (b.length > 0 && b[b.length - 1]! & 0x80) n -= 1n << BigInt(8 * b.length);
    return n;
  }

  /** GLOBAL's module and name: short printable lines. */
  private line(): string {
    const start = this.pos;
    const limit = Math.min(this.bytes.length, start + MAX_GLOBAL_NAME);
    for (let i = start; i < limit; i++) {
      if (this.bytes[i] === 0x0a) {
        this.pos = i + 1;
        const text = String.fromCharCode(...this.bytes.subarray(start, i));
        if (!/^[\x21-\x7e]+$/.test(text)) throw this.fail('a GLOBAL name that is not a printable identifier');
        return text;
      }
    }
    throw this.fail(`a GLOBAL name longer than ${MAX_GLOBAL_NAME} bytes, or cut off`);
  }

  private fail(message: string, code = 'torch-corrupt'): FineTuneError {
    return pickleError(this.origin, this.at, message, code);
  }
}
