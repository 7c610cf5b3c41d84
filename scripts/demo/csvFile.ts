/** RFC 4180 CSV writing for the demo's split files (the trainer's own reader parses them back). */

/** Quotes a field when it holds a comma, a quote or a line break; quotes inside are doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** A header line and one line per row, `\n`-terminated. */
export function toCsv(columns: readonly string[], rows: readonly Record<string, string>[]): string {
  const lines = [columns.map(csvField).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvField(r[c] ?? '')).join(','));
  return `${lines.join('\n')}\n`;
}
