/**
 * What makes a file a Fine-Tune config: its name. Declared once for the extension (commands, the freezing panel,
 * the language client's start), the run names taken from a config's name, and the tools; package.json's `when`
 * clauses and `contributes.languages` spell the same two extensions, which a test keeps in step.
 */

/** `*.finetune.yaml` or `*.finetune.yml`, in any case (file systems on macOS and Windows ignore it). */
export const CONFIG_FILE_RE = /\.finetune\.ya?ml$/i;

/** The glob for file watchers and document selectors. */
export const CONFIG_FILE_GLOB = '**/*.finetune.{yaml,yml}';

export function isConfigFile(fileName: string): boolean {
  return CONFIG_FILE_RE.test(fileName);
}

/** `sst2.finetune.yaml` → `sst2`: the name a run of that config gets when it has no `run_name`. */
export function configBaseName(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? fileName;
  return base.replace(CONFIG_FILE_RE, '');
}
