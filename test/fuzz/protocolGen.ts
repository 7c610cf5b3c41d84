/**
 * Inputs of the protocol fuzz suite: valid messages of every type (trainer→host and host→trainer), drawn from a
 * seeded stream, and the ways a peer or a broken pipe can spoil them — wrong types, deep nesting, huge arrays,
 * prototype-named keys, NaN/Infinity spellings, unsafe integers, invalid UTF-8, long lines.
 */
import { buildModuleTree } from '../../common/moduleTree';
import { BACKEND_NAMES, RUN_STATUSES, trainerMessages } from '../../common/protocol';
import type { HostMessage, TrainerMessage } from '../../common/protocol';
import { randInt } from '../../common/random';
import type { Rng } from '../../common/random';
import { mutateBytes, mutateText, pick } from './harness';

const WORDS = ['loss', 'accuracy', 'négatif', '😀 emoji', 'a"quote', 'back\\slash', 'tab\there', 'ünï', ''];
export const PROTO_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
];

const word = (rng: Rng) => pick(rng, WORDS) + (rng() < 0.5 ? String(randInt(rng, 100)) : '');
const counter = (rng: Rng) => (rng() < 0.1 ? 0 : randInt(rng, 1_000_000));
const positive = (rng: Rng) => rng() * 1000;

function tree(rng: Rng) {
  const params = Array.from({ length: 1 + randInt(rng, 6) }, (_, i) => ({
    name: pick(rng, ['bert.embeddings', `bert.encoder.layer.${i}.attention.self`, 'classifier']) + `.w${i}`,
    shape: [1 + randInt(rng, 8), 1 + randInt(rng, 8)],
  }));
  return buildModuleTree(params, () => rng() < 0.5);
}

function evalTables(rng: Rng) {
  const k = 1 + randInt(rng, 6);
  const labels = Array.from({ length: k }, (_, i) => `${word(rng)}${i}`);
  const confusion = labels.map(() => labels.map(() => randInt(rng, 50)));
  const perClass = labels.map((label, i) => ({
    label,
    precision: rng(),
    recall: rng(),
    f1: rng(),
    support: confusion[i]!.reduce((a, b) => a + b, 0),
  }));
  return rng() < 0.2
    ? { perClass: perClass.slice(0, 1), classes: 150 + randInt(rng, 3000) }
    : { labels, confusion, perClass };
}

type Maker = (rng: Rng) => TrainerMessage;
const MAKERS: Record<keyof typeof trainerMessages, Maker> = {
  hello: (rng) => ({
    type: 'hello',
    protocolVersion: 1,
    engineVersion: '0.1.0',
    pid: 1 + randInt(rng, 99999),
    backend: {
      name: pick(rng, BACKEND_NAMES),
      reason: word(rng),
      tried: [{ backend: 'wasm', available: true, why: word(rng) }],
    },
  }),
  plan: (rng) => ({
    type: 'plan',
    runId: word(rng),
    runDir: `/runs/${word(rng)}`,
    mode: pick(rng, ['fine-tune', 'from-scratch'] as const),
    task: pick(rng, ['text-classification', 'masked-lm'] as const),
    totalSteps: counter(rng),
    stepsPerEpoch: counter(rng),
    epochs: positive(rng),
    trainExamples: counter(rng),
    evalExamples: counter(rng),
    labels: [word(rng), word(rng)],
    ...(rng() < 0.5 ? { resumedFromStep: counter(rng) } : {}),
  }),
  model: (rng) => {
    const t = tree(rng);
    return { type: 'model', tree: t, total: t.total, trainable: t.trainable, newlyInitialized: ['classifier.weight'] };
  },
  step: (rng) => ({
    type: 'step',
    step: counter(rng),
    epoch: positive(rng),
    loss: rng() < 0.1 ? null : rng() * 5,
    learningRate: rng() * 1e-3,
    gradNorm: rng() < 0.1 ? null : positive(rng),
    samplesPerSecond: positive(rng),
    tokensPerSecond: positive(rng),
    elapsedMs: positive(rng),
    etaMs: rng() < 0.2 ? null : positive(rng),
  }),
  eval: (rng) => ({
    type: 'eval',
    step: counter(rng),
    epoch: positive(rng),
    split: pick(rng, ['validation', 'test'] as const),
    metrics: { loss: rng(), accuracy: rng(), [word(rng)]: rng() - 0.5 },
    ...evalTables(rng),
    isBest: rng() < 0.5,
    ...(rng() < 0.5 ? { patienceUsed: randInt(rng, 5) } : {}),
  }),
  checkpoint: (rng) => ({
    type: 'checkpoint',
    step: counter(rng),
    path: `/runs/${word(rng)}/checkpoint-1`,
    isBest: rng() < 0.5,
    deleted: [word(rng)],
  }),
  log: (rng) => ({ type: 'log', level: pick(rng, ['debug', 'info', 'warn', 'error'] as const), message: word(rng) }),
  error: (rng) => ({
    type: 'error',
    fatal: rng() < 0.5,
    error: {
      code: 'config-invalid',
      message: word(rng),
      detail: word(rng),
      file: '/w/a.finetune.yaml',
      line: 1 + randInt(rng, 99),
      column: 1,
    },
  }),
  result: (rng) => ({
    type: 'result',
    command: pick(rng, ['evaluate', 'predict'] as const),
    value: { label: word(rng), probabilities: { [word(rng)]: rng() } },
  }),
  done: (rng) => ({
    type: 'done',
    status: pick(rng, RUN_STATUSES),
    step: counter(rng),
    elapsedMs: positive(rng),
    ...(rng() < 0.5
      ? { bestMetric: rng(), bestCheckpoint: '/runs/x/checkpoint-2', finalMetrics: { loss: rng() } }
      : {}),
  }),
};
export const TRAINER_TYPES = Object.keys(MAKERS) as (keyof typeof trainerMessages)[];
const HOST: HostMessage[] = [{ type: 'stop' }, { type: 'save_now' }, { type: 'cancel' }];

