/**
 * The "Fine-tune model" and "Train from scratch" wizards: quick picks for the data file (workspace files of a
 * supported type), its text and label columns (read from the header), the base model (model folders of the
 * workspace, checkpoints of earlier runs, or a typed Hub id) or the architecture and tokenizer, and the task.
 * The answers go to configWriter.ts, which writes the documented config next to the data.
 */
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import * as vscode from 'vscode';
import { readHeader } from '../files/data/sample';
import type { Mode, Task } from '../common/config/schema';
import { ARCHITECTURE_PRESETS } from './configWriter';
import type { WizardAnswers } from './configWriter';
import type { RunInfo } from './runModel';

const DATA_GLOB = '**/*.{csv,tsv,jsonl,json}';
const EXCLUDE = '{**/node_modules/**,**/.git/**,**/.finetune/**,**/.vscode/**,**/dist/**}';
/** JSON files that are never data sets. */
const NOT_DATA =
  /(^|\/)(package(-lock)?|tsconfig|jsconfig|config|tokenizer|tokenizer_config|special_tokens_map|trainer_state|generation_config|vocab|launch|settings|tasks|extensions|\.eslintrc)\.json$/i;

interface Pick<T> extends vscode.QuickPickItem {
  value?: T;
  /** Asks for typed input instead. */
  typed?: 'hub';
}

const TEXT_NAMES = ['text', 'sentence', 'sentence1', 'review', 'content', 'document', 'question', 'premise', 'body'];
const LABEL_NAMES = ['label', 'labels', 'class', 'category', 'sentiment', 'target', 'y'];

/** Shows a quick pick; when `hubPrompt` is set, whatever the user types can be taken as a Hub id. */
async function pickOne<T>(
  title: string,
  items: Pick<T>[],
  opts: { placeholder: string; step: number; steps: number; typedLabel?: (v: string) => string },
): Promise<Pick<T> | undefined> {
  const qp = vscode.window.createQuickPick<Pick<T>>();
  qp.title = title;
  qp.placeholder = opts.placeholder;
  qp.step = opts.step;
  qp.totalSteps = opts.steps;
  qp.ignoreFocusOut = true;
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  qp.items = items;
  const active = items.find((i) => i.picked);
  if (active) qp.activeItems = [active];
  if (opts.typedLabel) {
    const label = opts.typedLabel;
    qp.onDidChangeValue((v) => {
      const typed = v.trim();
      const base = items.filter((i) => !i.typed || !typed);
      // Last, so that the rows matching what was typed do not move under the pointer.
      qp.items = typed
        ? [...base, { label: label(typed), description: 'typed', value: typed as unknown as T, alwaysShow: true }]
        : items;
    });
  }
  return new Promise((resolve) => {
    let done = false;
    qp.onDidAccept(() => {
      done = true;
      resolve(qp.selectedItems[0] ?? qp.activeItems[0]);
      qp.hide();
    });
    qp.onDidHide(() => {
      if (!done) resolve(undefined);
      qp.dispose();
    });
    qp.show();
  });
}

export async function findDataFiles(): Promise<vscode.Uri[]> {
  const files = await vscode.workspace.findFiles(DATA_GLOB, EXCLUDE, 500);
  return files.filter((u) => !NOT_DATA.test(u.path)).sort((a, b) => a.path.localeCompare(b.path));
}

async function findFolders(marker: string): Promise<string[]> {
  const files = await vscode.workspace.findFiles(`**/${marker}`, '{**/node_modules/**,**/.git/**}', 200);
  return [...new Set(files.map((u) => path.dirname(u.fsPath)))].filter((d) => !/[\\/]checkpoint-\d+$/.test(d)).sort();
}

