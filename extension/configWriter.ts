/**
 * Writes the `*.finetune.yaml` that the "Fine-tune model" and "Train from scratch" wizards produce: a documented
 * file (each key's comment comes from the schema, the one source of truth) that validates cleanly, placed next to
 * the data under a free name. Pure node, no `vscode`: tested under plain node.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { configSchema } from '../common/config/schema';
import { defaultArchitecture } from '../common/config/defaults';
import type { ArchitectureConfig, Mode, Task } from '../common/config/schema';
import type { FieldSpec, SectionSpec } from '../common/config/spec';
import { pathExists } from '../common/fsProbe';
import { configBaseName } from '../common/config/configFile';
import { CONFIG_SCHEMA_URL } from '../common/config/jsonSchema';

export interface WizardAnswers {
  mode: Mode;
  task: Task;
  /** Absolute path of the training data. */
  dataFile: string;
  textColumn: string;
  textPairColumn?: string;
  /** Absent for masked-lm. */
  labelColumn?: string;
  /** fine-tune: an absolute model folder / checkpoint path, or a Hub id. */
  model?: string;
  /** from-scratch: an absolute tokenizer folder, or a Hub id. */
  tokenizer?: string;
  architecture?: ArchitectureConfig;
  /** fine-tune: the base model's `max_position_embeddings` (from its config.json), which bounds `max_length`. */
  baseMaxPositions?: number;
  runName?: string;
}

export const ARCHITECTURE_PRESETS: Record<
  'micro' | 'tiny' | 'mini' | 'small',
  { label: string; detail: string; arch: ArchitectureConfig }
> = {
  micro: {
    label: 'Micro (2 layers, 32 hidden, 2 heads, 64 tokens)',
    detail: 'Trains in seconds: for trying the tools out on a small data set, not for accuracy.',
    arch: { ...arch(32, 2, 2, 64), max_position_embeddings: 64 },
  },
  tiny: {
    label: 'Tiny (2 layers, 128 hidden, 2 heads) ≈ 4.4M parameters',
    detail:
      'Trains in minutes on a laptop CPU; for small data sets and experiments. Like google/bert_uncased_L-2_H-128_A-2.',
    arch: arch(128, 2, 2, 512),
  },
  mini: {
    label: 'Mini (4 layers, 256 hidden, 4 heads) ≈ 11M parameters',
    detail: 'A good default for a few thousand examples. Like google/bert_uncased_L-4_H-256_A-4.',
    arch: arch(256, 4, 4, 1024),
  },
  small: {
    label: 'Small (4 layers, 512 hidden, 8 heads) ≈ 29M parameters',
    detail: 'Needs a native or GPU backend to train in reasonable time. Like google/bert_uncased_L-4_H-512_A-8.',
    arch: arch(512, 4, 8, 2048),
  },
};

function arch(hidden: number, layers: number, heads: number, inter: number): ArchitectureConfig {
  return {
    ...defaultArchitecture(),
    hidden_size: hidden,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    intermediate_size: inter,
  };
}

/**
 * The JSON Schema the project generates (schemas/finetune.schema.json), where editors without this extension find
 * it: the Red Hat YAML extension and other yaml-language-server clients read this first-line comment.
 */
const SCHEMA_LINE = `# yaml-language-server: $schema=${CONFIG_SCHEMA_URL}`;

type Scalar = string | number | boolean;
type Entry = [key: string, value: Scalar | Entry[], comment?: string];

