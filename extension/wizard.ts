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
import { labelColumnChoices, pairColumnChoices, textColumnChoices, wizardStepCount } from './wizardColumns';

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
  // Until the columns are known, the count without the optional second-text step.
  let steps = wizardStepCount(mode === 'fine-tune', false);
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
  const picked = await pickColumns(title, columns, mode);
  if (!picked) return undefined;
  steps = picked.steps;
  let step = picked.nextStep;
  const { labelColumn } = picked;
  const answers: WizardAnswers = { mode, task: 'text-classification', dataFile, textColumn: picked.textColumn };
  if (picked.textPairColumn) answers.textPairColumn = picked.textPairColumn;
  if (labelColumn) answers.labelColumn = labelColumn;

  // Then the base model, or the architecture and tokenizer
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
      step: step++,
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
      { placeholder: 'Architecture (you can edit every number in the config afterwards)', step: step++, steps },
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
      step: step++,
      steps,
      typedLabel: (v) => `Use "${v}"`,
    });
    if (!pick?.value) return undefined;
    answers.tokenizer = await typedPath(pick.value, dataFile);
  }
  // Last: the task
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

interface PickedColumns {
  textColumn: string;
  textPairColumn?: string;
  labelColumn?: string;
  /** The wizard's step count, now that it is known whether the second-text step was shown. */
  steps: number;
  nextStep: number;
}

/** Steps 2 to 4: the text column, the optional second text of a pair, the label column (none: masked-lm). */
async function pickColumns(title: string, columns: readonly string[], mode: Mode): Promise<PickedColumns | undefined> {
  let steps = wizardStepCount(mode === 'fine-tune', false);
  const textPick = await pickOne<string>(title, textColumnChoices(columns), {
    placeholder: 'Column holding the text',
    step: 2,
    steps,
  });
  if (!textPick?.value) return undefined;
  const textColumn = textPick.value;
  const pairChoices = pairColumnChoices(columns, textColumn);
  steps = wizardStepCount(mode === 'fine-tune', pairChoices !== undefined);
  let step = 3;
  let textPairColumn: string | undefined;
  if (pairChoices) {
    const pairPick = await pickOne<string | null>(title, pairChoices, {
      placeholder: 'Second text of a sentence pair (paraphrase, NLI, question/answer), or none',
      step: step++,
      steps,
    });
    if (!pairPick) return undefined;
    textPairColumn = pairPick.value ?? undefined;
  }
  const texts = textPairColumn ? [textColumn, textPairColumn] : [textColumn];
  const labelPick = await pickOne<string | null>(title, labelColumnChoices(columns, texts), {
    placeholder: 'Column holding the label',
    step: step++,
    steps,
  });
  if (!labelPick) return undefined;
  return {
    textColumn,
    ...(textPairColumn ? { textPairColumn } : {}),
    ...(labelPick.value ? { labelColumn: labelPick.value } : {}),
    steps,
    nextStep: step,
  };
}
