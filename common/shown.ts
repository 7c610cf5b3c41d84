/**
 * A name or value from a user's file (a column, a label) as it is quoted in a message: control characters
 * escaped and long text cut, since a "column name" may be a 50 MB cell of a file without a header.
 */
export function shown(s: string, max = 60): string {
  const cut = s.length > max ? `${s.slice(0, max - 3)}...` : s;
  // JSON's escapes for control characters (\n, \t, \u0000), without its surrounding quotes.
  return /[\u0000-\u001f\u007f]/.test(cut) ? JSON.stringify(cut).slice(1, -1) : cut;
}
