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

/** Any thrown value as a `UserError`; unknown errors get the code 'internal'. */
export function toUserError(e: unknown): UserError {
  if (e instanceof FineTuneError) return e.toUserError();
  if (e instanceof Error) return { code: 'internal', message: e.message, ...(e.stack ? { detail: e.stack } : {}) };
  return { code: 'internal', message: String(e) };
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
