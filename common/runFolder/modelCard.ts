/**
 * The model card (`README.md`) of a checkpoint, as Hugging Face's Trainer writes one (`create_model_card`): YAML
 * metadata the Hub reads (`base_model`, `library_name`, `tags`, `datasets`, `metrics`), then what the model was
 * fine-tuned from, at which revision and commit, on what data, with which hyper-parameters and results.
 *
 * Everything in it comes from the user or a remote (model ids, revisions, labels, file and data set names), so
 * YAML values are written as JSON strings (a YAML double-quoted scalar) and Markdown text is escaped: a label
 * named `---` or `](javascript:…)` stays text.
 */
import * as path from 'node:path';
import { looksLikeHubId } from '../config/fileChecks';
import type { FineTuneConfig } from '../config/schema';
import { FULL_SHA } from '../hubRevision';
import type { TrainerStateFile } from './trainerState';

export const MODEL_CARD_FILE = 'README.md';

export interface ModelCardFacts {
  title: string;
  mode: 'fine-tune' | 'from-scratch';
  modelType: string;
  /** The Hub id of the pre-trained model, when it came from the Hub. */
  baseModel?: string;
  /** A local model folder's name (never its absolute path: the card may be shared). */
  baseFolder?: string;
  /** The revision the config asked for (`model.revision`), and the commit it resolved to. */
  revision?: string;
  commit?: string;
  dataset?: { name: string; config?: string; revision?: string };
  trainFile?: string;
  problemType?: string;
  /** The pipeline that loads it, as the Hub's `pipeline_tag` names it. */
  pipeline: 'text-classification' | 'fill-mask';
  labels: readonly string[];
  hyperparameters: ReadonlyArray<readonly [string, string | number | boolean]>;
  /** The latest validation evaluation, as the Trainer's card shows it (`eval_loss`, `eval_accuracy`, ...). */
  results: ReadonlyArray<readonly [string, number]>;
  step: number;
  /** Who wrote the checkpoint (trainer_state.json's `generatedBy`: the version and engine). */
  engine: string;
}

/** What the card says, from the run's config, the source model's config.json and the checkpoint's state. */
export function modelCardFacts(
  c: FineTuneConfig,
  sourceConfig: Readonly<Record<string, unknown>> | undefined,
  state: TrainerStateFile,
  /** The run folder's name, the title when the config names no `run_name`. */
  runFolder: string,
): ModelCardFacts {
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const nameOrPath = c.mode === 'fine-tune' ? c.model.name_or_path : undefined;
  const commit = str(sourceConfig?.finetune_studio_revision);
  // The Hub loader records the id as given and the snapshot's commit (trainer/hf/modelFolder.ts). A local folder
  // keeps its config.json's own values (a checkpoint of a Hub model names that model), so they must match.
  const fromHub =
    nameOrPath !== undefined &&
    looksLikeHubId(nameOrPath) &&
    sourceConfig?._name_or_path === nameOrPath &&
    commit !== undefined &&
    FULL_SHA.test(commit);
  return {
    title: c.run_name ?? runFolder,
    mode: c.mode === 'fine-tune' ? 'fine-tune' : 'from-scratch',
    modelType: str(sourceConfig?.model_type) ?? c.model.architecture?.model_type ?? 'bert',
    ...(fromHub ? { baseModel: nameOrPath, revision: c.model.revision ?? 'main', commit } : {}),
    ...(nameOrPath !== undefined && !fromHub ? { baseFolder: path.basename(nameOrPath) } : {}),
    ...datasetFacts(c),
    ...(c.task === 'text-classification' ? { problemType: c.model.problem_type ?? 'single_label_classification' } : {}),
    pipeline: c.task === 'masked-lm' ? 'fill-mask' : 'text-classification',
    labels: state.labels ?? [],
    hyperparameters: hyperparameters(c),
    results: latestEval(state.log_history ?? []),
    step: state.global_step,
    engine: state.generatedBy ?? 'finetune-studio',
  };
}

function datasetFacts(c: FineTuneConfig): Pick<ModelCardFacts, 'dataset' | 'trainFile'> {
  const d = c.data;
  if (d.dataset_name !== undefined) {
    const dataset = {
      name: d.dataset_name,
      ...(d.dataset_config_name !== undefined ? { config: d.dataset_config_name } : {}),
      ...(d.revision !== undefined ? { revision: d.revision } : {}),
    };
    return { dataset };
  }
  return d.train_file !== undefined ? { trainFile: path.basename(d.train_file) } : {};
}

function hyperparameters(c: FineTuneConfig): [string, string | number | boolean][] {
  const t = c.training;
  return [
    ['learning_rate', t.learning_rate],
    ['train_batch_size', t.per_device_train_batch_size],
    ['eval_batch_size', t.per_device_eval_batch_size],
    ['gradient_accumulation_steps', t.gradient_accumulation_steps],
    ['seed', t.seed],
    ['optimizer', `AdamW with betas=(${t.adam_beta1},${t.adam_beta2}) and epsilon=${t.adam_epsilon}`],
    ['weight_decay', t.weight_decay],
    ['lr_scheduler_type', t.lr_scheduler_type],
    ...(t.warmup_steps > 0
      ? [['lr_scheduler_warmup_steps', t.warmup_steps] as [string, number]]
      : t.warmup_ratio > 0
        ? [['lr_scheduler_warmup_ratio', t.warmup_ratio] as [string, number]]
        : []),
    t.max_steps > 0 ? ['training_steps', t.max_steps] : ['num_epochs', t.num_train_epochs],
    ['max_length', c.data.max_length],
    // Patterns are the user's: code spans, so that `*` and `_` stay as typed.
    ...(c.freeze.length ? [['freeze', c.freeze.map(code).join(', ')] as [string, string]] : []),
  ];
}

