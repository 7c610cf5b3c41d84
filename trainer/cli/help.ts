/** The help texts, written from the command table (commands.ts), so that they list exactly what is parsed. */
import { COMMAND_SPECS, COMMANDS, EXIT } from './commands';
import type { CommandName, FlagSpec } from './commands';

const EXIT_STATUS = [
  'Exit status:',
  `  ${EXIT.done}    done: the run completed, stopped early, or was stopped by its host`,
  `  ${EXIT.failed}    failed: training, evaluation or prediction went wrong (the error says why)`,
  `  ${EXIT.badInput}    bad input: an unknown flag, an invalid config or override value, a missing file or folder`,
  `  ${EXIT.interrupted}  stopped with Ctrl-C (once: after the current step, with a checkpoint; twice: cancelled)`,
];

function table(rows: [string, string][]): string[] {
  const width = Math.max(...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `  ${a.padEnd(width)}  ${b}`);
}

function flagLabel(f: FlagSpec): string {
  const long = `--${f.name}${f.type === 'string' ? ` ${f.value ?? 'VALUE'}` : ''}`;
  return f.short ? `-${f.short}, ${long}` : `    ${long}`;
}

export function programHelp(version: string): string {
  return [
    `finetune-studio ${version}: train, fine-tune, evaluate and try BERT models for text classification.`,
    '',
    'Usage:',
    '  finetune-studio <command> [options]',
    '  finetune-studio <command> --help',
    '',
    'Commands:',
    ...table(COMMANDS.map((c) => [c, COMMAND_SPECS[c].summary])),
    '',
    'Options:',
    ...table([
      ['-h, --help', 'show this help'],
      ['-V, --version', 'print the version'],
    ]),
    '',
    ...EXIT_STATUS,
    '',
  ].join('\n');
}

export function commandHelp(name: CommandName): string {
  const c = COMMAND_SPECS[name];
  const lines = [`Usage: ${c.usage}`, '', `${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.`, ''];
  if (c.positionals.length) lines.push('Arguments:', ...table(c.positionals.map((p) => [p.name, p.help])), '');
  lines.push('Options:', ...table(c.flags.map((f) => [flagLabel(f), f.help])), '');
  if (c.overrides) {
    lines.push(
      'Config overrides (Hugging Face style):',
      '  --<key> VALUE, for any key of the config: --learning_rate 3e-5, --training.learning_rate 3e-5,',
      '  --model.name_or_path ./models/bert-mini, --per_device_train_batch_size 8, --max_steps 1. A bare key is',
      '  looked up in every section; a key two sections share needs its section. Values are read as YAML',
      "  (3e-5, true, null, [a, b]) and checked like the file; the run folder's config.resolved.yaml records them.",
      '  --max-steps and other dashed spellings work too.',
      '',
    );
  }
  lines.push('Examples:', ...c.examples.map((e) => `  ${e}`), '', ...EXIT_STATUS, '');
  return lines.join('\n');
}
