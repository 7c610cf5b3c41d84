/** What a caller hands to a training run (the subprocess entry, the CLI and the tests drive the same code). */
import type { BackendInfo, TrainerMessage } from '../../common/protocol';
import type { SaveHooks } from './checkpoint';
import type { LoadedConfig } from './loadConfig';
import type { RunFolder } from './runFolder';

/** Flags the host sets between steps (stop / save_now / cancel). */
export interface RunControl {
  stop: boolean;
  saveNow: boolean;
  cancel: boolean;
}

export interface TrainOptions {
  loaded: LoadedConfig;
  backend: BackendInfo;
  emit: (m: TrainerMessage) => void;
  control: RunControl;
  engineVersion: string;
  /** CLI `--max-steps`. */
  maxSteps?: number;
  /** CLI `--resume-from-checkpoint` (absolute): wins over the config's `resume_from_checkpoint`. */
  resumeFrom?: string;
  hooks?: SaveHooks;
  /** Called once the run folder exists (main.ts tees stderr into its log). */
  onRunFolder?: (rf: RunFolder) => void;
  /** Called after every optimiser step (tests watch tf.memory() with it). */
  onStepEnd?: (step: number) => void;
}
