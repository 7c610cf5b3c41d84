/** The run's `report_to` integrations: TensorBoard event files beside metrics.jsonl, fed the same messages. */
import type { FineTuneConfig } from '../../common/config/schema';
import type { TrainerMessage } from '../../common/protocol';
import { EventFileWriter } from './eventFile';
import { scalarsOf } from './scalars';

/** Where recorded messages go besides metrics.jsonl. */
export interface MetricSink {
  record(m: TrainerMessage): void;
}

/** Whether the config asks for TensorBoard (`all` means every integration this tool has). */
export function reportsToTensorBoard(c: FineTuneConfig): boolean {
  const to = c.training.report_to;
  return to.includes('tensorboard') || to.includes('all');
}

/**
 * A TensorBoard event file in the run folder. `resumedAt` (the checkpoint's step) starts the file with a purge
 * from the next step, so that what an interrupted session logged past its checkpoint leaves the curves.
 */
export function tensorBoardSink(runDir: string, resumedAt?: number): MetricSink & { file: string } {
  const writer = new EventFileWriter(runDir, resumedAt !== undefined ? { purgeFrom: resumedAt + 1 } : {});
  return {
    file: writer.file,
    record(m) {
      const s = scalarsOf(m);
      if (s) writer.scalars(s.step, s.scalars);
    },
  };
}
