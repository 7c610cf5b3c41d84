/**
 * A Hub revision as a config writes it (`model.revision`): a branch or tag name, a commit sha (full, or 7 hex
 * digits or more), or a pull request's `refs/pr/N`. huggingface_hub stores each named revision as the file
 * `refs/<revision>` of the cache, so a revision is also a path: one that is not a plain git ref name is refused
 * before it is joined onto anything.
 */
import { relativeNameProblem } from './safeName';

export const FULL_SHA = /^[0-9a-f]{40}$/;
/** What `git log --oneline` and the Hub's web pages show: a prefix of the commit, 7 hex digits or more. */
export const SHORT_SHA = /^[0-9a-f]{7,39}$/;
const PULL_REQUEST = /^refs\/pr\/[0-9]+$/;
// git check-ref-format: no space, control character, ~ ^ : ? * [ \, ".." or "@{" anywhere in a ref name.
const GIT_FORBIDDEN = /[\s~^:?*[\\]|@\{|\.\./;

/** Why `revision` is not a branch, tag, commit or `refs/pr/N`, or undefined when it may be one. */
export function revisionProblem(revision: string): string | undefined {
  if (revision.startsWith('refs/pr/') && !PULL_REQUEST.test(revision))
    return 'a pull request is `refs/pr/<number>`, as its page on the Hub shows';
  const path = relativeNameProblem(revision);
  if (path !== undefined) return path;
  if (GIT_FORBIDDEN.test(revision))
    return 'git refuses a space, `~ ^ : ? * [ \\`, `..` or `@{` in a branch or tag name';
  if (revision === '@') return 'git refuses `@` as a name';
  for (const segment of revision.split('/')) {
    if (segment.startsWith('.')) return 'git refuses a name part that starts with a dot';
    if (segment.endsWith('.lock')) return 'git refuses a name part that ends with `.lock`';
  }
  return undefined;
}