/** The metrics of the last validation evaluation in the log (HF names: eval_loss, eval_accuracy, ...). */
function latestEval(log: readonly Record<string, unknown>[]): [string, number][] {
  for (let i = log.length - 1; i >= 0; i--) {
    const entry = log[i]!;
    const metrics = Object.entries(entry).filter(
      // Names as the engines write them (eval_f1_macro): they print as they are.
      (e): e is [string, number] => /^eval_\w+$/.test(e[0]) && typeof e[1] === 'number' && Number.isFinite(e[1]),
    );
    if (metrics.length) return metrics.filter(([k]) => !/^eval_(runtime|samples_per_second|steps_per_second)$/.test(k));
  }
  return [];
}

/** A YAML scalar that can hold anything: a JSON string is a valid YAML double-quoted string. */
const yamlString = (s: string): string => JSON.stringify(s);

/** Markdown text that renders as itself: no links, emphasis, HTML or line breaks from a user's label. */
export function markdownText(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').replace(/[\\`*_{}[\]<>#+!|~&]/g, (ch) => `\\${ch}`);
}

/** A code span: backslashes are literal inside one, so a backtick (which would end it) and line breaks go. */
function code(s: string): string {
  return '`' + s.replace(/[\r\n]+/g, ' ').replace(/`/g, "'") + '`';
}

function frontMatter(f: ModelCardFacts): string[] {
  const metrics = [...new Set(f.results.map(([k]) => k.replace(/^eval_/, '')).filter((k) => k !== 'loss'))];
  return [
    '---',
    'library_name: transformers',
    `pipeline_tag: ${f.pipeline}`,
    ...(f.baseModel ? [`base_model: ${yamlString(f.baseModel)}`] : []),
    'tags:',
    '- generated_from_trainer',
    '- finetune-studio',
    ...(f.dataset ? ['datasets:', `- ${yamlString(f.dataset.name)}`] : []),
    ...(metrics.length ? ['metrics:', ...metrics.map((m) => `- ${yamlString(m)}`)] : []),
    'model-index:',
    `- name: ${yamlString(f.title)}`,
    '  results: []',
    '---',
  ];
}

function origin(f: ModelCardFacts): string {
  if (f.baseModel) {
    const id = markdownText(f.baseModel);
    const url = `https://huggingface.co/${encodeURI(f.baseModel)}`;
    const at = f.commit ? ` at revision ${code(f.revision ?? 'main')} (commit \`${f.commit}\`)` : '';
    return `This ${f.modelType} model is a fine-tuned version of [${id}](${url})${at}`;
  }
  if (f.baseFolder) return `This ${f.modelType} model is fine-tuned from the local model folder ${code(f.baseFolder)}`;
  return `This ${f.modelType} model was trained from scratch (random initialisation)`;
}

function data(f: ModelCardFacts): string {
  if (f.dataset) {
    const cfg = f.dataset.config ? `, configuration ${code(f.dataset.config)}` : '';
    const rev = f.dataset.revision ? `, revision ${code(f.dataset.revision)}` : '';
    return ` on the Hub data set ${code(f.dataset.name)}${cfg}${rev}.`;
  }
  return f.trainFile ? ` on ${code(f.trainFile)}.` : '.';
}

/** The card's text: front matter, then the sections of HF's generated cards. */
export function modelCardText(f: ModelCardFacts): string {
  const lines = [...frontMatter(f), '', `# ${markdownText(f.title)}`, '', origin(f) + data(f), ''];
  if (f.results.length) {
    lines.push(`It achieves the following results on the evaluation set (step ${f.step}):`, '');
    for (const [k, v] of f.results) lines.push(`- ${k.replace(/^eval_/, '')}: ${Number(v.toPrecision(6))}`);
    lines.push('');
  }
  if (f.problemType) {
    lines.push('## Task', '', `\`${f.problemType}\``);
    if (f.labels.length) lines.push('', `Labels: ${f.labels.map((l) => `${code(l)}`).join(', ')}`);
    lines.push('');
  }
  lines.push('## Training hyperparameters', '');
  // Values are numbers, validated enums, our own words, or code spans (hyperparameters()).
  for (const [k, v] of f.hyperparameters) lines.push(`- ${k}: ${v}`);
  lines.push('', '## Use', '', '```python', 'from transformers import pipeline');
  lines.push(`model = pipeline("${f.pipeline}", model="path/to/this/folder")`, '```');
  lines.push('', '## Framework versions', '', `- ${markdownText(f.engine)}`, '');
  return lines.join('\n');
}
