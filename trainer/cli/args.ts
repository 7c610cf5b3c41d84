/**
 * Parses the command line of `finetune-studio` and of the trainer subprocess alike, with `node:util.parseArgs`
 * in strict mode: an unknown flag is an error with did-you-mean, never silently ignored. `train` also takes
 * config keys as flags (`--learning_rate 3e-5`, see common/config/overrides.ts); dashed and underscored
 * spellings of a flag are the same flag (`--max-steps`, `--max_steps`), as in `transformers`' HfArgumentParser.
 */
import { parseArgs } from 'node:util';
import { BACKEND_PREFERENCES } from '../../common/config/schema';
import type { BackendPreference } from '../../common/config/schema';
import { describeMisplaced, misplacedKey } from '../../common/config/misplacedKeys';
import { overrideNames, overrideTarget } from '../../common/config/overrides';
import type { ConfigOverride } from '../../common/config/overrides';
import { FineTuneError } from '../../common/errors';
import { didYouMean } from '../../common/textDistance';
import { COMMAND_SPECS, COMMANDS, isCommand } from './commands';
import type { CommandName, CommandSpec } from './commands';

export type CommandLine =
  | { kind: 'help'; command?: CommandName }
  | { kind: 'version' }
  | {
      kind: 'run';
      command: CommandName;
      positionals: string[];
      /** The command's own flags by name (`text-pair`), as parseArgs read them. */
      flags: Map<string, string | string[] | boolean>;
      overrides: ConfigOverride[];
      backend?: BackendPreference;
      json: boolean;
    };

export type RunCommandLine = Extract<CommandLine, { kind: 'run' }>;

/** A usage error: exit status 2, with the help that fixes it. */
export function usageError(message: string, command?: CommandName): FineTuneError {
  const help = command ? `finetune-studio ${command} --help` : 'finetune-studio --help';
  return new FineTuneError('usage', message, { fix: `See \`${help}\`.` });
}

