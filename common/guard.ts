/**
 * Small runtime validators whose static types are inferred, so that each message shape is written once and both
 * the TypeScript type and the check at the process boundary come from it (the same idea as GitLens' IPC
 * descriptors or a schema library, without a dependency in the webview bundles).
 *
 * The values checked come from another process, so every guard is bounded: recursion (`lazy`) stops at a stated
 * depth instead of overflowing the stack, strings and arrays can carry a length bound, and integers are safe
 * integers. Rules over several fields (`refine`) run on the already-typed value.
 */

export interface Guard<T> {
  /** Returns undefined when `value` is a T, else a path-qualified reason such as `step.loss: expected number`. */
  check(value: unknown, path?: string): string | undefined;
  /** For error messages and docs. */
  readonly describe: string;
  /** Phantom field carrying the type; never set. */
  readonly _type?: T;
}

export type Infer<G> = G extends Guard<infer T> ? T : never;

/** How deep `lazy` guards (and `jsonValue`) let a value nest by default; far more than any message needs. */
export const MAX_NESTING = 64;

function make<T>(describe: string, check: (v: unknown, path: string) => string | undefined): Guard<T> {
  return { describe, check: (v, path = '') => check(v, path) };
}

/** Paths deep in a tree are long; a reason keeps the start and the end of one, so that it stays readable. */
const PATH_SHOWN = 160;
const at = (path: string): string => {
  if (!path) return '';
  const cut = path.length <= PATH_SHOWN ? path : `${path.slice(0, 60)}…${path.slice(-(PATH_SHOWN - 61))}`;
  // Keys come from the peer: a newline or a control character in one must not break the reason's line.
  const shown = cut.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `${shown}: `;
};
const child = (p: string, key: string): string => (p ? `${p}.${key}` : key);

export const str = make<string>('string', (v, p) => (typeof v === 'string' ? undefined : `${at(p)}expected string`));
export const bool = make<boolean>('boolean', (v, p) =>
  typeof v === 'boolean' ? undefined : `${at(p)}expected boolean`,
);
/** A finite number: NaN and Infinity are refused (JSON has no spelling for them; a diverged loss is `null`). */
export const num = make<number>('number', (v, p) =>
  typeof v === 'number' && Number.isFinite(v) ? undefined : `${at(p)}expected finite number`,
);
/** A finite number ≥ 0: durations, rates, epochs. */
export const nonNegative = make<number>('number ≥ 0', (v, p) =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? undefined : `${at(p)}expected a finite number ≥ 0`,
);
function integerProblem(v: unknown, p: string, min: number): string | undefined {
  if (typeof v !== 'number' || !Number.isInteger(v)) return `${at(p)}expected integer${min === 0 ? ' ≥ 0' : ''}`;
  // Beyond 2^53 a JSON integer no longer stands for one exact value.
  if (!Number.isSafeInteger(v)) return `${at(p)}integer ${v} is beyond ±2^53 (not exact)`;
  return v < min ? `${at(p)}expected integer ≥ ${min}, not ${v}` : undefined;
}
/** A safe integer. */
export const int = make<number>('integer', (v, p) => integerProblem(v, p, Number.MIN_SAFE_INTEGER));
/** A counter or size: a safe integer ≥ 0 (steps, examples, parameters, supports). */
export const count = make<number>('integer ≥ 0', (v, p) => integerProblem(v, p, 0));
export const unknownValue = make<unknown>('unknown', () => undefined);

/** A string of at most `max` characters. */
export function shortStr(max: number): Guard<string> {
  return make<string>(`string (≤ ${max} characters)`, (v, p) => {
    if (typeof v !== 'string') return `${at(p)}expected string`;
    return v.length <= max ? undefined : `${at(p)}string of ${v.length} characters, over the limit of ${max}`;
  });
}

export function lit<const L extends string | number | boolean>(value: L): Guard<L> {
  return make<L>(JSON.stringify(value), (v, p) =>
    v === value ? undefined : `${at(p)}expected ${JSON.stringify(value)}`,
  );
}

export function oneOf<const L extends readonly string[]>(values: L): Guard<L[number]> {
  return make<L[number]>(values.map((v) => JSON.stringify(v)).join(' | '), (v, p) =>
    typeof v === 'string' && values.includes(v) ? undefined : `${at(p)}expected one of ${values.join(', ')}`,
  );
}

export function nullable<T>(g: Guard<T>): Guard<T | null> {
  return make<T | null>(`${g.describe} | null`, (v, p) => (v === null ? undefined : g.check(v, p)));
}

