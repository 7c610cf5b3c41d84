/**
 * The statuses of a run in its folder: one list for run.json, the extension and the panels. Imports nothing at
 * run time beyond the protocol's end statuses, so that the webview bundles can share it.
 */
import { RUN_STATUSES } from '../protocol';

/** The statuses a run.json can hold: running, or how the run ended. */
export const RUN_FILE_STATUSES = ['running', ...RUN_STATUSES] as const;
export type RunFileStatus = (typeof RUN_FILE_STATUSES)[number];
/** A status as a reader sees it: a `running` run whose process is gone is `interrupted`. */
export type RunFolderStatus = RunFileStatus | 'interrupted';