export function parseCommandLine(argv: readonly string[]): CommandLine {
  const [first, ...rest] = argv;
  if (first === undefined) throw usageError('no command given: train, evaluate or predict');
  if (first === '--help' || first === '-h') return { kind: 'help' };
  if (first === 'help') return isCommand(rest[0]) ? { kind: 'help', command: rest[0] } : { kind: 'help' };
  if (first === '--version' || first === '-V') return { kind: 'version' };
  if (!isCommand(first)) {
    const guess = didYouMean(first, COMMANDS);
    const what = first.startsWith('-') ? `unknown option ${first}` : `unknown command ${first}`;
    throw usageError(
      `${what}${guess ? `. Did you mean \`${guess}\`?` : '; the commands are train, evaluate, predict'}`,
    );
  }
  return parseCommand(COMMAND_SPECS[first], rest);
}

function parseCommand(spec: CommandSpec, args: readonly string[]): CommandLine {
  const declared = declaredFlags(spec);
  const { tokens: normal, typed } = normaliseFlags(spec, args, declared);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: normal, options: declared, strict: true, allowPositionals: true, tokens: true });
  } catch (e) {
    throw usageError(parseArgsMessage(e), spec.name);
  }
  if (parsed.values['help'] === true) return { kind: 'help', command: spec.name };
  if (parsed.positionals.length > spec.positionals.length) {
    const extra = parsed.positionals[spec.positionals.length]!;
    throw usageError(`${spec.name} takes ${describePositionals(spec)}; unexpected argument ${extra}`, spec.name);
  }
  const flags = new Map<string, string | string[] | boolean>();
  const overrides: ConfigOverride[] = [];
  for (const t of parsed.tokens ?? []) {
    if (t.kind !== 'option') continue;
    const own = spec.flags.some((f) => f.name === t.name);
    if (own) flags.set(t.name, parsed.values[t.name] as string | string[] | boolean);
    else overrides.push(overrideOf(t.name, typed.get(t.index) ?? t.name, t.value ?? ''));
  }
  const backend = backendOf(flags.get('backend'), spec.name);
  return {
    kind: 'run',
    command: spec.name,
    positionals: parsed.positionals,
    flags,
    overrides,
    ...(backend ? { backend } : {}),
    json: flags.get('json') === true,
  };
}

type ParseOptions = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

function declaredFlags(spec: CommandSpec): ParseOptions {
  const out: ParseOptions = Object.create(null) as ParseOptions;
  if (spec.overrides) for (const name of overrideNames()) out[name] = { type: 'string' };
  for (const f of spec.flags) {
    out[f.name] = { type: f.type, ...(f.multiple ? { multiple: true } : {}), ...(f.short ? { short: f.short } : {}) };
  }
  return out;
}

/**
 * Rewrites each `--flag` to its declared spelling (`--max-steps` → `--max_steps`) and refuses an undeclared one.
 * `typed` maps a token's index to the name the user wrote, for messages and the resolved config.
 */
function normaliseFlags(
  spec: CommandSpec,
  args: readonly string[],
  declared: ParseOptions,
): { tokens: string[]; typed: Map<number, string> } {
  const tokens = [...args];
  const typed = new Map<number, string>();
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token === '--') break;
    if (!token.startsWith('--')) continue;
    const eq = token.indexOf('=');
    const name = token.slice(2, eq < 0 ? undefined : eq);
    const canonical = [name, name.replace(/-/g, '_'), name.replace(/_/g, '-')].find((n) => n in declared);
    if (canonical === undefined) throw unknownFlag(spec, name);
    typed.set(i, name);
    tokens[i] = `--${canonical}${eq < 0 ? '' : token.slice(eq)}`;
    // A string flag's value is the next argument: skip it, so that a value is never taken for a flag.
    const next = tokens[i + 1];
    if (eq < 0 && declared[canonical]!.type === 'string' && next !== undefined && !next.startsWith('-')) i++;
  }
  return { tokens, typed };
}

function unknownFlag(spec: CommandSpec, name: string): FineTuneError {
  const key = name.replace(/-/g, '_');
  const flag = `--${name}`;
  const misplaced = misplacedKey(key);
  if (misplaced) return usageError(describeMisplaced(key, misplaced, 'flag'), spec.name);
  const target = spec.overrides ? overrideTarget(key) : undefined;
  if (target && 'ambiguous' in target) {
    const options = target.ambiguous.map((p) => `--${p}`).join(' or ');
    return usageError(`${flag} is a key of several sections: write ${options}`, spec.name);
  }
  const section = spec.overrides ? overrideNames().find((n) => n.startsWith(`${key}.`)) : undefined;
  if (section)
    return usageError(`${flag} is a section of the config: set one of its keys, e.g. --${section}`, spec.name);
  const others = COMMANDS.filter((c) => c !== spec.name && COMMAND_SPECS[c].flags.some((f) => f.name === name));
  if (others.length)
    return usageError(`${flag} is an option of ${others.join(' and ')}, not of ${spec.name}`, spec.name);
  if (!spec.overrides && overrideTarget(key)) {
    return usageError(`${spec.name} takes no config keys (${flag}); only train does`, spec.name);
  }
  const candidates = [...spec.flags.map((f) => f.name), ...(spec.overrides ? overrideNames() : [])];
  const guess = didYouMean(name, candidates) ?? didYouMean(key, candidates);
  const known = spec.overrides ? 'its options or a key of the config' : spec.flags.map((f) => `--${f.name}`).join(', ');
  const hint = guess ? `Did you mean --${guess}?` : `${spec.name} takes ${known}.`;
  return usageError(`unknown option ${flag}. ${hint}`, spec.name);
}

function overrideOf(name: string, typedName: string, raw: string): ConfigOverride {
  const target = overrideTarget(name);
  // Declared names are exactly the resolvable ones (overrideNames), so this holds by construction.
  if (!target || 'ambiguous' in target) throw new Error(`internal: ${name} is not an override`);
  return { flag: `--${typedName}`, path: target.path, raw };
}

function backendOf(value: unknown, command: CommandName): BackendPreference | undefined {
  if (value === undefined) return undefined;
  if (!(BACKEND_PREFERENCES as readonly unknown[]).includes(value)) {
    throw usageError(`--backend must be one of ${BACKEND_PREFERENCES.join(', ')}, not ${String(value)}`, command);
  }
  return value as BackendPreference;
}

function describePositionals(spec: CommandSpec): string {
  if (!spec.positionals.length) return 'no arguments besides its options';
  return spec.positionals.map((p) => `<${p.name}>`).join(' ');
}

/** parseArgs's message without its advice about `--` (the user wrote a flag, not a positional). */
function parseArgsMessage(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const ambiguous = /^Option '(--[^' ]*)[^']*' argument is ambiguous/.exec(message);
  // parseArgs will not take `-1` as a value after a space, since it could be a forgotten value and a flag.
  if (ambiguous) return `${ambiguous[1]} needs a value; one that starts with "-" is written ${ambiguous[1]}=-1`;
  return message.split('\n')[0]!.replace(/^Option '([^' ]*)[^']*' argument missing$/, 'option $1 needs a value');
}

/** What each command needs besides the flags' own types; `fromHost`: predict's texts may come on stdin. */
export function checkRequired(c: RunCommandLine, o: { textsFromHost?: boolean } = {}): void {
  const has = (f: string) => c.flags.has(f);
  const count = (f: string) => (c.flags.get(f) as string[] | undefined)?.length ?? 0;
  const need = (message: string) => {
    throw usageError(message, c.command);
  };
  if (c.command === 'train' && !c.positionals[0])
    need('train needs a config file: finetune-studio train my.finetune.yaml');
  if (c.command === 'evaluate' && !(has('model') && has('data'))) need('evaluate needs --model DIR and --data FILE');
  if (c.command !== 'predict') return;
  if (!has('model')) need('predict needs --model DIR');
  if (has('file') && has('text')) need('predict takes --text or --file, not both');
  if (has('file') && has('text-pair')) need('--text-pair goes with --text, not with --file');
  if (has('text-pair') && !has('text')) need('--text-pair needs --text, the first text of the pair');
  if (count('text-pair') && count('text-pair') !== count('text')) {
    need(`each --text needs its --text-pair: ${count('text')} --text, ${count('text-pair')} --text-pair`);
  }
  if (!has('file') && !has('text') && !o.textsFromHost) need('predict needs --text "…" (repeatable) or --file FILE');
}

/** A string flag's value (the last one when repeated). */
export function flagValue(c: RunCommandLine, name: string): string | undefined {
  const v = c.flags.get(name);
  return typeof v === 'string' ? v : Array.isArray(v) ? v.at(-1) : undefined;
}

/** A repeatable flag's values, in order. */
export function flagValues(c: RunCommandLine, name: string): string[] {
  const v = c.flags.get(name);
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}
