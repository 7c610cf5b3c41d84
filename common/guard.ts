/**
 * Small runtime validators whose static types are inferred, so that each message shape is written once and both
 * the TypeScript type and the check at the process boundary come from it (the same idea as GitLens' IPC
 * descriptors or a schema library, without a dependency in the webview bundles).
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

function make<T>(describe: string, check: (v: unknown, path: string) => string | undefined): Guard<T> {
  return { describe, check: (v, path = '') => check(v, path) };
}

const at = (path: string) => (path ? `${path}: ` : '');

export const str = make<string>('string', (v, p) => (typeof v === 'string' ? undefined : `${at(p)}expected string`));
export const bool = make<boolean>('boolean', (v, p) => (typeof v === 'boolean' ? undefined : `${at(p)}expected boolean`));
/** A finite number, or NaN/Infinity encoded by JSON as null is refused: a diverged loss is sent as `null` explicitly via `nullable`. */
export const num = make<number>('number', (v, p) =>
  typeof v === 'number' && Number.isFinite(v) ? undefined : `${at(p)}expected finite number`,
);
export const int = make<number>('integer', (v, p) =>
  typeof v === 'number' && Number.isInteger(v) ? undefined : `${at(p)}expected integer`,
);
export const unknownValue = make<unknown>('unknown', () => undefined);

export function lit<const L extends string | number | boolean>(value: L): Guard<L> {
  return make<L>(JSON.stringify(value), (v, p) => (v === value ? undefined : `${at(p)}expected ${JSON.stringify(value)}`));
}

export function oneOf<const L extends readonly string[]>(values: L): Guard<L[number]> {
  return make<L[number]>(values.map((v) => JSON.stringify(v)).join(' | '), (v, p) =>
    typeof v === 'string' && values.includes(v) ? undefined : `${at(p)}expected one of ${values.join(', ')}`,
  );
}

export function nullable<T>(g: Guard<T>): Guard<T | null> {
  return make<T | null>(`${g.describe} | null`, (v, p) => (v === null ? undefined : g.check(v, p)));
}

export function arr<T>(g: Guard<T>): Guard<T[]> {
  return make<T[]>(`${g.describe}[]`, (v, p) => {
    if (!Array.isArray(v)) return `${at(p)}expected array`;
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
      const r = g.check(e, p ? `${p}.${k}` : k);
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
  return { ...make<T | undefined>(`${g.describe}?`, (v, p) => (v === undefined ? undefined : g.check(v, p))), optional: true };
}

type Shape = Record<string, Guard<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends Optional<unknown> ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
export type ObjOf<S extends Shape> = { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Exclude<Infer<S[K]>, undefined> };

/** An object with these fields. Extra fields are allowed (a newer peer may add some) but not checked. */
export function obj<S extends Shape>(shape: S): Guard<{ [K in keyof ObjOf<S>]: ObjOf<S>[K] }> {
  return make(`{ ${Object.keys(shape).join(', ')} }`, (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${at(p)}expected object`;
    const o = v as Record<string, unknown>;
    for (const [k, g] of Object.entries(shape)) {
      const r = g.check(o[k], p ? `${p}.${k}` : k);
      if (r) return r;
    }
    return undefined;
  });
}

/** A recursive guard, e.g. a tree whose children are of the same type. */
export function lazy<T>(f: () => Guard<T>): Guard<T> {
  return make<T>('(recursive)', (v, p) => f().check(v, p));
}
