/**
 * The report's sample-efficiency section: a table of test score (mean ± std over seeds) against the number of
 * labelled training examples for scratch and fine-tune, the chart, and sentences made from those numbers (where
 * fine-tuning helps and by how much, where the two meet) by curve.ts's rules.
 */
import { sampleEfficiencySvg } from './curveChart';
import {
  compareArms,
  curveStats,
  NOISE_FACTOR,
  whereTheyMeet,
  type CurvePoint,
  type CurveRun,
  type Meeting,
  type SizeComparison,
} from './curve';
import type { CurveManifest, RunResult } from './report';
import { metricValue, type DemoTask } from './tasks';

/** The two arms the curve compares. */
export const CURVE_ARMS = ['scratch', 'finetune'] as const;

export interface CurveSection {
  markdown: string[];
  svg: string;
  stats: Map<string, CurvePoint[]>;
  comparisons: SizeComparison[];
  meeting: Meeting;
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const points = (v: number): string => `${v >= 0 ? '+' : ''}${(100 * v).toFixed(1)}`;

/** The curve's runs: the subset runs at their size, and the main comparison's runs at the full split's size. */
export function curveRuns(curve: CurveManifest, runs: readonly RunResult[], task: DemoTask): CurveRun[] {
  const spec = task.metrics[task.headline];
  return runs
    .filter((r) => (CURVE_ARMS as readonly string[]).includes(r.run.variant))
    .map((r) => ({
      arm: r.run.variant,
      size: r.run.trainExamples ?? curve.trainRows,
      score: spec ? metricValue(r.summary.testMetrics, spec) : null,
    }));
}

function sizeList(sizes: readonly number[]): string {
  const named = sizes.map(int);
  return named.length <= 1 ? (named[0] ?? '') : `${named.slice(0, -1).join(', ')} and ${named.at(-1)}`;
}

/** Where fine-tuning helps (or hurts) beyond the seeds' noise, and by how much. */
function gainSentences(c: readonly SizeComparison[], label: string): string[] {
  const out: string[] = [];
  // Without a size that both arms reached there is no gain to state; the meeting sentence says so.
  if (c.length === 0) return out;
  const helps = c.filter((x) => x.verdict === 'helps');
  const hurts = c.filter((x) => x.verdict === 'hurts');
  const list = (xs: readonly SizeComparison[]): string =>
    xs.map((x) => `${points(x.gain)} at ${int(x.size)}`).join(', ');
  if (helps.length)
    out.push(
      `Fine-tuning helps at ${sizeList(helps.map((x) => x.size))} examples: ${list(helps)} points of test ${label}.`,
    );
  else out.push(`Fine-tuning is clearly ahead at no size tried (gains ${list(c)} points of test ${label}).`);
  if (hurts.length) out.push(`It is behind at ${sizeList(hurts.map((x) => x.size))} examples: ${list(hurts)} points.`);
  return out;
}

function meetingSentence(m: Meeting, c: readonly SizeComparison[]): string {
  const crossing =
    m.crossing === undefined
      ? ''
      : ` The mean curves cross near ${int(m.crossing)} examples (interpolated on a log scale).`;
  const last = c.at(-1);
  switch (m.kind) {
    case 'meet':
      return `From ${int(m.size ?? 0)} examples on, the two meet: the gain stays within the seeds' noise or below zero.${crossing}`;
    case 'apart':
      return `They do not meet within the sizes tried: at ${int(last?.size ?? 0)} examples fine-tuning is still ahead by ${points(last?.gain ?? 0)} points.${crossing}`;
    case 'never-ahead':
      return `The curves do not part: scratch is level with fine-tuning, or ahead, at every size tried.${crossing}`;
    default:
      return 'No size has runs of both arms with a test score, so there is nothing to compare.';
  }
}

function curveTable(stats: Map<string, CurvePoint[]>, c: readonly SizeComparison[], label: string): string[] {
  const pm = (p?: CurvePoint): string =>
    p ? `${(100 * p.mean).toFixed(1)} ± ${(100 * p.std).toFixed(1)} (${p.n})` : 'n/a';
  const sizes = [...new Set(CURVE_ARMS.flatMap((a) => (stats.get(a) ?? []).map((p) => p.size)))].sort((a, b) => a - b);
  const out = [
    `| Training examples | scratch: test ${label} (%) (seeds) | finetune (%) (seeds) | Gain (points) | Verdict |`,
    '| ---: | --- | --- | ---: | --- |',
  ];
  for (const size of sizes) {
    const at = (arm: string) => stats.get(arm)?.find((p) => p.size === size);
    const cmp = c.find((x) => x.size === size);
    out.push(
      `| ${int(size)} | ${pm(at('scratch'))} | ${pm(at('finetune'))} | ${cmp ? points(cmp.gain) : 'n/a'} | ${cmp?.verdict ?? 'n/a'} |`,
    );
  }
  return out;
}

export function curveSection(
  curve: CurveManifest,
  runs: readonly RunResult[],
  task: DemoTask,
  svgName: string,
): CurveSection {
  const label = task.metrics[task.headline]?.label ?? 'score';
  const stats = curveStats(curveRuns(curve, runs, task));
  const comparisons = compareArms(stats.get('scratch') ?? [], stats.get('finetune') ?? []);
  const meeting = whereTheyMeet(comparisons);
  const singleSeed = comparisons.some((x) => x.noise === null);
  const markdown = [
    '## Sample efficiency: how many labels does pre-training save?',
    '',
    `Test ${label} against the number of labelled training examples, for scratch and fine-tune. The subsets ` +
      `(${sizeList(curve.sizes)} examples, then the full ${int(curve.trainRows)}) are nested and stratified by label, ` +
      `drawn once with seed ${curve.subsetSeed}: both arms and every seed train on the same examples at a size. ` +
      `${curve.rule} Seeds ${curve.seeds.join(', ')} at the subsets; the full split's point is the comparison above.`,
    '',
    ...curveTable(stats, comparisons, label),
    '',
    `"helps" / "hurts": the gain is more than ${NOISE_FACTOR} standard errors of the difference of the means ` +
      `(√(s₁²/n₁ + s₂²/n₂)); "even" otherwise.${singleSeed ? ' Where an arm has one seed there is no spread to judge by, and the verdict is the sign alone.' : ''}`,
    '',
    ...gainSentences(comparisons, label),
    meetingSentence(meeting, comparisons),
    '',
    `![Test ${label} against the number of training examples](${svgName})`,
  ];
  const svg = sampleEfficiencySvg(
    CURVE_ARMS.map((arm) => ({ arm, points: stats.get(arm) ?? [] })),
    `Sample efficiency: test ${label} (mean ± std over seeds)`,
  );
  return { markdown, svg, stats, comparisons, meeting };
}
