/**
 * `npm run pretrain`: reproduces examples/pretrained/ from installable packages.
 *  1. writes the corpus (scripts/pretrain/prepareCorpus.ts: WordNet 3.1 example sentences + the texts of
 *     sentiment/train.csv);
 *  2. trains the WordPiece vocabulary into examples/tokenizer/ when it is missing (or with --retrain-tokenizer);
 *  3. runs examples/pretrain.finetune.yaml (masked-lm from scratch) through the engine's CLI;
 *  4. copies its best checkpoint's Hugging Face files (config.json, model.safetensors, tokenizer files) to
 *     examples/pretrained/, with pretraining.json saying what produced them.
 * There is no second, task-adaptive stage: on an early, 1,000-step model, 300 more masked-LM steps on the review
 * texts alone made the fine-tuned model worse (72.3% vs 75.5% test accuracy, one seed). Longer pre-training of the
 * one stage is what helped (README, "Main job").
 *
 *   npm run pretrain -- [--retrain-tokenizer] [--run DIR (only step 4, from that run)]
 *                       [--max-steps N --target DIR (a smoke run: N steps, published elsewhere)]
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { renameDirAtomic, writeFileAtomic } from '../../common/atomicWrite';
import { defaultCorpusOptions, prepareCorpus, repoRoot } from './prepareCorpus';
import { trainDemoTokenizer } from './trainTokenizer';
import { readRunJson } from '../../common/runFolder/runJson';

/** The files of a checkpoint that make a Hugging Face model folder; optimizer and trainer state stay behind. */
export const MODEL_FILES = [
  'config.json',
  'model.safetensors',
  'vocab.txt',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
];

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function newestRun(runsDir: string): Promise<string> {
  const entries = (await fs.readdir(runsDir, { withFileTypes: true })).filter(
    (e) => e.isDirectory() && !e.name.startsWith('.'),
  );
  if (!entries.length) throw new Error(`${runsDir} has no run folder`);
  const stamped = await Promise.all(
    entries.map(async (e) => ({
      dir: path.join(runsDir, e.name),
      t: (await fs.stat(path.join(runsDir, e.name))).mtimeMs,
    })),
  );
  return stamped.sort((a, b) => b.t - a.t)[0]?.dir as string;
}

/** Copies the best (else last) checkpoint of a run into `target`, replacing it whole. */
export async function publishCheckpoint(
  runDir: string,
  target: string,
  extra: Record<string, unknown>,
): Promise<string> {
  const info = await readRunJson(runDir);
  if (!info) throw new Error(`${runDir} has no run.json`);
  const chosen = info.bestCheckpoint ?? info.lastCheckpoint;
  if (!chosen) throw new Error(`${runDir}/run.json names no checkpoint; the run saved none (status ${info.status})`);
  const checkpoint = path.isAbsolute(chosen) ? chosen : path.join(runDir, chosen);
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}`);
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp, { recursive: true });
  for (const f of MODEL_FILES)
    if (existsSync(path.join(checkpoint, f))) await fs.copyFile(path.join(checkpoint, f), path.join(tmp, f));
  if (!existsSync(path.join(tmp, 'model.safetensors'))) throw new Error(`${checkpoint} has no model.safetensors`);
  // Keep the licence notes that live in the target folder (they are not part of a checkpoint).
  for (const keep of ['LICENSE-DATA.md', 'README.md'])
    if (existsSync(path.join(target, keep))) await fs.copyFile(path.join(target, keep), path.join(tmp, keep));
  const summary = {
    checkpoint: path.basename(checkpoint),
    runStatus: info.status,
    step: info.step,
    bestEvalLoss: info.bestMetric,
    ...extra,
  };
  await writeFileAtomic(path.join(tmp, 'pretraining.json'), `${JSON.stringify(summary, null, 2)}\n`);
  await renameDirAtomic(tmp, target);
  return checkpoint;
}

async function trainConfig(root: string, config: string, maxSteps?: string): Promise<string> {
  const cliArgs = [
    '--import',
    'tsx',
    path.join(root, 'trainer', 'cli.ts'),
    'train',
    config,
    ...(maxSteps ? ['--max-steps', maxSteps] : []),
  ];
  const started = Date.now();
  const code = await new Promise<number>((resolve) =>
    spawn(process.execPath, cliArgs, { cwd: root, stdio: 'inherit' }).on('close', (c) => resolve(c ?? 1)),
  );
  if (code !== 0)
    throw new Error(`${path.relative(root, config)} failed (exit code ${code}); examples/pretrained is unchanged`);
  console.log(`${path.relative(root, config)} took ${((Date.now() - started) / 60000).toFixed(1)} min`);
  const text = await fs.readFile(config, 'utf8');
  const outputDir = /^output_dir:\s*(\S+)/m.exec(text)?.[1] ?? '.finetune/runs';
  return newestRun(path.resolve(path.dirname(config), outputDir));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const root = repoRoot();
  const maxSteps = argValue(args, '--max-steps');
  const targetArg = argValue(args, '--target');
  // A shortened run must not replace the published model.
  if (maxSteps && !targetArg)
    throw new Error('--max-steps needs --target DIR, so that a shortened run does not replace examples/pretrained');
  const target = targetArg ? path.resolve(targetArg) : path.join(root, 'examples', 'pretrained');
  let runDir = argValue(args, '--run');
  const corpus = await prepareCorpus(defaultCorpusOptions());
  console.log(`corpus: ${corpus.trainLines} lines (${corpus.words} words), ${corpus.validationLines} held out`);
  if (!runDir) {
    if (args.includes('--retrain-tokenizer') || !existsSync(path.join(root, 'examples', 'tokenizer', 'vocab.txt'))) {
      const { tokenizer } = await trainDemoTokenizer(path.join(root, 'examples', 'tokenizer'), 8000);
      console.log(`tokenizer: trained ${tokenizer.vocabSize} tokens into examples/tokenizer`);
    }
    runDir = await trainConfig(root, path.join(root, 'examples', 'pretrain.finetune.yaml'), maxSteps);
  }
  const checkpoint = await publishCheckpoint(path.resolve(runDir), target, {
    configs: ['examples/pretrain.finetune.yaml'],
    runs: [path.relative(root, path.resolve(runDir))],
    corpus: {
      wordnetDefinitions: corpus.definitions,
      wordnetGlosses: corpus.glosses,
      wordnetExamples: corpus.examples,
      reviewTexts: corpus.trainTexts,
      trainLines: corpus.trainLines,
      words: corpus.words,
    },
    command: 'npm run pretrain',
  });
  console.log(`copied ${path.relative(root, checkpoint)} to ${path.relative(root, target) || target}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main().catch((e: unknown) => {
    console.error(`pretrain: ${(e as Error).message}`);
    process.exit(1);
  });
}
