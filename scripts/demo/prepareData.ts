/**
 * `npm run demo:data`: builds examples/sentiment/{train,validation,test}.csv from the UCI "Sentiment Labelled
 * Sentences" set (Kotzias et al., KDD 2015, CC BY 4.0) as shipped in the npm package `sentiment@5.0.2`
 * (test/fixtures/{amazon,imdb,yelp}.json, a dev dependency). The split files are committed, so nothing
 * needs this package at run time; this script only makes the split reproducible.
 *
 *   node --import tsx scripts/demo/prepareData.ts [--fixtures DIR] [--out DIR] [--seed N]
 */
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { writeFileAtomic } from '../../common/atomicWrite';
import { toCsv } from './csvFile';
import {
  checkSplits,
  cleanRows,
  countBy,
  SPLIT_NAMES,
  stratifiedSplit,
  type LabelledText,
  type SplitRatios,
} from './splitData';

export const SOURCES = ['amazon', 'imdb', 'yelp'] as const;
export const DEFAULT_RATIOS: SplitRatios = { train: 0.7, validation: 0.1, test: 0.2 };
export const DEFAULT_SPLIT_SEED = 42;
const LABELS: Record<string, string> = { '0': 'negative', '1': 'positive' };

export interface SourceReadReport {
  source: string;
  records: number;
  /** Records with no text and no class (each fixture ends with a blank `{"text": "", "class": null}`). */
  empty: number;
  /** Records with text but no usable class. */
  unlabelled: number;
}

/**
 * Reads one fixture file: a JSON array of `{text, class}` with class 0 (negative) or 1 (positive). Bytes that
 * are not UTF-8 become U+FFFD here (lenient decode) and `cleanRows` drops those rows with a count, rather than
 * refusing the whole file.
 */
export async function readFixture(
  file: string,
  source: string,
): Promise<{ rows: LabelledText[]; report: SourceReadReport }> {
  const bytes = await fs.readFile(file);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(
      `${file}: not valid JSON (${(e as Error).message}); expected an array of {"text", "class"} objects as in sentiment@5.0.2`,
    );
  }
  if (!Array.isArray(data))
    throw new Error(`${file}: expected a JSON array of {"text", "class"} objects, got ${typeof data}`);
  const rows: LabelledText[] = [];
  let unlabelled = 0;
  let empty = 0;
  for (const item of data as unknown[]) {
    const rec = (item ?? {}) as { text?: unknown; class?: unknown };
    const label = LABELS[String(rec.class)];
    if (label === undefined) {
      if (typeof rec.text !== 'string' || rec.text.trim() === '') empty++;
      else unlabelled++;
      continue;
    }
    rows.push({ text: typeof rec.text === 'string' ? rec.text : '', label, source });
  }
  return { rows, report: { source, records: data.length, empty, unlabelled } };
}

export function defaultFixturesDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return path.join(path.dirname(require.resolve('sentiment/package.json')), 'test', 'fixtures');
  } catch {
    throw new Error(
      'the npm package sentiment@5.0.2 is not installed: run `npm install` (it is a dev dependency), or pass --fixtures DIR',
    );
  }
}

export interface PrepareResult {
  lines: string[];
  counts: Record<string, { total: number; byLabel: Record<string, number>; bySource: Record<string, number> }>;
}

export async function prepareData(
  fixturesDir: string,
  outDir: string,
  seed: number,
  ratios: SplitRatios = DEFAULT_RATIOS,
): Promise<PrepareResult> {
  const lines: string[] = [];
  const all: LabelledText[] = [];
  for (const source of SOURCES) {
    const { rows, report } = await readFixture(path.join(fixturesDir, `${source}.json`), source);
    const dropped = [
      report.empty ? `${report.empty} empty without a class` : '',
      report.unlabelled ? `${report.unlabelled} with text but no class 0/1` : '',
    ]
      .filter((s) => s !== '')
      .join(', ');
    lines.push(`${source}: ${report.records} records, ${rows.length} labelled${dropped ? `; dropped ${dropped}` : ''}`);
    all.push(...rows);
  }
  const { rows, report } = cleanRows(all);
  lines.push(
    `cleaning: ${report.input} labelled rows; dropped ${report.empty} empty, ${report.undecodable} with undecodable bytes, ` +
      `${report.duplicates} exact duplicates (same normalised text and label), ${report.conflicting} with the same text under both labels; kept ${report.kept}`,
  );
  const split = stratifiedSplit(rows, ratios, seed);
  // The split is disjoint by construction; the check is the same one the demo runs before training.
  const { splits, problems } = checkSplits(split);
  for (const p of problems) lines.push(`check: ${p.message}`);
  const counts: PrepareResult['counts'] = {};
  for (const name of SPLIT_NAMES) {
    const part = splits[name];
    await writeFileAtomic(
      path.join(outDir, `${name}.csv`),
      toCsv(
        ['text', 'label', 'source'],
        part.map((r) => ({ text: r.text, label: r.label, source: r.source })),
      ),
    );
    counts[name] = {
      total: part.length,
      byLabel: countBy(part, (r) => r.label),
      bySource: countBy(part, (r) => r.source),
    };
    lines.push(
      `${name}.csv: ${part.length} rows ${JSON.stringify(counts[name].byLabel)} ${JSON.stringify(counts[name].bySource)}`,
    );
  }
  return { lines, counts };
}

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
  const fixtures = argValue(args, '--fixtures') ?? defaultFixturesDir();
  const out = argValue(args, '--out') ?? path.join(root, 'examples', 'sentiment');
  const seed = Number(argValue(args, '--seed') ?? DEFAULT_SPLIT_SEED);
  if (!Number.isInteger(seed) || seed < 0)
    throw new Error(`--seed must be a non-negative integer, got ${argValue(args, '--seed')}`);
  const { lines } = await prepareData(fixtures, out, seed);
  for (const l of lines) console.log(l);
  console.log(`wrote ${path.relative(process.cwd(), out) || '.'}/{train,validation,test}.csv (seed ${seed})`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main().catch((e: unknown) => {
    console.error(`prepareData: ${(e as Error).message}`);
    process.exit(1);
  });
}
