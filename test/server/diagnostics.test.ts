import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Diagnostic, TextEdit } from 'vscode-languageserver';
import { DiagnosticSeverity } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { ConfigFileHost } from '../../common/config/fileChecks';
import { cachingHost, HostCache } from '../../server/languageService/cachingHost';
import { createLanguageService, DIAGNOSTIC_SOURCE } from '../../server/languageService/service';
import { BASE, defaultFs, doc, memoryHost, memoryWorkspace, service } from './fixtures';

const textAt = (d: TextDocument, x: Diagnostic) => d.getText(x.range);

function applyEdits(d: TextDocument, edits: TextEdit[]): string {
  return TextDocument.applyEdits(d, edits);
}

/** Validates, takes the quick fixes on the diagnostic with `code`, applies the preferred one, and returns the new text. */
async function fixWith(text: string, code: string, title?: RegExp): Promise<string> {
  const s = service();
  const d = doc(text);
  const diags = await s.doValidation(d);
  const target = diags.find((x) => x.code === code);
  assert.ok(target, `expected ${code} in ${diags.map((x) => x.code).join()}`);
  const actions = await s.doCodeActions(d, target.range);
  const action = actions.find(
    (a) => (title ? title.test(a.title) : a.isPreferred) && a.diagnostics?.some((x) => x.code === code),
  );
  assert.ok(action, `no quick fix for ${code}: ${actions.map((a) => a.title).join()}`);
  assert.equal(action.kind, 'quickfix');
  return applyEdits(d, action.edit!.changes![d.uri]!);
}

describe('diagnostics through the language service', () => {
  it('a valid config has none', async () => {
    assert.deepEqual(await service().doValidation(doc(BASE.replace('training:', '  max_length: 64\ntraining:'))), []);
  });
  it('carry a precise range, a code, a severity and the source', async () => {
    const d = doc(BASE.replace('learning_rate', 'learning_rat'));
    const [x] = (await service().doValidation(d)).filter((y) => y.code === 'unknown-key');
    assert.ok(x);
    assert.equal(x.source, DIAGNOSTIC_SOURCE);
    assert.equal(x.severity, DiagnosticSeverity.Error);
    assert.equal(textAt(d, x), 'learning_rat');
    assert.deepEqual(x.range.start, { line: 7, character: 2 });
  });
  it('schema, cross-field and file diagnostics together', async () => {
    const d = doc(
      BASE.replace('data/train.csv', 'data/missing.csv') +
        '  warmup_ratio: 2\n  load_best_model_at_end: true\n  eval_strategy: steps\n  eval_steps: 10\n  save_steps: 10\n',
    );
    const got = (await service().doValidation(d)).map((x) => x.code);
    assert.ok(got.includes('out-of-range'));
    assert.ok(got.includes('load-best-needs-matching-strategies'));
    assert.ok(got.includes('file-not-found'));
  });
  it('a freeze pattern matching nothing is a warning; freezing everything is an error', async () => {
    const w = (await service().doValidation(doc(BASE + 'freeze: [bert.nothing]\n'))).find(
      (x) => x.code === 'pattern-matches-nothing',
    );
    assert.equal(w?.severity, DiagnosticSeverity.Warning);
    const e = (await service().doValidation(doc(BASE + 'freeze: [bert, classifier]\n'))).find(
      (x) => x.code === 'everything-frozen',
    );
    assert.equal(e?.severity, DiagnosticSeverity.Error);
    assert.ok(
      !(await service().doValidation(doc(BASE + 'freeze: [bert]\n'))).some((x) => x.code === 'everything-frozen'),
    );
  });
  it('a malformed freeze pattern is an error on that pattern only; file diagnostics stay (defect 6)', async () => {
    const text = BASE.replace('data/train.csv', 'data/missing.csv') + 'freeze:\n  - bert.embeddings\n  - bert.[z-a]\n';
    const d = doc(text);
    const got = await service().doValidation(d);
    const bad = got.filter((x) => x.code === 'invalid-pattern');
    assert.equal(bad.length, 1);
    assert.equal(textAt(d, bad[0]!), 'bert.[z-a]');
    assert.match(String(bad[0]!.message), /`\[z-a\]` is not a valid class: the range `z-a` runs backwards/);
    assert.ok(
      got.some((x) => x.code === 'file-not-found'),
      got.map((x) => x.code).join(),
    );
  });
});

