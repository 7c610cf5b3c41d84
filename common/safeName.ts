/**
 * File names that come from outside (a Hub repo's file list, a shard index, response headers, a model folder's
 * index written by someone else) are data, not paths. Before anything is requested, read or written, such a name
 * must be a plain relative name, and once joined onto its folder it must still be inside that folder. This is
 * the rule `huggingface_hub` applies (`_validate_relative_filename`, "Invalid pointer path"), made a little
 * stricter: it is checked under both POSIX and Windows rules, so a cache written on Linux is safe on Windows too.
 */
import * as path from 'node:path';
import { FineTuneError } from './errors';

const MAX_NAME_LENGTH = 1024;
const MAX_SEGMENT_LENGTH = 255;
// Device names that Windows resolves anywhere, whatever the folder or extension.
const WINDOWS_DEVICE = /^(con|prn|aux|nul|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;
// C0 controls, DEL and NUL: never part of a real file name, and NUL truncates paths in native code.
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why `name` is not a plain relative file name, or undefined when it is one. */
export function relativeNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `it is ${name === null ? 'null' : typeof name}, not a string`;
  if (name.length === 0) return 'it is empty';
  if (name.length > MAX_NAME_LENGTH) return `it is longer than ${MAX_NAME_LENGTH} characters`;
  if (CONTROL.test(name)) return 'it contains a NUL or control character';
  if (name.includes('\\')) return 'it contains a backslash';
  if (name.startsWith('/')) return 'it is an absolute path';
  if (name.includes(':')) return 'it contains a colon (a drive letter or a Windows stream name)';
  for (const segment of name.split('/')) {
    const problem = segmentProblem(segment);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** Why `segment` cannot be one component of a path, or undefined when it can. */
export function segmentProblem(segment: string): string | undefined {
  if (segment === '') return 'it has an empty path segment';
  if (segment === '.' || segment === '..') return `it has a '${segment}' path segment`;
  if (segment.length > MAX_SEGMENT_LENGTH) return `a path segment is longer than ${MAX_SEGMENT_LENGTH} characters`;
  // Windows drops trailing dots and spaces, so '.. ' and '...' would name the parent folder there.
  if (/[. ]$/.test(segment)) return 'a path segment ends with a dot or a space';
  if (WINDOWS_DEVICE.test(segment)) return `'${segment}' is a Windows device name`;
  return undefined;
}

/** A name as it can be shown in a message: quoted, escaped, and cut short. */
export function showName(name: unknown): string {
  // Never String(name): a hostile object's toString may be anything, or not a function.
  if (typeof name !== 'string') return name === null ? 'null' : `(${typeof name})`;
  const text = name;
  const cut = text.length > 120 ? `${text.slice(0, 120)}…` : text;
  return JSON.stringify(cut);
}

/** Where a name came from, for the error message: "model.safetensors.index.json of 'org/model'". */
export interface NameOrigin {
  origin: string;
  /** The file to show in the error (the index file, say); optional. */
  file?: string;
}

function unsafeName(name: unknown, problem: string, where: NameOrigin): FineTuneError {
  return new FineTuneError('unsafe-file-name', `invalid file name ${showName(name)} in ${where.origin}: ${problem}`, {
    ...(where.file !== undefined ? { file: where.file } : {}),
    detail:
      'File names from a model repository or index must be plain relative names (no "..", no absolute path, ' +
      'no backslash, drive letter or NUL), so that nothing is read or written outside the model folder.',
    fix: 'Do not use this model as it is: it names a file outside its own folder. Ask its owner to rename the file.',
  });
}

/** Throws `unsafe-file-name` unless `name` is a plain relative name; returns it typed as a string. */
export function checkRelativeName(name: unknown, where: NameOrigin): string {
  const problem = relativeNameProblem(name);
  if (problem !== undefined) throw unsafeName(name, problem, where);
  return name as string;
}

/** Throws `unsafe-file-name` unless `name` is a single path segment (an ETag or a commit used as a folder name). */
export function checkSegment(name: unknown, where: NameOrigin): string {
  const problem = typeof name === 'string' && name.includes('/') ? 'it contains a slash' : relativeNameProblem(name);
  if (problem !== undefined) throw unsafeName(name, problem, where);
  return name as string;
}

/**
 * `root` joined with the checked relative `name`, after making sure the result is strictly inside `root`
 * (the second line of defence: the name check above should already make escaping impossible).
 */
export function resolveInside(root: string, name: unknown, where: NameOrigin): string {
  const checked = checkRelativeName(name, where);
  const base = path.resolve(root);
  const full = path.resolve(base, ...checked.split('/'));
  const rel = path.relative(base, full);
  if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
    throw unsafeName(name, `it resolves to ${full}, outside ${base}`, where);
  }
  return full;
}
