/**
 * How the Hugging Face token stored in VS Code's secret storage reaches the trainer: as `HF_TOKEN` in the forked
 * process's environment, never in its argv (visible to every user of the machine in `ps`) and never in a file.
 * The order follows huggingface_hub, where an `HF_TOKEN` in the environment wins over the stored login: a token
 * in VS Code's own environment (`HF_TOKEN`, or the older `HUGGING_FACE_HUB_TOKEN`) wins over the stored secret,
 * which wins over the token file `hf auth login` writes (the trainer reads that file only when no variable is set).
 * No vscode import here, so that the rule is tested in plain node.
 */

/** The variables huggingface_hub reads a token from, first match wins. */
export const TOKEN_ENV_VARS = ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN'] as const;

/** What the trainer's environment gains from the stored token: `HF_TOKEN`, unless the environment has one. */
export function hubTokenEnv(
  secret: string | undefined,
  inherited: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  if (secret === undefined || secret === '') return {};
  return envTokenVariable(inherited) === undefined ? { HF_TOKEN: secret } : {};
}

/** The variable that would override a stored token, when one is set (non-empty, as huggingface_hub counts it). */
export function envTokenVariable(env: Readonly<Record<string, string | undefined>>): string | undefined {
  return TOKEN_ENV_VARS.find((v) => (env[v] ?? '').trim() !== '');
}

/** Why a pasted string is not a usable token (undefined when it is one). */
export function tokenProblem(value: string): string | undefined {
  const token = value.trim();
  if (token === '') return 'Paste a token from https://huggingface.co/settings/tokens.';
  if (token.length > 1024) return 'This is too long to be a Hugging Face token.';
  if (!/^[\x21-\x7e]+$/.test(token)) return 'A token has no spaces or line breaks: paste only the token.';
  return undefined;
}
