/**
 * Freeze patterns: globs over dotted parameter names. `*` matches any run of characters (dots included, as in
 * Python's fnmatch, which is what users of HF scripts know), `?` one character, `[0-3]` a class. A pattern
 * also matches everything below a module it names: `bert.embeddings` freezes `bert.embeddings.LayerNorm.weight`.
 *
 * Patterns come from users, so they are matched without regular expressions: a pattern such as `*a*a*a*a*b`
 * would make a backtracking regex take minutes, and a reversed range such as `[z-a]` would make one throw. The
 * matcher below takes O(name × pattern) time whatever the pattern, and a malformed class is reported by
 * `patternProblem` (the config validator shows it on that pattern) while matching nothing.
 */

type Token = { star: true } | { star: false; test: (c: string) => boolean };

interface Compiled {
  tokens: Token[];
  problem?: string;
}

/** Patterns compiled so far; bounded, since the language server sees a new pattern on every keystroke. */
const cache = new Map<string, Compiled>();
const CACHE_SIZE = 1000;

function classToken(body: string): { test: (c: string) => boolean; problem?: string } {
  const negate = body.startsWith('!') || body.startsWith('^');
  const chars = negate ? body.slice(1) : body;
  const ranges: [string, string][] = [];
  let problem: string | undefined;
  for (let j = 0; j < chars.length; j++) {
    const lo = chars[j]!;
    if (chars[j + 1] === '-' && j + 2 < chars.length) {
      const hi = chars[j + 2]!;
      if (lo > hi) problem ??= `the range \`${lo}-${hi}\` runs backwards; write the lower one first (\`${hi}-${lo}\`)`;
      ranges.push([lo, hi]);
      j += 2;
    } else ranges.push([lo, lo]);
  }
  const inClass = (c: string) => ranges.some(([lo, hi]) => c >= lo && c <= hi);
  return { test: (c) => inClass(c) !== negate, ...(problem ? { problem } : {}) };
}

function compile(pattern: string): Compiled {
  const tokens: Token[] = [];
  let problem: string | undefined;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      // A run of stars is one star: the matcher's cost does not depend on how many.
      if (!tokens[tokens.length - 1]?.star) tokens.push({ star: true });
    } else if (c === '?') tokens.push({ star: false, test: () => true });
    else if (c === '[' && pattern.indexOf(']', i + 1) >= 0) {
      const close = pattern.indexOf(']', i + 1);
      const cls = classToken(pattern.slice(i + 1, close));
      problem ??= cls.problem && `\`${pattern.slice(i, close + 1)}\` is not a valid class: ${cls.problem}.`;
      tokens.push({ star: false, test: cls.test });
      i = close;
    } else tokens.push({ star: false, test: (x) => x === c });
  }
  return problem ? { tokens, problem } : { tokens };
}

function compiled(pattern: string): Compiled {
  let c = cache.get(pattern);
  if (!c) {
    c = compile(pattern);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(pattern, c);
  }
  return c;
}

/** Wildcard matching with one backtracking point (the last star): linear passes, never exponential. */
function matchWhole(tokens: readonly Token[], s: string, end: number): boolean {
  let p = 0;
  let i = 0;
  let starP = -1;
  let starI = 0;
  while (i < end) {
    const t = tokens[p];
    if (t && !t.star && t.test(s[i]!)) {
      p++;
      i++;
    } else if (t?.star) {
      starP = p++;
      starI = i;
    } else if (starP >= 0) {
      p = starP + 1;
      i = ++starI;
    } else return false;
  }
  while (tokens[p]?.star) p++;
  return p === tokens.length;
}

/** Why `pattern` cannot be used (a malformed class), or undefined when it is fine. */
export function patternProblem(pattern: string): string | undefined {
  return compiled(pattern).problem;
}

/** Whole name, or a module prefix followed by `.rest`. A malformed pattern matches nothing. */
export function matchesPattern(name: string, pattern: string): boolean {
  const c = compiled(pattern);
  if (c.problem) return false;
  if (matchWhole(c.tokens, name, name.length)) return true;
  for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) {
    if (matchWhole(c.tokens, name, dot)) return true;
  }
  return false;
}

export function matchesAny(name: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => matchesPattern(name, p));
}

/** A parameter is frozen when a `freeze` pattern matches it and no `unfreeze` pattern does. */
export function isFrozen(name: string, freeze: readonly string[], unfreeze: readonly string[]): boolean {
  return matchesAny(name, freeze) && !matchesAny(name, unfreeze);
}

export function trainablePredicate(freeze: readonly string[], unfreeze: readonly string[]): (name: string) => boolean {
  return (name) => !isFrozen(name, freeze, unfreeze);
}

/** Patterns (by index) that match none of `names`: the language server warns about them. */
export function unmatchedPatterns(patterns: readonly string[], names: readonly string[]): number[] {
  const out: number[] = [];
  patterns.forEach((p, i) => {
    if (!names.some((n) => matchesPattern(n, p))) out.push(i);
  });
  return out;
}
