/**
 * Issue 16, item 6: a hostile `pytorch_model.bin` never runs code and is refused with a clear error. Pickles that
 * would call os.system, builtins.eval, subprocess.Popen or posix.system (each would create a marker file), the
 * opcodes that import without GLOBAL (INST, OBJ, STACK_GLOBAL, NEWOBJ, EXT*), memo bombs, lengths and counts far
 * past the file, truncated files, zip entries named `../`, overlapping entries, and storages shorter than their
 * tensors. The same payloads made by real torch.save at test time prove they are live: PyTorch's own unpickler
 * runs them (the marker appears), ours refuses them (it does not).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FineTuneError } from '../../common/errors';
import { parseTorchCheckpoint, readTorchCheckpoint } from '../../files/hf/torchBin/torchBin';
import { Pickle, W_VALUES, bytesOf, checkpointZip, stateDictPickle, zipOf } from '../fixtures/torchFiles';
import { pythonWith, requirePython, skipUnless } from './hfParityCases';

const root = mkdtempSync(path.join(os.tmpdir(), 'torchbin-hostile-'));
after(() => rmSync(root, { recursive: true, force: true }));
const MARKER = path.join(root, 'pwned');

function refused(code: string, text: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof FineTuneError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(`${e.message}\n${e.fix ?? ''}`, text);
    assert.equal(e.file, 'evil.bin');
    assert.ok(e.fix, 'a refusal says what to do');
    return true;
  };
}

async function read(bytes: Uint8Array) {
  return parseTorchCheckpoint(bytes, 'evil.bin');
}

test('the valid base file reads (so each refusal below is the payload’s doing)', async () => {
  const ok = await read(checkpointZip(stateDictPickle()));
  assert.deepEqual(ok.tensors.get('w'), { shape: [2, 2], data: W_VALUES });
  const deflated = await read(checkpointZip(stateDictPickle(), undefined, { deflate: true }));
  assert.deepEqual(deflated.tensors.get('w')?.data, W_VALUES);
  const zip64 = await read(checkpointZip(stateDictPickle(), undefined, { zip64: true }));
  assert.deepEqual(zip64.tensors.get('w')?.data, W_VALUES);
});

const CALLS: [module: string, name: string, args: (p: Pickle) => void, count: 1 | 2][] = [
  ['os', 'system', (p) => p.str(`touch ${MARKER}`), 1],
  ['posix', 'system', (p) => p.str(`touch ${MARKER}`), 1],
  ['nt', 'system', (p) => p.str(`type nul > ${MARKER}`), 1],
  ['builtins', 'eval', (p) => p.str(`__import__('os').system('touch ${MARKER}')`), 1],
  ['builtins', 'exec', (p) => p.str(`open('${MARKER}', 'w')`), 1],
  ['__builtin__', 'eval', (p) => p.str(`__import__('os').system('touch ${MARKER}')`), 1],
  ['subprocess', 'Popen', (p) => p.mark().str('touch').str(MARKER).op('l'), 1],
  ['builtins', 'getattr', (p) => p.global('os', 'path').str('join'), 2],
  ['torch', 'load', (p) => p.str(MARKER), 1],
  ['torch.storage', '_load_from_bytes', (p) => p.str(MARKER), 1],
  ['numpy.core.multiarray', '_reconstruct', (p) => p.str(MARKER), 1],
];

for (const [module, name, args, count] of CALLS) {
  test(`a pickle calling ${module}.${name} is refused by name and nothing runs`, async () => {
    const bytes = checkpointZip(stateDictPickle((p) => p.str('evil').call(module, name, args, count)));
    await assert.rejects(
      read(bytes),
      refused('torch-unsafe-global', new RegExp(`asks to call ${module}\\.${name}[\\s\\S]*nothing was run`)),
    );
    assert.ok(!existsSync(MARKER));
  });
}

test('the global is refused wherever it hides: the top level, a tensor’s hooks, the storage class', async () => {
  const top = new Pickle()
    .proto()
    .call('os', 'system', (p) => p.str(`touch ${MARKER}`), 1)
    .stop()
    .bytes();
  await assert.rejects(read(checkpointZip(top)), refused('torch-unsafe-global', /os\.system/));
  const hooks = stateDictPickle((p) =>
    p
      .str('h')
      .global('torch._utils', '_rebuild_tensor_v2')
      .mark()
      .call('os', 'system', (q) => q.str('x'), 1),
  );
  await assert.rejects(read(checkpointZip(hooks)), refused('torch-unsafe-global', /os\.system/));
  const storageClass = stateDictPickle((p) => p.str('s').tensor('0', 4, [4], [1], 0, 'system'));
  await assert.rejects(read(checkpointZip(storageClass)), refused('torch-unsafe-global', /torch\.system/));
  assert.ok(!existsSync(MARKER));
});

const OPCODES: [name: string, bytes: (p: Pickle) => void][] = [
  ['INST', (p) => p.mark().raw(...new TextEncoder().encode(`ios\nsystem\n`))],
  ['OBJ', (p) => p.mark().str(`touch ${MARKER}`).op('o')],
  ['STACK_GLOBAL', (p) => p.str('os').str('system').raw(0x93)],
  ['NEWOBJ', (p) => p.str('Popen').tuple(0).raw(0x81)],
  ['EXT1', (p) => p.raw(0x82, 1)],
  ['PERSID', (p) => p.raw(...new TextEncoder().encode('Pos.system\n'))],
  ['0xff', (p) => p.raw(0xff)],
];

for (const [name, body] of OPCODES) {
  test(`the opcode ${name} is refused at its offset, before it runs`, async () => {
    const bytes = checkpointZip(stateDictPickle((p) => body(p.str('evil'))));
    // INST names its global inline; the refusal must come from the opcode, before any name is looked at.
    await assert.rejects(read(bytes), refused('torch-unsafe-pickle', new RegExp(`byte \\d+\\): .*opcode ${name}`)));
    assert.ok(!existsSync(MARKER));
  });
}

test('memo bombs and huge counts cost nothing: refused or read within a second', async () => {
  // 60 levels of tuples of 3 memo references: 3^60 leaves if anything expanded them.
  const bomb = stateDictPickle((p) => {
    p.str('bomb').str('x').put(1000);
    for (let level = 0; level < 60; level++) p.get(1000).get(1000).tuple(3).put(1000);
  });
  const t0 = performance.now();
  const r = await read(checkpointZip(bomb));
  assert.deepEqual([...r.tensors.keys()], ['w'], 'a non-tensor value is not a weight');
  assert.ok(performance.now() - t0 < 1000);
  await assert.rejects(
    read(checkpointZip(stateDictPickle((p) => p.get(77)))),
    refused('torch-corrupt', /memo entry 77/),
  );
  const longString = stateDictPickle((p) => p.str('x', 0xfffffff0));
  await assert.rejects(read(checkpointZip(longString)), refused('torch-corrupt', /claims 4294967280 bytes/));
  const count = checkpointZip(stateDictPickle(), undefined, { count: 0xfff0 });
  await assert.rejects(read(count), refused('torch-corrupt', /65520 entries cannot fit/));
  const expand = stateDictPickle((p) => p.str('e').tensor('0', 4, [1_000_000_000], [0]));
  await assert.rejects(read(checkpointZip(expand)), refused('torch-corrupt', /expands 4 stored elements/));
  const past = stateDictPickle((p) => p.str('p').tensor('0', 4, [2, 2], [2, 1], 1));
  await assert.rejects(read(checkpointZip(past)), refused('torch-corrupt', /reaches past its 4-element storage/));
  const huge = new Pickle().proto().global('collections', 'OrderedDict').tuple(0).reduce().mark().str('w');
  huge.global('torch._utils', '_rebuild_tensor_v2').mark().mark().str('storage').global('torch', 'FloatStorage');
  huge
    .str('0')
    .str('cpu')
    .long1(1n << 40n)
    .tuple()
    .op('Q');
  await assert.rejects(
    read(checkpointZip(huge.bytes())),
    refused('torch-corrupt', /holds 16 bytes, but 1099511627776/),
  );
});

test('truncated files are refused at every length, never read as zeros', async () => {
  const whole = checkpointZip(stateDictPickle());
  for (let n = 0; n < whole.length; n += 7) {
    await assert.rejects(
      read(whole.subarray(0, n)),
      (e: unknown) => e instanceof FineTuneError && /torch-/.test(e.code),
    );
  }
  const legacy = readFileSync(path.join(__dirname, 'fixtures', 'torchBin', 'cls-legacy', 'pytorch_model.bin'));
  for (const n of [1, 2, 40, 200, 2000, legacy.length - 1]) {
    await assert.rejects(
      read(legacy.subarray(0, n)),
      (e: unknown) => e instanceof FineTuneError && /torch-/.test(e.code),
    );
  }
});

test('zip tricks: ../ names, overlapping entries, two names for one entry, bad CRCs, short storages', async () => {
  const pkl = stateDictPickle();
  const data = bytesOf(W_VALUES);
  for (const name of ['../../evil', 'archive/../../evil', '/etc/evil', 'archive\\..\\evil', 'a/\u0000b']) {
    const bytes = checkpointZip(pkl, undefined, { extra: [{ name, data: new TextEncoder().encode('x') }] });
    await assert.rejects(read(bytes), refused('torch-corrupt', /is a path trick/));
  }
  assert.deepEqual(
    readdirSync(path.dirname(root)).filter((f) => f === 'evil'),
    [],
    'nothing was written',
  );
  const overlap = checkpointZip(pkl, undefined, { headerOffset: (i, real) => (i === 2 ? real[1]! : real[i]!) });
  await assert.rejects(read(overlap), refused('torch-corrupt', /overlap|names another entry/));
  const twoNames = zipOf([
    { name: 'archive/data.pkl', data: pkl },
    { name: 'archive/data/0', data, localName: 'archive/data/1' },
  ]);
  await assert.rejects(read(twoNames), refused('torch-corrupt', /names another entry/));
  const crc = zipOf([
    { name: 'archive/data.pkl', data: pkl },
    { name: 'archive/data/0', data, crc: 1234 },
  ]);
  await assert.rejects(read(crc), refused('torch-corrupt', /fails its CRC check/));
  const short = checkpointZip(pkl, { '0': data.subarray(0, 12) });
  await assert.rejects(
    read(short),
    refused('torch-corrupt', /storage 0 holds 12 bytes, but 4 × torch\.FloatStorage need 16/),
  );
  const missing = checkpointZip(pkl, {});
  await assert.rejects(read(missing), refused('torch-corrupt', /storage 0 has no entry archive\/data\/0/));
  const twoPickles = checkpointZip(pkl, undefined, { extra: [{ name: 'other/data.pkl', data: pkl }] });
  await assert.rejects(read(twoPickles), refused('torch-corrupt', /more than one data\.pkl/));
  const sameKeyTwoTypes = stateDictPickle((p) => p.str('v').tensor('0', 2, [2], [1], 0, 'LongStorage'));
  await assert.rejects(
    read(checkpointZip(sameKeyTwoTypes)),
    refused('torch-corrupt', /holds 16 bytes, but 2 × torch\.LongStorage need 16|described twice/),
  );
});

test('dtypes other than float32, float16, bfloat16 and int64 are refused by name', async () => {
  const pkl = new Pickle().proto().global('collections', 'OrderedDict').tuple(0).reduce().mark();
  pkl.str('d').tensor('0', 2, [2], [1], 0, 'DoubleStorage').op('u').stop();
  await assert.rejects(read(checkpointZip(pkl.bytes())), refused('torch-unsupported-dtype', /tensor 'd' is F64/));
});

const withTorch = pythonWith('torch');
const PAYLOAD_NAMES: [string, string][] = [
  ['system', 'posix\\.system'],
  ['eval', '(builtins|__builtin__)\\.eval'],
  ['popen', '(subprocess|commands)\\.Popen'],
];

test(
  'real torch.save files with os.system, eval and Popen payloads: PyTorch runs them, this reader refuses them',
  { skip: skipUnless(withTorch, 'torch', { requiredInCi: true }) },
  async () => {
    const python = requirePython(withTorch, 'torch');
    const dir = mkdtempSync(path.join(root, 'real-'));
    const script = `
import os, subprocess, sys, torch
dir = sys.argv[1]
class System:
    def __init__(self, m): self.m = m
    def __reduce__(self): return (os.system, ('touch ' + self.m,))
class Eval:
    def __init__(self, m): self.m = m
    def __reduce__(self): return (eval, ("open(%r, 'w').close()" % self.m,))
class Popen:
    def __init__(self, m): self.m = m
    def __reduce__(self): return (subprocess.Popen, (['touch', self.m],))
for kind, cls in [('system', System), ('eval', Eval), ('popen', Popen)]:
    for legacy in (False, True):
        name = '%s-%s' % (kind, 'legacy' if legacy else 'zip')
        sd = {'w': torch.ones(2), 'x': cls(os.path.join(dir, name + '.python-ran'))}
        torch.save(sd, os.path.join(dir, name + '.bin'), _use_new_zipfile_serialization=not legacy)
        # The proof that the payload is live: PyTorch's unpickler runs it.
        torch.load(os.path.join(dir, name + '.bin'))
`;
    const r = spawnSync(python, ['-c', script, dir], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.bin'))) {
      const ran = path.join(dir, file.replace(/\.bin$/, '.python-ran'));
      for (let i = 0; i < 50 && !existsSync(ran); i++) await new Promise((res) => setTimeout(res, 100));
      assert.ok(existsSync(ran), `torch.load ran the payload of ${file}`);
      rmSync(ran);
      // Protocol 2 writes Python 2's module names where they differ (builtins -> __builtin__, subprocess -> commands).
      const name = PAYLOAD_NAMES.find(([prefix]) => file.startsWith(prefix))![1];
      await assert.rejects(
        readTorchCheckpoint(path.join(dir, file)),
        (e: unknown) =>
          e instanceof FineTuneError && e.code === 'torch-unsafe-global' && new RegExp(`call ${name}`).test(e.message),
      );
      await new Promise((res) => setTimeout(res, 200));
      assert.ok(!existsSync(ran), `our reader did not run the payload of ${file}`);
    }
  },
);