/** The config text. `configDir` is where the file will live: paths are written relative to it. */
export function renderConfig(a: WizardAnswers, configDir: string, now = new Date()): string {
  const rel = (p: string) => {
    if (!path.isAbsolute(p)) return p; // a Hub id
    const r = path.relative(configDir, p).split(path.sep).join('/');
    // A leading ./ keeps a relative folder such as `models/tiny` from reading as the Hub id `models/tiny`.
    return r === '' ? '.' : r === '..' || r.startsWith('./') || r.startsWith('../') ? r : `./${r}`;
  };
  const classification = a.task === 'text-classification';
  const model: Entry[] = [];
  if (a.mode === 'fine-tune') model.push(['name_or_path', rel(a.model ?? 'prajjwal1/bert-tiny')]);
  else {
    model.push(['tokenizer', rel(a.tokenizer ?? 'bert-base-uncased')]);
    const ar = a.architecture ?? ARCHITECTURE_PRESETS.mini.arch;
    model.push(['architecture', Object.entries(ar).map(([k, v]) => [k, v as number] as Entry)]);
  }
  const data: Entry[] = [
    ['train_file', rel(a.dataFile).replace(/^\.\//, '')],
    ['text_column', a.textColumn],
  ];
  if (a.textPairColumn) data.push(['text_pair_column', a.textPairColumn]);
  if (classification && a.labelColumn) data.push(['label_column', a.labelColumn]);
  const maxPositions =
    a.mode === 'from-scratch'
      ? (a.architecture ?? ARCHITECTURE_PRESETS.mini.arch).max_position_embeddings
      : (a.baseMaxPositions ?? 512);
  data.push(['validation_split', 0.1], ['max_length', Math.min(128, maxPositions)]);
  const training: Entry[] = [
    ['num_train_epochs', 3],
    ['per_device_train_batch_size', 16],
    ['learning_rate', a.mode === 'fine-tune' ? 5e-5 : 5e-4],
    ['weight_decay', 0.01],
    ['warmup_ratio', 0.1],
    ['eval_strategy', 'epoch'],
    ['save_strategy', 'epoch'],
    ['save_total_limit', 2],
    ['metric_for_best_model', classification ? 'accuracy' : 'loss'],
    ['logging_steps', 5],
    ['seed', 42],
  ];
  const top: Entry[] = [
    ['mode', a.mode],
    ['task', a.task],
    ['run_name', a.runName ?? path.basename(a.dataFile).replace(/\.[^.]+$/, '')],
    ['backend', 'auto'],
    ['model', model],
    ['data', data],
    ['training', training],
  ];
  const wizard = a.mode === 'fine-tune' ? 'Fine-tune model' : 'Train from scratch';
  const head = [
    SCHEMA_LINE,
    `# Fine-Tune Studio training config, written by "${wizard}" on ${now.toISOString().slice(0, 10)}.`,
    '# Hover a key for its documentation; keys follow Hugging Face TrainingArguments and BertConfig.',
    '# Start training with "▶ Start run" above, or the command "Fine-Tune: Start run".',
    '',
    '',
  ];
  return head.join('\n') + renderEntries(top, configSchema as SectionSpec<unknown>, 0).join('\n') + '\n';
}

function renderEntries(entries: Entry[], spec: SectionSpec<unknown> | undefined, depth: number): string[] {
  const out: string[] = [];
  const pad = '  '.repeat(depth);
  for (const [key, value, comment] of entries) {
    const field = spec?.fields ? ((spec.fields as Record<string, FieldSpec>)[key] as FieldSpec | undefined) : undefined;
    const doc = comment ?? (field ? firstSentence(field.description) : undefined);
    if (Array.isArray(value)) {
      if (depth === 0) out.push('');
      if (doc) out.push(`${pad}# ${doc}`);
      out.push(`${pad}${key}:`);
      out.push(
        ...renderEntries(
          value,
          field && field.type === 'section' ? (field as SectionSpec<unknown>) : undefined,
          depth + 1,
        ),
      );
    } else {
      if (doc) out.push(`${pad}# ${doc}`);
      out.push(`${pad}${key}: ${yamlScalar(value)}`);
    }
  }
  return out;
}

function firstSentence(s: string | undefined): string | undefined {
  if (!s) return undefined;
  const m = /^(.+?[.!?])(\s|$)/.exec(s.replace(/\s+/g, ' '));
  return (m ? m[1] : s) as string;
}

/** A scalar in plain style when YAML reads it back as the same string, else double-quoted (JSON is valid YAML). */
export function yamlScalar(v: Scalar): string {
  if (typeof v === 'number' && v !== 0 && Math.abs(v) < 1e-3) return v.toExponential(); // 5e-5, as users write it
  if (typeof v !== 'string') return String(v);
  const plain = /^[A-Za-z0-9_./@-][A-Za-z0-9_ ./@()+-]*$/.test(v) && !v.endsWith(' ');
  const ambiguous = /^(true|false|yes|no|on|off|null|~|y|n)$/i.test(v) || /^[-+.]?\d/.test(v) || v.startsWith('-');
  return plain && !ambiguous ? v : JSON.stringify(v);
}

/** `<base>.finetune.yaml`, or `<base>-2.finetune.yaml`, … : the first name not taken. */
export async function freeConfigPath(
  dir: string,
  base: string,
  exists: (p: string) => Promise<boolean> = pathExists,
): Promise<string> {
  const clean = base.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'model';
  for (let i = 1; i < 1000; i++) {
    const p = path.join(dir, `${clean}${i === 1 ? '' : `-${i}`}.finetune.yaml`);
    if (!(await exists(p))) return p;
  }
  throw new Error(`${dir} already holds 999 configs named ${clean}-N.finetune.yaml; pick another name.`);
}

/**
 * Writes a new file without ever replacing one: the text goes to a temp file first, which is then hard-linked to
 * the target (link fails if the target exists, even when another process created it a moment ago).
 */
export async function writeNewFile(target: string, text: string): Promise<void> {
  const tmp = path.join(
    path.dirname(target),
    `.${path.basename(target)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
  );
  await fs.writeFile(tmp, text, { flag: 'wx' });
  try {
    await fs.link(tmp, target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw Object.assign(new Error(`${target} already exists; it was left untouched.`), { code: 'EEXIST' });
    // Filesystems without hard links: fall back on an exclusive create.
    await fs.writeFile(target, text, { flag: 'wx' });
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/** Picks a free name next to the data and writes the config there; returns its path. */
export async function writeWizardConfig(a: WizardAnswers, now = new Date()): Promise<string> {
  const dir = path.dirname(a.dataFile);
  for (let attempt = 0; ; attempt++) {
    const target = await freeConfigPath(dir, a.runName ?? path.basename(a.dataFile).replace(/\.[^.]+$/, ''));
    // The run is named after its config, so that runs of reviews.finetune.yaml and reviews-2.finetune.yaml differ.
    const runName = a.runName ?? configBaseName(target);
    try {
      await writeNewFile(target, renderConfig({ ...a, runName }, dir, now));
      return target;
    } catch (e) {
      // Someone took the name between the check and the link: take the next one.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 5) throw e;
    }
  }
}
