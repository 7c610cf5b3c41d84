/**
 * A count with its noun, for the text people read (the CLI, the status bar, notifications, logs): "1 step",
 * "2 steps", "0 steps". English only needs the one rule, plus the irregular plurals a caller names.
 */
export function plural(n: number, singular: string, pluralForm = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : pluralForm}`;
}
