// Issue 13, defect 7: the Runs view's tooltip renders run.json's fields as text. A name from disk must not become
// a link, a remote image, HTML or emphasis. Rendered with markdown-it (CommonMark, as VS Code's renderer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { codeSpan, escapeMarkdown, runTooltipMarkdown } from '../../extension/markdown';

interface MarkdownIt {
  render(src: string): string;
}
const markdownIt = createRequire(__filename)('markdown-it') as (options: { html: boolean }) => MarkdownIt;
// html: true is the harshest case: even then nothing the name holds may come out as a tag.
const md = markdownIt({ html: true });
const textOf = (html: string) =>
  html
    .replace(/<\/?(p|strong|code)>/g, '')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .trim();

const HOSTILE = [
  '[click](https://evil.example/x)',
  '![t](https://evil.example/pixel.png)',
  '<img src=x onerror=alert(1)>',
  '**bold** _it_ `code` ~~s~~',
  '# heading\n- item\n> quote',
  'a\\*b &amp; &#x3C;',
  '<https://evil.example>',
  '[ref]: https://evil.example',
];

test('a hostile run name renders as its own text, with no link, image, HTML or emphasis', () => {
  for (const name of HOSTILE) {
    const { title } = runTooltipMarkdown({ name, status: 'failed' });
    const html = md.render(title);
    assert.doesNotMatch(html, /<(a|img|em|h\d|ul|li|blockquote|s|del)\b/, `${name} → ${html}`);
    assert.equal(html.match(/<strong>/g)?.length, 1, html);
    assert.equal(textOf(html), `${name.replace(/\n/g, ' ')} — failed`);
  }
});

test('a folder with backticks stays one code span; the backend is escaped too', () => {
  const runDir = '/runs/a`b``c/`x';
  const { details } = runTooltipMarkdown({ name: 'n', status: 'completed', runDir, backend: '[w](http://e)' });
  const html = md.render(details);
  assert.equal(html.match(/<code>/g)?.length, 1, html);
  assert.ok(html.includes(`<code>${runDir}</code>`), html);
  assert.doesNotMatch(html, /<a\b/);
  assert.equal(md.render(codeSpan('plain')), '<p><code>plain</code></p>\n');
  assert.equal(escapeMarkdown('a_b'), 'a\\_b');
});