/** A valid message of a random type, from either side. */
export function validMessage(rng: Rng): TrainerMessage | HostMessage {
  return rng() < 0.12 ? pick(rng, HOST) : MAKERS[pick(rng, TRAINER_TYPES)](rng);
}

/** Every object and array inside `v` with how to reach it, found without recursion. */
function containers(v: unknown): (Record<string, unknown> | unknown[])[] {
  const out: (Record<string, unknown> | unknown[])[] = [];
  const stack = [v];
  while (stack.length) {
    const x = stack.pop();
    if (typeof x !== 'object' || x === null) continue;
    out.push(x as Record<string, unknown>);
    stack.push(...(Array.isArray(x) ? x : Object.values(x)));
  }
  return out;
}

/** Text put where a value was; it replaces the marker after JSON.stringify (JSON cannot spell NaN or 6,000 levels). */
const MARK = 'MARK-8c1f0e';
const NUMBER_SPELLINGS = [
  'NaN',
  'Infinity',
  '-Infinity',
  '1e999',
  '-1e999',
  '-0',
  '0x1F',
  '+1',
  '.5',
  '1.',
  '01',
  '9007199254740993',
  '-9007199254740993',
  '1e-400',
  '1e21',
];
const WRONG = [
  'x',
  true,
  false,
  null,
  [],
  {},
  0,
  -1,
  1.5,
  -0.5,
  2 ** 53 + 2,
  -(2 ** 53) - 2,
  1e308,
  '',
  '__proto__',
  [[1, 2], [3]],
];

function deepText(rng: Rng, depth: number): string {
  const kind = randInt(rng, 3);
  if (kind === 0) return '['.repeat(depth) + ']'.repeat(depth);
  if (kind === 1) return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
  const node = '{"name":"n","path":"n","total":1,"trainable":1,"children":[';
  return node.repeat(depth) + '{"name":"w","path":"w","total":1,"trainable":1,"children":[]}' + ']}'.repeat(depth);
}

