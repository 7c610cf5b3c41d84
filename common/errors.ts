/**
 * Errors that reach the user. They cross process boundaries as plain data (`UserError`), and only the
 * host decides how to show them. This file runs under node and in the browser bundle, so it imports nothing.
 */

/** The data form of an error meant for the user. `code` is a stable kebab-case identifier. */
export interface UserError {
  code: string;
  message: string;
  /** Longer explanation, or the underlying error text. */
  detail?: string;
  /** What the user can do about it, as one sentence. */
  fix?: string;
  file?: string;
  /** 1-based. */
  line?: number;
  /** 1-based. */
  column?: number;
}

export interface FineTuneErrorOptions {
  detail?: string;
  fix?: string;
  file?: string;
  line?: number;
  column?: number;
  cause?: unknown;
}

/** An error with a code and a location, thrown by trainer code and turned into `UserError` at the boundary. */
export class FineTuneError extends Error {
  readonly code: string;
  readonly detail?: string;
  readonly fix?: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;

  constructor(code: string, message: string, options: FineTuneErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FineTuneError';
    this.code = code;
    if (options.detail !== undefined) this.detail = options.detail;
    if (options.fix !== undefined) this.fix = options.fix;
    if (options.file !== undefined) this.file = options.file;
    if (options.line !== undefined) this.line = options.line;
    if (options.column !== undefined) this.column = options.column;
  }

  toUserError(): UserError {
    const out: UserError = { code: this.code, message: this.message };
    if (this.detail !== undefined) out.detail = this.detail;
    if (this.fix !== undefined) out.fix = this.fix;
    if (this.file !== undefined) out.file = this.file;
    if (this.line !== undefined) out.line = this.line;
    if (this.column !== undefined) out.column = this.column;
    return out;
  }
}

export function isFineTuneError(e: unknown): e is FineTuneError {
  return e instanceof FineTuneError;
}

/** Any thrown value as a `UserError`; a file-system failure the user can fix gets its own code, the rest 'internal'. */
export function toUserError(e: unknown, folder?: string): UserError {
  if (e instanceof FineTuneError) return e.toUserError();
  const fsError = fileSystemError(e, folder);
  if (fsError) return fsError;
  if (e instanceof Error) return { code: 'internal', message: e.message, ...(e.stack ? { detail: e.stack } : {}) };
  return { code: 'internal', message: String(e) };
}

interface FsFailure {
  code: string;
  what: string;
  fix: string;
}

const FREE_SPACE =
  'Free space on that disk (lower `save_total_limit` to keep fewer checkpoints) or set `output_dir` to a folder ' +
  'on another disk, then resume from the last checkpoint.';

/** The errno codes of a failed write that the user can fix, and what to tell them. */
const FS_FAILURES = new Map<string, FsFailure>([
  ['ENOSPC', { code: 'disk-full', what: 'No space left on the device', fix: FREE_SPACE }],
  ['EDQUOT', { code: 'disk-quota-exceeded', what: 'The disk quota is exceeded', fix: FREE_SPACE }],
  [
    'EROFS',
    {
      code: 'read-only-file-system',
      what: 'The file system is read-only',
      fix: 'Set `output_dir` (or the path named) to a folder on a writable disk.',
    },
  ],
  [
    'EACCES',
    {
      code: 'permission-denied',
      what: 'Permission denied',
      fix: 'Give your user access to that folder (or file), or set `output_dir` to a folder you own.',
    },
  ],
]);

const SYSCALL_VERBS = new Map<string, string>([
  ['open', 'opening'],
  ['write', 'writing'],
  ['fsync', 'writing'],
  ['ftruncate', 'writing'],
  ['copyfile', 'copying to'],
  ['mkdir', 'creating'],
  ['rename', 'renaming'],
  ['unlink', 'removing'],
  ['rmdir', 'removing'],
  ['read', 'reading'],
  ['scandir', 'reading'],
]);

/**
 * A node file-system error (disk full, quota, read-only disk, permission) as a clear `UserError` naming the path
 * and the fix; undefined for anything else. Writes through a file handle carry no path: `folder` then says where.
 */
export function fileSystemError(e: unknown, folder?: string): UserError | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const err = e as { code?: unknown; syscall?: unknown; path?: unknown; dest?: unknown; message?: unknown };
  const failure = typeof err.code === 'string' ? FS_FAILURES.get(err.code) : undefined;
  if (!failure) return undefined;
  const syscall = typeof err.syscall === 'string' ? err.syscall : '';
  const verb = SYSCALL_VERBS.get(syscall) ?? (syscall ? `${syscall} on` : 'writing');
  const file = typeof err.path === 'string' ? err.path : undefined;
  const target = file ? `${verb} ${file}` : folder ? `${verb} in ${folder}` : verb;
  const out: UserError = { code: failure.code, message: `${failure.what} while ${target}.`, fix: failure.fix };
  if (typeof err.message === 'string') out.detail = err.message;
  if (file) out.file = file;
  return out;
}

/**
 * Terminal text in the compiler style that editors and terminals turn into links:
 * `file:line:col: message [code]`, then indented detail and fix lines.
 */
export function formatUserError(e: UserError | unknown): string {
  const u = isUserError(e) ? e : toUserError(e);
  let where = '';
  if (u.file !== undefined) {
    where = u.file;
    if (u.line !== undefined) {
      where += `:${u.line}`;
      if (u.column !== undefined) where += `:${u.column}`;
    }
    where += ': ';
  }
  const lines = [`${where}error: ${u.message} [${u.code}]`];
  if (u.detail !== undefined && u.code !== 'internal') lines.push(...u.detail.split('\n').map((l) => `  ${l}`));
  if (u.fix !== undefined) lines.push(`  fix: ${u.fix}`);
  return lines.join('\n');
}

function isUserError(e: unknown): e is UserError {
  if (e instanceof Error || typeof e !== 'object' || e === null) return false;
  const r = e as Record<string, unknown>;
  return typeof r.code === 'string' && typeof r.message === 'string';
}