/** A typed name that is a folder next to the data or in the workspace is that folder; anything else is a Hub id. */
async function typedPath(value: string, dataFile: string): Promise<string> {
  if (path.isAbsolute(value)) return value;
  const candidates = [
    path.resolve(path.dirname(dataFile), value),
    ...(vscode.workspace.workspaceFolders ?? []).map((f) => path.resolve(f.uri.fsPath, value)),
  ];
  for (const c of candidates) {
    if (
      await fs.stat(c).then(
        (s) => s.isDirectory(),
        () => false,
      )
    )
      return c;
  }
  return value;
}

function relLabel(p: string): string {
  return vscode.workspace.asRelativePath(p, true);
}

export async function runWizard(
  mode: Mode,
  runs: RunInfo[],
  preselect?: vscode.Uri,
): Promise<WizardAnswers | undefined> {
  const title = mode === 'fine-tune' ? 'Fine-tune model' : 'Train from scratch';
  const steps = mode === 'fine-tune' ? 5 : 6;
  // 1. Data file
  const files = await findDataFiles();
  if (!files.length) {
    const choice = await vscode.window.showErrorMessage(
      'No data file in the workspace. Add a CSV, TSV, JSONL or JSON file with a text column and a label column (e.g. `text,label`), then run this again.',
      'Open folder…',
    );
    if (choice) await vscode.commands.executeCommand('workbench.action.files.openFolder');
    return undefined;
  }
  const current = preselect?.fsPath ?? vscode.window.activeTextEditor?.document.uri.fsPath;
  const dataPick = await pickOne<string>(
    title,
    files.map((u) => ({
      label: path.basename(u.fsPath),
      description: relLabel(path.dirname(u.fsPath)),
      value: u.fsPath,
      picked: u.fsPath === current,
    })),
    { placeholder: 'Training data: a CSV, TSV, JSONL or JSON file with a text column', step: 1, steps },
  );
  if (!dataPick?.value) return undefined;
  const dataFile = dataPick.value;
  let columns: string[];
  try {
    // A header that repeats a name offers it once: the readers take the first column of that name.
    columns = [...new Set(await readHeader(dataFile))];
  } catch (e) {
    void vscode.window.showErrorMessage(`Cannot read the columns of ${relLabel(dataFile)}: ${(e as Error).message}`);
    return undefined;
  }
  if (!columns.length) {
    void vscode.window.showErrorMessage(
      `${relLabel(dataFile)} has no header row or no columns: the first line should name the columns, e.g. \`text,label\`.`,
    );
    return undefined;
  }
  // 2. Text column
  const guessText = columns.find((c) => TEXT_NAMES.includes(c.toLowerCase())) ?? columns[0];
  const textPick = await pickOne<string>(
    title,
    columns.map((c) => ({ label: c, value: c, picked: c === guessText })),
    { placeholder: 'Column holding the text', step: 2, steps },
  );
  if (!textPick?.value) return undefined;
  // 3. Label column (none = masked-lm)
  const guessLabel = columns.find((c) => LABEL_NAMES.includes(c.toLowerCase()) && c !== textPick.value);
  const labelItems: Pick<string | null>[] = columns
    .filter((c) => c !== textPick.value)
    .map((c) => ({ label: c, value: c, picked: c === guessLabel }));
  labelItems.push({
    label: '(no label column)',
    description: 'unlabelled text: masked-language-model training',
    value: null,
    picked: guessLabel === undefined,
  });
  const labelPick = await pickOne<string | null>(title, labelItems, {
    placeholder: 'Column holding the label',
    step: 3,
    steps,
  });
  if (!labelPick) return undefined;
  const labelColumn = labelPick.value ?? undefined;

  const answers: WizardAnswers = { mode, task: 'text-classification', dataFile, textColumn: textPick.value };
  if (labelColumn) answers.labelColumn = labelColumn;

  // 4. Base model, or architecture and tokenizer
  if (mode === 'fine-tune') {
    const items: Pick<string>[] = [];
    for (const dir of await findFolders('config.json')) {
      const hasWeights = await fs.readdir(dir).then(
        (fs) => fs.some((f) => f.endsWith('.safetensors') || f === 'pytorch_model.bin'),
        () => false,
      );
      if (hasWeights)
        items.push({
          label: `$(folder) ${path.basename(dir)}`,
          description: relLabel(dir),
          detail: 'model folder in the workspace',
          value: dir,
        });
    }
    for (const run of runs) {
      for (const c of [...run.checkpoints].reverse()) {
        items.push({
          label: `$(history) ${run.name} · step ${c.step}`,
          description: [c.isBest ? 'best' : '', c.isLast ? 'last' : ''].filter(Boolean).join(', '),
          detail: relLabel(c.path),
          value: c.path,
        });
      }
    }
    for (const id of ['prajjwal1/bert-tiny', 'google/bert_uncased_L-4_H-256_A-4', 'bert-base-uncased']) {
      items.push({
        label: `$(cloud-download) ${id}`,
        description: 'Hugging Face Hub (downloaded on first use)',
        value: id,
      });
    }
    const pick = await pickOne<string>(title, items, {
      placeholder: 'Base model: a model folder, an earlier checkpoint, or type a Hub id',
      step: 4,
      steps,
      typedLabel: (v) => `Use "${v}"`,
    });
    if (!pick?.value) return undefined;
    answers.model = await typedPath(pick.value, dataFile);
    // A local model cannot take texts longer than its position embeddings; a Hub model is checked when loaded.
    const positions = await fs.readFile(path.join(pick.value, 'config.json'), 'utf8').then(
      (t) => (JSON.parse(t) as { max_position_embeddings?: unknown }).max_position_embeddings,
      () => undefined,
    );
    if (typeof positions === 'number' && positions > 0) answers.baseMaxPositions = positions;
  } else {
    const presetPick = await pickOne<keyof typeof ARCHITECTURE_PRESETS>(
      title,
      (Object.keys(ARCHITECTURE_PRESETS) as (keyof typeof ARCHITECTURE_PRESETS)[]).map((k) => ({
        label: ARCHITECTURE_PRESETS[k].label,
        detail: ARCHITECTURE_PRESETS[k].detail,
        value: k,
        picked: k === 'mini',
      })),
      { placeholder: 'Architecture (you can edit every number in the config afterwards)', step: 4, steps },
    );
    if (!presetPick?.value) return undefined;
    answers.architecture = ARCHITECTURE_PRESETS[presetPick.value].arch;
    const toks = [...new Set([...(await findFolders('tokenizer.json')), ...(await findFolders('vocab.txt'))])];
    const items: Pick<string>[] = toks.map((d) => ({
      label: `$(folder) ${path.basename(d)}`,
      description: relLabel(d),
      detail: 'tokenizer in the workspace',
      value: d,
    }));
    items.push({
      label: '$(cloud-download) bert-base-uncased',
      description: 'Hugging Face Hub (downloaded on first use)',
      value: 'bert-base-uncased',
    });
    const pick = await pickOne<string>(title, items, {
      placeholder: 'Tokenizer: a folder with tokenizer.json or vocab.txt, or type a Hub id',
      step: 5,
      steps,
      typedLabel: (v) => `Use "${v}"`,
    });
    if (!pick?.value) return undefined;
    answers.tokenizer = await typedPath(pick.value, dataFile);
  }
  // 5. Task
  const taskItems: Pick<Task>[] = [
    {
      label: 'Text classification',
      description: 'text-classification',
      detail: 'One label per text (BertForSequenceClassification).',
      value: 'text-classification',
      picked: !!labelColumn,
    },
    {
      label: 'Masked language model',
      description: 'masked-lm',
      detail: 'Learn from unlabelled text by predicting masked words (pre-training).',
      value: 'masked-lm',
      picked: !labelColumn,
    },
  ];
  const taskPick = labelColumn
    ? await pickOne<Task>(title, taskItems, { placeholder: 'Task', step: steps, steps })
    : taskItems[1];
  if (!taskPick?.value) return undefined;
  answers.task = taskPick.value;
  if (answers.task === 'masked-lm') delete answers.labelColumn;
  return answers;
}
