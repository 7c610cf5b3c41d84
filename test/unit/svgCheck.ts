/** A check the demo's SVG charts share: well-formed without an XML parser (the project has none). */
import assert from 'node:assert/strict';

/** Every opened element is closed in order, and no text or attribute holds a raw `&` (so none holds a raw `<`). */
export function assertWellFormedSvg(svg: string): void {
  assert.ok(svg.startsWith('<?xml'));
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name);
    else stack.push(name as string);
  }
  assert.deepEqual(stack, [], 'every element closed');
  assert.ok(!/&(?!amp;|lt;|gt;|quot;|apos;)/.test(svg), 'unescaped ampersand');
}
