/**
 * Freeze patterns: globs over dotted parameter names. `*` matches any run of characters (dots included, as in
 * Python's fnmatch, which is what users of HF scripts know), `?` one character, `[0-3]` a class. A pattern
 * also matches everything below a module it names: `bert.embeddings` freezes `bert.embeddings.LayerNorm.weight`.
 */

const cache = new Map<string, RegExp>();

export function globToRegExp(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (re) return re;
  let src = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') src += '.*';
    else if (c === '?') src += '.';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 1);
      if (close < 0) src += '\\[';
      else {
        let cls = pattern.slice(i + 1, close).replace(/\\/g, '\\\\');
        if (cls.startsWith('!')) cls = '^' + cls.slice(1);
        src += `[${cls}]`;
        i = close;
      }
    } else src += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  // Whole name, or a module prefix followed by `.rest`.
  re = new RegExp(`^(?:${src})(?:\\..*)?$`);
  cache.set(pattern, re);
  return re;
}

export function matchesPattern(name: string, pattern: string): boolean {
  return globToRegExp(pattern).test(name);
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
