/**
 * The problem type a classification run settles on (common/problemType.ts inferProblemType: the config's, the
 * data's list labels, the pre-trained model's), and the check the config validator could not make without the
 * data: that `metric_for_best_model` is a metric this problem type reports.
 */
import * as path from 'node:path';
import type { FineTuneConfig } from '../../common/config/schema';
import { FineTuneError } from '../../common/errors';
import { normaliseMetricName } from '../../common/metricNames';
import { inferProblemType, TASK_METRICS } from '../../common/problemType';
import type { ProblemType } from '../../common/problemType';
import type { DatasetRow } from '../../files/data/readDataset';
import { readBertConfig } from '../../files/hf/bertConfig';

export interface RunProblemType {
  problemType: ProblemType;
  separator: string;
  threshold: number;
}

export function runProblemType(
  c: FineTuneConfig,
  train: readonly DatasetRow[],
  pretrained: { problem_type?: unknown; num_labels?: unknown; id2label?: unknown } | undefined,
  trainFile: string,
): RunProblemType {
  const declared = c.model.problem_type;
  const listLabels = train.some((r) => r.labelList !== undefined);
  const problemType = inferProblemType({ ...(declared ? { declared } : {}), listLabels, pretrained });
  checkMetric(c, problemType, declared === undefined ? trainFile : undefined);
  return { problemType, separator: c.data.label_separator, threshold: c.model.threshold ?? 0.5 };
}

function checkMetric(c: FineTuneConfig, problemType: ProblemType, inferredFrom: string | undefined): void {
  const written = c.training.metric_for_best_model;
  if (written === undefined) return;
  const known = TASK_METRICS[problemType];
  if (known.includes(normaliseMetricName(written))) return;
  const why = inferredFrom ? ` (inferred from ${inferredFrom} and the model; model.problem_type is not set)` : '';
  throw new FineTuneError(
    'metric-not-reported',
    `metric_for_best_model '${written}' is not a metric of ${problemType}${why}`,
    {
      fix:
        `Use one of ${known.join(', ')} (with or without eval_), ` +
        'or set model.problem_type to the problem type that reports it.',
    },
  );
}

/**
 * A resumed run keeps its checkpoint's problem type: the head's weights and the optimizer's moments were made
 * for that loss. Read back from the checkpoint's config.json (absent: single-label, as HF reads it).
 */
export async function checkResumeProblemType(dir: string, problemType: ProblemType, configFile: string): Promise<void> {
  const file = path.join(dir, 'config.json');
  const saved = (await readBertConfig(file)).problem_type ?? 'single_label_classification';
  if (saved === problemType) return;
  throw new FineTuneError(
    'resume-problem-type-differs',
    `the checkpoint was trained for ${saved}, this run is ${problemType}`,
    { file: configFile, fix: `Set model.problem_type: ${saved} to resume it, or start a new run.` },
  );
}
