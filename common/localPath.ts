/**
 * Whether a model, tokenizer or checkpoint reference means a local path rather than a Hugging Face Hub id. A Hub id
 * is `name` or `org/name`; a path that is mistyped must be reported as a missing folder, not sent to the Hub
 * (which would answer "not found" or "cannot reach the Hub" about a repository the user never meant).
 */
/** By its spelling alone: `./x`, `../x`, `/x`, `~/x`, `C:\x`, `a\b`, `a/b/c` can only be paths. */
export function spelledAsPath(s: string): boolean {
  return (
    s.startsWith('.') ||
    s.startsWith('/') ||
    s.startsWith('~') ||
    s.includes('\\') ||
    /^[A-Za-z]:/.test(s) ||
    s.split('/').length > 2
  );
}

/**
 * A local reference: spelled as a path, or naming something that exists relative to `baseDir` (the config's
 * folder, or the working directory for a flag: `resolve` knows which), or whose first segment does: with a `runs/` folder next to the
 * config, `runs/nope` is a mistyped run, not the Hub repository `nope` of a user called `runs`.
 */
export async function isLocalReference(
  s: string,
  resolve: (relative: string) => string,
  exists: (absPath: string) => Promise<boolean>,
): Promise<boolean> {
  if (spelledAsPath(s)) return true;
  if (await exists(resolve(s))) return true;
  const first = s.split('/')[0]!;
  return first !== s && (await exists(resolve(first)));
}

/** The sentence for a local reference that is not there, naming the path as resolved. */
export function missingPathMessage(what: string, s: string, resolved: string): string {
  const shownAs = resolved === s ? resolved : `${s} (${resolved})`;
  return `no such ${what}: ${shownAs}`;
}
