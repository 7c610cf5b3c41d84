/**
 * The wizard's column steps, as data: which columns each step offers, in what order, and which one it proposes.
 * The text column first, then an optional second text (sentence pairs: paraphrase, NLI, question answering), then
 * the label column from what is left. No `vscode` (wizard.ts shows these as quick picks): tested under node.
 */

/** One row of a column step; `value: null` is the step's "none" row. */
export interface ColumnChoice<T extends string | null> {
  label: string;
  description?: string;
  value: T;
  picked?: boolean;
}

const TEXT_NAMES = [
  'text',
  'sentence',
  'sentence1',
  'text_a',
  'question1',
  'question',
  'premise',
  'review',
  'content',
  'document',
  'body',
];
const LABEL_NAMES = ['label', 'labels', 'class', 'category', 'sentiment', 'target', 'y'];
/** The second text of the usual pair data sets (GLUE, SNLI/MNLI, QNLI, SQuAD-style), by the first one's name. */
const PAIR_NAMES = new Map<string, readonly string[]>([
  ['premise', ['hypothesis']],
  ['question', ['sentence', 'context', 'passage']],
  ['query', ['passage', 'document']],
  ['anchor', ['positive']],
]);

/** The first row: training on one text is what most data sets do, and picking it must be one keystroke. */
export const SINGLE_TEXT_LABEL = 'None — single text';

const lower = (c: string) => c.toLowerCase();

export function textColumnChoices(columns: readonly string[]): ColumnChoice<string>[] {
  const guess = columns.find((c) => TEXT_NAMES.includes(lower(c))) ?? columns[0];
  return columns.map((c) => ({ label: c, value: c, picked: c === guess }));
}

/**
 * The second text's step, or undefined when the file has no column to offer besides the text and its label (a
 * `text,label` file goes straight on to the label). "None" comes first and is proposed unless a column is named
 * as the second half of the text column (`sentence1` → `sentence2`, `premise` → `hypothesis`).
 */
export function pairColumnChoices(columns: readonly string[], text: string): ColumnChoice<string | null>[] | undefined {
  const others = columns.filter((c) => c !== text);
  if (others.length < 2) return undefined;
  const guess = pairGuess(others, text);
  const none: ColumnChoice<null> = {
    label: SINGLE_TEXT_LABEL,
    description: 'one text per example',
    value: null,
    picked: guess === undefined,
  };
  const rows = others.map((c) => ({
    label: c,
    description: `second text: [CLS] ${text} [SEP] ${c} [SEP]`,
    value: c,
    picked: c === guess,
  }));
  return [none, ...rows];
}

/** A column named as the partner of `text`: its name with 1/a turned into 2/b, or a known pair's second name. */
export function pairGuess(columns: readonly string[], text: string): string | undefined {
  const swapped = /^(.*?)([_-]?)(1|a|A)$/.exec(text);
  if (swapped) {
    const [, stem, sep, mark] = swapped;
    const partner = `${stem}${sep}${mark === '1' ? '2' : mark === 'a' ? 'b' : 'B'}`;
    if (stem && columns.includes(partner)) return partner;
  }
  const known = PAIR_NAMES.get(lower(text)) ?? [];
  return columns.find((c) => known.includes(lower(c)));
}

/** The label step: every column not already a text, then "no label column" (masked-language-model training). */
export function labelColumnChoices(
  columns: readonly string[],
  texts: readonly string[],
): ColumnChoice<string | null>[] {
  const left = columns.filter((c) => !texts.includes(c));
  const guess = left.find((c) => LABEL_NAMES.includes(lower(c)));
  const rows: ColumnChoice<string | null>[] = left.map((c) => ({ label: c, value: c, picked: c === guess }));
  rows.push({
    label: '(no label column)',
    description: 'unlabelled text: masked-language-model training',
    value: null,
    picked: guess === undefined,
  });
  return rows;
}

/**
 * How many steps the wizard shows: data file, text column, the optional second text, label column, then the base
 * model (fine-tune) or the architecture and tokenizer (from scratch), then the task.
 */
export function wizardStepCount(fineTune: boolean, pairStep: boolean): number {
  return 3 + (pairStep ? 1 : 0) + (fineTune ? 1 : 2) + 1;
}