describe("code actions from the diagnostics' fixes", () => {
  it('rename an unknown key to the suggestion', async () => {
    assert.equal(await fixWith(BASE.replace('learning_rate', 'learning_rat'), 'unknown-key'), BASE);
  });
  it('insert a missing required key', async () => {
    const fixed = await fixWith(BASE.replace('mode: fine-tune\n', ''), 'missing-required');
    assert.match(fixed, /^mode: fine-tune$/m);
  });
  it('set save_strategy to match eval_strategy', async () => {
    const text = BASE + '  load_best_model_at_end: true\n  eval_strategy: epoch\n  save_strategy: "no"\n';
    const fixed = await fixWith(text, 'load-best-needs-matching-strategies');
    assert.match(fixed, /save_strategy: epoch/);
    assert.ok(
      !(await service().doValidation(doc(fixed))).some((x) => x.code === 'load-best-needs-matching-strategies'),
    );
  });
  it('use the column the file has', async () => {
    const fixed = await fixWith(
      BASE.replace('  validation_file', '  label_column: lable\n  validation_file'),
      'missing-column',
    );
    assert.match(fixed, /label_column: label/);
  });
  it('only actions whose diagnostic overlaps the requested range', async () => {
    const s = service();
    const d = doc(BASE.replace('learning_rate', 'learning_rat'));
    await s.doValidation(d);
    assert.deepEqual(
      await s.doCodeActions(d, { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } }),
      [],
    );
  });
});

describe('file check answers are cached per file stamp', () => {
  it('re-reads a data file only when it changes', async () => {
    const fs = defaultFs();
    const stamps = new Map<string, string>([['/ws/data/train.csv', 'v1']]);
    const cache = new HostCache(async (p) => stamps.get(p));
    const s = createLanguageService({
      hostFor: () => cachingHost(memoryHost(fs), cache),
      workspace: memoryWorkspace(fs),
    });
    for (let i = 0; i < 5; i++) await s.doValidation(doc(BASE + `  seed: ${i}\n`));
    const afterTyping = fs.reads!.columns;
    // Two files (train, validation) read once each, however many keystrokes.
    assert.equal(afterTyping, 2);
    fs.files['/ws/data/train.csv'] = 'sentence,label\na,b\n';
    stamps.set('/ws/data/train.csv', 'v2');
    const diags = await s.doValidation(doc(BASE));
    assert.equal(fs.reads!.columns, 3);
    assert.ok(
      diags.some((x) => x.code === 'missing-column'),
      'the edited header is seen',
    );
  });
});

describe('a slow or failing file host cannot hold the answer', () => {
  it('answers with the schema diagnostics when file checks time out', async () => {
    const never = new Promise<never>(() => {});
    const host: ConfigFileHost = {
      ...memoryHost(defaultFs()),
      fileExists: () => never,
      readColumns: () => never,
      localModel: () => never,
    };
    const s = createLanguageService({ hostFor: () => host, fileTimeoutMs: 100 });
    const t0 = Date.now();
    const diags = await s.doValidation(doc(BASE.replace('learning_rate', 'learning_rat')));
    assert.ok(Date.now() - t0 < 2000);
    assert.ok(diags.some((x) => x.code === 'unknown-key'));
    const { items } = await s.doComplete(doc('data:\n  train_file: data/train.csv\n  text_column: \n'), {
      line: 2,
      character: 15,
    });
    assert.deepEqual(items, []);
  });
  it('a host that throws does not break validation', async () => {
    const host: ConfigFileHost = {
      ...memoryHost(defaultFs()),
      fileExists: async () => {
        throw new Error('EACCES');
      },
    };
    const s = createLanguageService({ hostFor: () => host });
    const diags = await s.doValidation(doc(BASE.replace('learning_rate', 'learning_rat')));
    assert.deepEqual(
      diags.map((x) => x.code),
      ['unknown-key'],
    );
  });
});
