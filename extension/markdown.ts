/**
 * Untrusted text (a run's name from run.json, a folder, a backend name) inside Markdown that VS Code renders in
 * hovers and tooltips. Escaped, it cannot become a link, an image fetched from a remote, HTML or emphasis.
 * Pure (no `vscode`), so it is tested under plain node.
 */
import type { RunInfo } from './runModel';

/** Every ASCII punctuation character that CommonMark lets a backslash escape; line breaks become spaces. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g, '\\$&');
}

/** A code span holding `text` verbatim: its fence is longer than any run of backticks inside (CommonMark). */
export function codeSpan(text: string): string {
  const one = text.replace(/[\r\n]+/g, ' ');
  const longest = Math.max(0, ...Array.from(one.matchAll(/`+/g), (m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = one.startsWith('`') || one.endsWith('`') || longest ? ' ' : '';
  return `${fence}${pad}${one}${pad}${fence}`;
}

/** The Runs view's tooltip of a run as Markdown: a title, and details (the caller adds the failure reason between). */
export function runTooltipMarkdown(run: Pick<RunInfo, 'name' | 'status' | 'runDir' | 'backend'>): {
  title: string;
  details: string;
} {
  const title = `**${escapeMarkdown(run.name)}** — ${escapeMarkdown(run.status)}\n\n`;
  let details = '';
  if (run.runDir) details += `Folder: ${codeSpan(run.runDir)}\n\n`;
  if (run.backend) details += `Backend: ${escapeMarkdown(run.backend)}\n\n`;
  return { title, details };
}