/** Spoils one place of the value; returns the text to put at the marker, if any. */
function mutateValue(rng: Rng, root: Record<string, unknown>): string | undefined {
  const targets = containers(root);
  const c = pick(rng, targets);
  const keys = Array.isArray(c) ? c.map((_, i) => i) : Object.keys(c);
  const key = keys.length ? pick(rng, keys as (string | number)[]) : 0;
  const set = (v: unknown) =>
    Object.defineProperty(c, key, { value: v, enumerable: true, writable: true, configurable: true });
  switch (randInt(rng, 10)) {
    case 0:
      set(pick(rng, WRONG));
      return undefined;
    case 1:
      if (Array.isArray(c)) c.splice(Number(key), 1);
      else delete c[key];
      return undefined;
    case 2: {
      // An own property named like an Object.prototype member, as JSON.parse would create it.
      const v = pick(rng, [{ type: 'step', step: -1 }, 1, 'x', null, []]);
      Object.defineProperty(c, pick(rng, PROTO_KEYS), {
        value: v,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      return undefined;
    }
    case 3:
      set(MARK);
      return deepText(rng, pick(rng, [65, 65, 100, 1000, 1000, 5000]));
    case 4:
      set(Array.from({ length: pick(rng, [101, 1000, 1000, 20_000]) }, () => (rng() < 0.5 ? 0 : 'x')));
      return undefined;
    case 5:
      root.type = pick(rng, [
        ...TRAINER_TYPES,
        'stop',
        'cancel',
        'save_now',
        ...PROTO_KEYS,
        'STEP',
        ' step',
        'step\u0000',
        42,
      ]);
      return undefined;
    case 6:
      set(MARK);
      return pick(rng, NUMBER_SPELLINGS);
    case 7:
      set('y'.repeat(pick(rng, [201, 201, 10_000, 50_000])));
      return undefined;
    case 9: {
      // A part that claims more trainable parameters than it has.
      const node = pick(
        rng,
        targets.filter((t) => !Array.isArray(t) && typeof t.total === 'number'),
      ) as Record<string, number> | undefined;
      if (node) node.trainable = node.total! + 1 + randInt(rng, 10);
      return undefined;
    }
    default:
      set(MARK);
      return pick(rng, ['"\\ud800"', '"\\udfff\\ud800"', '"\\u0000"', '"\u202e\u2028\u2029"', '"\\"', '"a\\qb"']);
  }
}

/** Invalid UTF-8: a lone lead byte, a lone continuation, an overlong form, an encoded surrogate, 0xFF. */
const BAD_UTF8 = [[0xc3], [0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff], [0xf0, 0x9f, 0x98]];

export interface ProtocolCase {
  kind: string;
  /** The line as it travels, without the newline: may hold newlines and invalid UTF-8 after mutation. */
  bytes: Uint8Array;
}

/** A spoiled line: a valid message mutated at the value, text or byte level, or made long. */
export function spoiledLine(rng: Rng): ProtocolCase {
  const m = structuredClone(validMessage(rng)) as unknown as Record<string, unknown>;
  const enc = new TextEncoder();
  const level = randInt(rng, 10);
  if (level === 0) return { kind: `valid ${String(m.type)}`, bytes: enc.encode(JSON.stringify(m)) };
  if (level <= 4) {
    const insert = mutateValue(rng, m);
    const text = JSON.stringify(m);
    return {
      kind: `value ${String(m.type)}`,
      bytes: enc.encode(insert === undefined ? text : text.replace(`"${MARK}"`, insert)),
    };
  }
  const text = JSON.stringify(m);
  if (level <= 6) {
    const spoiled = pick(rng, [
      () => mutateText(rng, text),
      () => `\ufeff${text}`,
      () => text.replace('{', `{"type":${JSON.stringify(pick(rng, TRAINER_TYPES))},`),
      () => text.slice(0, randInt(rng, text.length)),
      () => `${' '.repeat(randInt(rng, 5000))}${text}\t`,
    ])();
    return { kind: `text ${String(m.type)}`, bytes: enc.encode(spoiled) };
  }
  if (level <= 8) {
    const bytes =
      rng() < 0.5 ? mutateBytes(rng, enc.encode(text)) : insertBytes(rng, enc.encode(text), pick(rng, BAD_UTF8));
    return { kind: `bytes ${String(m.type)}`, bytes };
  }
  return {
    kind: `long ${String(m.type)}`,
    bytes: enc.encode(text.replace(/}$/, `,"pad":"${'p'.repeat(pick(rng, [300, 5000, 20_000]))}"}`)),
  };
}

function insertBytes(rng: Rng, b: Uint8Array, extra: number[]): Uint8Array {
  const at = randInt(rng, b.length + 1);
  return concatBytes(b.subarray(0, at), Uint8Array.from(extra), b.subarray(at));
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