/** An array of `g`; with `maxLength`, longer arrays are refused before any element is looked at. */
export function arr<T>(g: Guard<T>, maxLength = Infinity): Guard<T[]> {
  return make<T[]>(`${g.describe}[]`, (v, p) => {
    if (!Array.isArray(v)) return `${at(p)}expected array`;
    if (v.length > maxLength) return `${at(p)}${v.length} elements, over the limit of ${maxLength}`;
    for (let i = 0; i < v.length; i++) {
      const e = g.check(v[i], `${p}[${i}]`);
      if (e) return e;
    }
    return undefined;
  });
}

export function record<T>(g: Guard<T>): Guard<Record<string, T>> {
  return make<Record<string, T>>(`Record<string, ${g.describe}>`, (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${at(p)}expected object`;
    for (const [k, e] of Object.entries(v)) {
      const r = g.check(e, child(p, k));
      if (r) return r;
    }
    return undefined;
  });
}

/** Marks a field optional inside `obj`. */
export interface Optional<T> extends Guard<T | undefined> {
  readonly optional: true;
}
export function opt<T>(g: Guard<T>): Optional<T> {
  return {
    ...make<T | undefined>(`${g.describe}?`, (v, p) => (v === undefined ? undefined : g.check(v, p))),
    optional: true,
  };
}

type Shape = Record<string, Guard<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends Optional<unknown> ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
export type ObjOf<S extends Shape> = { [K in RequiredKeys<S>]: Infer<S[K]> } & {
  [K in OptionalKeys<S>]?: Exclude<Infer<S[K]>, undefined>;
};

/** An object with these fields. Extra fields are allowed (a newer peer may add some) but not checked. */
export function obj<S extends Shape>(shape: S): Guard<{ [K in keyof ObjOf<S>]: ObjOf<S>[K] }> {
  const fields = Object.entries(shape);
  return make(`{ ${Object.keys(shape).join(', ')} }`, (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${at(p)}expected object`;
    for (const [k, g] of fields) {
      // Only own fields count: a missing `constructor` must not be found on Object.prototype.
      const value = Object.prototype.hasOwnProperty.call(v, k) ? (v as Record<string, unknown>)[k] : undefined;
      const r = g.check(value, child(p, k));
      if (r) return r;
    }
    return undefined;
  });
}

/**
 * A recursive guard, e.g. a tree whose children are of the same type. Nesting deeper than `maxDepth` is refused
 * with a reason rather than followed, so a hostile value cannot overflow the stack. Checks are synchronous, so
 * one depth counter per guard is exact.
 */
export function lazy<T>(f: () => Guard<T>, maxDepth = MAX_NESTING): Guard<T> {
  let depth = 0;
  return make<T>('(recursive)', (v, p) => {
    if (depth >= maxDepth) return `${at(p)}nested deeper than ${maxDepth} levels`;
    depth++;
    try {
      return f().check(v, p);
    } finally {
      depth--;
    }
  });
}

/**
 * Any JSON value (null, boolean, finite number, string, array, object) nested at most `maxDepth` deep, checked
 * without recursion: an opaque payload such as a command's result is safe to walk and to stringify afterwards.
 */
export function jsonValue(maxDepth = MAX_NESTING): Guard<unknown> {
  return make<unknown>('JSON value', (v, p) => {
    if (v === undefined) return `${at(p)}expected a JSON value`;
    const stack: [unknown, number][] = [[v, 0]];
    while (stack.length) {
      const [x, d] = stack.pop()!;
      if (x === null || typeof x === 'string' || typeof x === 'boolean') continue;
      if (typeof x === 'number') {
        if (!Number.isFinite(x)) return `${at(p)}a number that is not finite`;
        continue;
      }
      if (typeof x !== 'object') return `${at(p)}holds a value of type ${typeof x}, which JSON cannot hold`;
      if (d >= maxDepth) return `${at(p)}nested deeper than ${maxDepth} levels`;
      for (const e of Array.isArray(x) ? x : Object.values(x)) stack.push([e, d + 1]);
    }
    return undefined;
  });
}

/**
 * A guard with rules over several fields, run on the value once `g` has accepted it (so they see the typed
 * value): `refine(model, (m) => m.trainable <= m.total ? undefined : 'trainable: more than total')`.
 * A rule returns the problem relative to the value; the path is prefixed here.
 */
export function refine<T>(g: Guard<T>, ...rules: ((value: T) => string | undefined)[]): Guard<T> {
  return make<T>(g.describe, (v, p) => {
    const problem = g.check(v, p);
    if (problem) return problem;
    for (const rule of rules) {
      const r = rule(v as T);
      if (r) return `${at(p)}${r}`;
    }
    return undefined;
  });
}
