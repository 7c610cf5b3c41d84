/**
 * The configs the project ships are ordinary `*.finetune.yaml` files: opened in VS Code they must validate clean
 * through the same language service and Node file host the server uses, so that the demo's runs can be started
 * from the editor as they are.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { createLanguageService, documentFolder } from '../../server/languageService/service';
import { nodeConfigHost } from '../../files/configHost';

const root = path.resolve(__dirname, '..', '..');
const service = createLanguageService({
  hostFor: (uri) => {
    const folder = documentFolder(uri);
    return folder ? nodeConfigHost(folder) : undefined;
  },
  workspace: { dataFiles: async () => [], modelFolders: async () => [] },
});

async function diagnosticsOf(file: string) {
  const text = await fs.readFile(file, 'utf8');
  const d = TextDocument.create(pathToFileURL(file).href, 'finetune-yaml', 1, text);
  return (await service.doValidation(d)).map(
    (x) => `${path.relative(root, file)}:${x.range.start.line + 1}: ${x.code} ${x.message}`,
  );
}

describe('shipped configs', () => {
  for (const name of ['scratch', 'finetune', 'finetune-frozen']) {
    it(`examples/${name}.finetune.yaml (the demo) has no diagnostics`, async () => {
      assert.deepEqual(await diagnosticsOf(path.join(root, 'examples', `${name}.finetune.yaml`)), []);
    });
  }
  it('examples/sample/scratch.finetune.yaml has no diagnostics', async () => {
    assert.deepEqual(await diagnosticsOf(path.join(root, 'examples', 'sample', 'scratch.finetune.yaml')), []);
  });
  for (const name of ['finetune', 'scratch']) {
    it(`examples/mrpc/${name}.finetune.yaml (GLUE MRPC from the Hub) has no diagnostics`, async () => {
      assert.deepEqual(await diagnosticsOf(path.join(root, 'examples', 'mrpc', `${name}.finetune.yaml`)), []);
    });
  }
  it('examples/pretrain.finetune.yaml reports at most that its corpus is not written yet', async () => {
    const got = await diagnosticsOf(path.join(root, 'examples', 'pretrain.finetune.yaml'));
    const other = got.filter((x) => !/ file-not-found .*corpus-(train|validation)\.csv/.test(x));
    assert.deepEqual(other, []);
  });
});
