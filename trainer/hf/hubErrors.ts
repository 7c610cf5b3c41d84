/**
 * The Hub's refusals as the user should read them. The Hub says what went wrong in `X-Error-Code`
 * (`GatedRepo`, `RepoNotFound`, `RevisionNotFound`, `EntryNotFound`) and `X-Error-Message`; huggingface_hub maps
 * them the same way (utils/_http.py, hf_raise_for_status). Each gets its own code and a fix the user can act on.
 */
import { FineTuneError } from '../../common/errors';

export interface RequestContext {
  id: string;
  revision: string;
  file: string;
  url: string;
  endpoint: string;
  /** Where the token came from (HF_TOKEN, a token file, ...), or undefined when none was sent. */
  tokenSource: string | undefined;
  /** Default model. */
  repoType?: 'model' | 'dataset';
}

const noun = (ctx: RequestContext): string => (ctx.repoType === 'dataset' ? 'data set' : 'model');
/** The repo's page: `/datasets/` comes before a data set's id, as on the Hub. */
const pageOf = (ctx: RequestContext): string =>
  `${ctx.endpoint}/${ctx.repoType === 'dataset' ? 'datasets/' : ''}${ctx.id}`;

const TOKEN_HOWTO = 'set HF_TOKEN, or run `hf auth login` (the trainer reads the token file it writes)';

/** A short, safe excerpt of a header the Hub sent (it ends up in a message). */
function excerpt(text: string | null): string {
  if (text === null) return '';
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 200);
  return ` The Hub said: "${clean}".`;
}

export function httpError(ctx: RequestContext, status: number, headers: Headers): FineTuneError {
  const code = headers.get('x-error-code');
  const said = excerpt(headers.get('x-error-message'));
  const detail = `HTTP ${status} for ${ctx.url}.${said}`;
  const page = pageOf(ctx);
  if (code === 'GatedRepo') {
    const noToken = ctx.tokenSource === undefined;
    const what = noun(ctx);
    return new FineTuneError('hub-gated', `'${ctx.id}' is a gated ${what}: accept the licence on the ${what} page`, {
      detail,
      fix: noToken
        ? `Open ${page}, accept the conditions there, then give the trainer a token of that account: ${TOKEN_HOWTO}.`
        : `Open ${page} and accept the conditions with the account of the token from ${ctx.tokenSource} ` +
          '(access may also wait for the authors to approve it).',
    });
  }
  if (status === 401 && /invalid credentials/i.test(said)) {
    return new FineTuneError('hub-bad-token', `the Hub refused the token from ${ctx.tokenSource ?? 'the request'}`, {
      detail,
      fix: `The token is wrong or revoked: create a new one at ${ctx.endpoint}/settings/tokens, then ${TOKEN_HOWTO}.`,
    });
  }
  if (code === 'RepoNotFound' || (status === 401 && code === null)) return repoNotFound(ctx, detail);
  if (code === 'RevisionNotFound') {
    return new FineTuneError('hub-revision-not-found', `'${ctx.id}' has no revision '${ctx.revision}'`, {
      detail,
      fix: `Set ${ctx.repoType === 'dataset' ? 'data' : 'model'}.revision to a branch, tag, commit or refs/pr/N that exists (see ${page}), or remove it.`,
    });
  }
  if (code === 'EntryNotFound' || status === 404) {
    return new FineTuneError('hub-file-not-found', `'${ctx.id}' has no file ${ctx.file} at '${ctx.revision}'`, {
      detail,
      fix: `Check ${page}/tree/${encodeURIComponent(ctx.revision)}: the ${noun(ctx)} may keep its files on another revision.`,
    });
  }
  if (status === 403) {
    return new FineTuneError('hub-no-access', `the Hub refused access to ${ctx.file} of '${ctx.id}'`, {
      detail,
      fix: `Check that the token from ${ctx.tokenSource ?? '(none)'} may read ${page}; ${TOKEN_HOWTO}.`,
    });
  }
  return new FineTuneError('hub-download-failed', `the Hub answered HTTP ${status} for ${ctx.file} of '${ctx.id}'`, {
    detail,
    fix: 'Try again later (the Hub or the network may be busy), or download the model and set name_or_path to it.',
  });
}

/** The Hub answers RepoNotFound both for a missing repo and for a private one the request may not read. */
function repoNotFound(ctx: RequestContext, detail: string): FineTuneError {
  if (ctx.repoType === 'dataset') return datasetNotFound(ctx, detail);
  if (ctx.tokenSource === undefined) {
    return new FineTuneError(
      'model-not-found',
      `there is no model '${ctx.id}' on the Hugging Face Hub, or it is private`,
      {
        detail,
        fix:
          'Check the spelling (e.g. bert-base-uncased, google-bert/bert-base-cased). ' +
          `For a private model, ${TOKEN_HOWTO}. For a local folder, give its path.`,
      },
    );
  }
  return new FineTuneError('hub-no-access', `'${ctx.id}' does not exist, or the token cannot read it (private model)`, {
    detail,
    fix:
      `Check the spelling; if the model is private, use a token (now from ${ctx.tokenSource}) of an account ` +
      'that may read it, with read permission for this repo.',
  });
}

function datasetNotFound(ctx: RequestContext, detail: string): FineTuneError {
  const token =
    ctx.tokenSource === undefined ? `For a private data set, ${TOKEN_HOWTO}.` : `The token is from ${ctx.tokenSource}.`;
  return new FineTuneError('dataset-not-found', `there is no data set '${ctx.id}' on the Hub, or it is private`, {
    detail,
    fix: `Check data.dataset_name (e.g. nyu-mll/glue, stanfordnlp/imdb). ${token}`,
  });
}

export function offlineError(ctx: RequestContext, cacheDir: string, e: unknown): FineTuneError {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ? ` (${cause.code})` : cause?.message ? ` (${cause.message})` : '';
  return new FineTuneError(
    'hub-offline',
    `cannot download '${ctx.id}': the Hugging Face Hub cannot be reached, and the ${noun(ctx)} is not in the cache`,
    {
      detail: `${e instanceof Error ? e.message : String(e)}${why} while fetching ${ctx.url}. Looked in ${cacheDir}.`,
      fix:
        'Connect to the internet and run again (once downloaded, the model is cached), or download the model ' +
        `elsewhere (e.g. git clone ${ctx.endpoint}/${ctx.id}) and set name_or_path to that folder.`,
      cause: e,
    },
  );
}

export function badResponse(ctx: RequestContext, what: string): FineTuneError {
  return new FineTuneError('hub-bad-response', `the answer for ${ctx.file} of '${ctx.id}' ${what}`, {
    detail: `${ctx.url} does not answer like the Hugging Face Hub.`,
    fix: 'Check HF_ENDPOINT (or a proxy in between); the Hub sends X-Repo-Commit, ETag and the file size.',
  });
}

export function cancelledError(ctx: RequestContext): FineTuneError {
  return new FineTuneError('hub-download-cancelled', `the download of ${ctx.file} of '${ctx.id}' was cancelled`, {
    fix: 'Run again to resume it: what was downloaded is kept in the cache.',
  });
}
