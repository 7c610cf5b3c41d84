/** Tiny DOM helpers for the panels: build elements without innerHTML, so that no data is ever parsed as markup. */

type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Record<string, string | boolean | undefined>,
  ...children: Child[]
): HTMLElementTagNameMap[K];
export function h(tag: string, attrs?: Record<string, string | boolean | undefined>, ...children: Child[]): HTMLElement;
export function h(
  tag: string,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

export function icon(name: string, label?: string): HTMLElement {
  return h('vscode-icon', { name, label, title: label });
}

export function button(
  label: string,
  onClick: () => void,
  opts: { icon?: string; secondary?: boolean; disabled?: boolean; title?: string } = {},
): HTMLElement {
  const b = h(
    'vscode-button',
    {
      icon: opts.icon,
      secondary: opts.secondary,
      disabled: opts.disabled,
      title: opts.title ?? label,
      'aria-label': opts.title ?? label,
    },
    label,
  );
  b.addEventListener('click', () => {
    if (!b.hasAttribute('disabled')) onClick();
  });
  return b;
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function problemBanner(root: HTMLElement): (message: string) => void {
  return (message) => {
    let banner = root.querySelector<HTMLElement>('.problem');
    if (!banner) {
      banner = h('div', { class: 'problem', role: 'alert' });
      root.prepend(banner);
    }
    banner.textContent = message;
  };
}

/** Lets the panels read VS Code theme colours for canvas drawing (CSS variables do not reach a 2D context). */
export function themeColor(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}
