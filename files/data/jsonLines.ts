/**
 * A JSON dataset is an array of objects, or `{"data": [...]}`. JSON.parse loses positions, so a small
 * scanner finds the line where each record object starts; errors can then point at it.
 */
import { FineTuneError } from '../../common/errors';

export interface LocatedRecord {
  values: Record<string, unknown>;
  line: number;
}

export function locateJsonRecords(text: string, file: string): LocatedRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const pos = /position (\d+)/.exec(message);
    const line = pos ? lineAt(text, Number(pos[1])) : undefined;
    throw new FineTuneError('data-bad-json', `${file} is not valid JSON`, {
      file,
      ...(line !== undefined ? { line } : {}),
      detail: message,
      fix: 'A .json dataset is an array of objects, [{"text": "...", "label": "pos"}, ...]; for one object per line use .jsonl.',
    });
  }
  let items: unknown[];
  let nested: boolean;
  if (Array.isArray(parsed)) {
    items = parsed;
    nested = false;
  } else if (typeof parsed === 'object' && parsed !== null && Array.isArray((parsed as { data?: unknown }).data)) {
    items = (parsed as { data: unknown[] }).data;
    nested = true;
  } else {
    throw new FineTuneError('data-bad-json', `${file} is neither an array of objects nor {"data": [...]}`, {
      file,
      line: 1,
      fix: 'Write the records as [{"text": "...", "label": "pos"}, ...].',
    });
  }
  const starts = recordStarts(text, nested);
  const lines = starts.length === items.length ? starts.map((p) => lineAt(text, p)) : undefined;
  return items.map((v, i) => {
    const line = lines?.[i] ?? 1;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      throw new FineTuneError('data-bad-json', `record ${i + 1} is not a JSON object`, {
        file,
        line,
        fix: 'Each record must be an object such as {"text": "...", "label": "pos"}.',
      });
    }
    return { values: v as Record<string, unknown>, line };
  });
}

/** Offsets of the values that are elements of the records array (top-level array, or the root's "data"). */
function recordStarts(text: string, nested: boolean): number[] {
  const starts: number[] = [];
  const stack: string[] = [];
  let lastRootKey: string | undefined;
  let expectValue = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '"') {
      const start = i;
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      if (stack.length === 1 && stack[0] === '{') {
        let j = i + 1;
        while (j < text.length && /\s/.test(text[j] as string)) j++;
        if (text[j] === ':') lastRootKey = JSON.parse(text.slice(start, i + 1)) as string;
      }
      if (inRecords(stack, nested, lastRootKey) && expectValue) starts.push(start);
      expectValue = false;
      continue;
    }
    if (/\s/.test(c)) continue;
    if (inRecords(stack, nested, lastRootKey) && expectValue) starts.push(i);
    expectValue = false;
    if (c === '{' || c === '[') {
      stack.push(c);
      expectValue = inRecords(stack, nested, lastRootKey);
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      expectValue = inRecords(stack, nested, lastRootKey);
    }
  }
  return starts;
}

function inRecords(stack: string[], nested: boolean, rootKey: string | undefined): boolean {
  if (!nested) return stack.length === 1 && stack[0] === '[';
  return stack.length === 2 && stack[0] === '{' && stack[1] === '[' && rootKey === 'data';
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}
