/**
 * Issue 16, Deliver 2 and 5: a Hub id already in the shared Hub cache gets the model checks a local folder gets
 * (max_length against max_position_embeddings, freeze patterns against its real module names, completion of
 * them, hover, an unsupported model_type), read from the cached snapshot; `model.revision` completes the cached
 * refs and commits, and offline a revision that is not cached is an error. None of it makes a request: HF_ENDPOINT
 * points at a local server that counts every hit.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import type { CompletionItem, Diagnostic, MarkupContent } from 'vscode-languageserver';
import { DiagnosticSeverity } from 'vscode-languageserver';
import { createLanguageService } from '../../server/languageService/service';
import { cachingHost, HostCache } from '../../server/languageService/cachingHost';
import { nodeConfigHost } from '../../files/configHost';
import { modelShape } from '../../server/languageService/memoryFacts';
import { parseConfig } from '../../server/languageService/parse';
import { cacheModel, hubCacheTestbed, TINY_HUB_CONFIG, tinyHubWeights } from '../fixtures/hubCacheFixture';
import { doc, withCursor } from './fixtures';

const MAIN = 'a1b2c3d'.padEnd(40, '0');
const TAG = 'b'.repeat(40);
const PR = 'c'.repeat(40);
const TINY = TINY_HUB_CONFIG;

const bed = hubCacheTestbed('hub-checks-', (cacheDir) => {
  cacheModel(
    cacheDir,
    'org/tiny',
    { main: MAIN, 'v1.0': TAG, 'refs/pr/3': PR },
    {
      [MAIN]: { 'config.json': TINY, 'model.safetensors': tinyHubWeights(), 'vocab.txt': '[PAD]\n' },
      [PR]: { 'config.json': { ...TINY, max_position_embeddings: 128 } },
    },
  );
  const noTokenizer = { 'config.json': TINY, 'model.safetensors': tinyHubWeights() };
  cacheModel(cacheDir, 'org/notok', { main: MAIN }, { [MAIN]: noTokenizer });
  cacheModel(cacheDir, 'org/gpt', { main: TAG }, { [TAG]: { 'config.json': { ...TINY, model_type: 'gpt2' } } });
});

const hostCache = new HostCache(async (p) => {
  const s = await stat(p);
  return `${s.mtimeMs}:${s.size}`;
});
/** The host the server builds (a caching one over the Node host) when `cached`, else the Node host itself. */
const service = (cached = false) =>
  createLanguageService({
    hostFor: () => (cached ? cachingHost(nodeConfigHost(bed.sb.root), hostCache) : nodeConfigHost(bed.sb.root)),
    workspace: { dataFiles: async () => [], modelFolders: async () => [] },
    fileTimeoutMs: 5000,
  });

const config = (model: string, extra = '') => `mode: fine-tune
model:
  name_or_path: ${model}
data:
  dataset_name: org/data
  max_length: 64
${extra}`;

const text = (d: Diagnostic) => (typeof d.message === 'string' ? d.message : '');
async function diagnostics(source: string, cached = false): Promise<Diagnostic[]> {
  return service(cached).doValidation(doc(source));
}
async function complete(marked: string): Promise<CompletionItem[]> {
  const { document, position } = withCursor(marked);
  return (await service().doComplete(document, position)).items;
}
async function hover(marked: string): Promise<string> {
  const { document, position } = withCursor(marked);
  const h = await service().doHover(document, position);
  return h ? (h.contents as MarkupContent).value : '';
}

describe('a Hub id in the Hub cache is checked as a model folder is', () => {
  for (const cached of [false, true]) {
    it(`max_length above the cached model's max_position_embeddings is an error naming the snapshot${cached ? ' (caching host)' : ''}`, async () => {
      const found = (await diagnostics(config('org/tiny'), cached)).filter(
        (d) => d.code === 'max-length-over-positions',
      );
      assert.equal(found.length, 1);
      assert.equal(found[0]!.severity, DiagnosticSeverity.Error);
      assert.match(
        text(found[0]!),
        /\(64\) is above the `max_position_embeddings` \(32\) of org\/tiny \(cached at revision main = a1b2c3d\)/,
      );
    });
  }

  it('the revision decides the snapshot: refs/pr/3 has 128 positions', async () => {
    const found = await diagnostics(config('org/tiny', '').replace('data:', '  revision: refs/pr/3\ndata:'));
    assert.deepEqual(
      found.filter((d) => d.severity === DiagnosticSeverity.Error).map((d) => d.code),
      [],
    );
  });

  it('a freeze pattern that matches none of its modules is a warning with the nearest real name', async () => {
    const found = await diagnostics(config('org/tiny', 'freeze:\n  - bert.encoder.layers\n'));
    const d = found.find((x) => x.code === 'pattern-matches-nothing');
    assert.ok(d, JSON.stringify(found));
    assert.match(
      text(d),
      /`bert\.encoder\.layers` matches no parameter of org\/tiny \(cached at revision main = a1b2c3d\)\. Did you mean `bert\.encoder\.layer`\?/,
    );
  });

  it('freeze completes the module names of the cached weights', async () => {
    const labels = (await complete(config('org/tiny', 'freeze:\n  - |\n'))).map((i) => i.label);
    for (const name of [
      'bert.embeddings',
      'bert.encoder.layer.1.attention.self.query',
      'bert.encoder.layer.*.intermediate',
    ])
      assert.ok(labels.includes(name), `${name} in ${labels.join(', ')}`);
  });

  it('hover on name_or_path describes the cached model and its snapshot', async () => {
    const value = await hover(config('org/t|iny'));
    assert.match(value, /\*\*org\/tiny\*\*: 2 layers, hidden size 8, 2 heads/);
    assert.match(value, /up to 32 tokens/);
    assert.match(value, /Read from the Hub cache: org\/tiny \(cached at revision main = a1b2c3d\)/);
  });

  it("the memory check gets the cached model's shape (the feed-forward width from its weights)", async () => {
    const parsed = parseConfig(config('org/tiny')).result!;
    // The cached config.json's sizes, and type_vocab_size from the token type embeddings [2, 8].
    const { model_type: _family, ...sizes } = TINY;
    assert.deepEqual(await modelShape(parsed.config, nodeConfigHost(bed.sb.root)), { ...sizes, type_vocab_size: 2 });
  });

  it('a cached model of a family we do not train is refused, as a folder would be', async () => {
    const d = (await diagnostics(config('org/gpt'))).find((x) => x.code === 'model-invalid');
    assert.ok(d);
    assert.match(text(d), /org\/gpt \(cached at revision main = bbbbbbb\): .*'gpt2'/);
  });

  it('a Hub id that is not cached gets no model check and no error (as before)', async () => {
    const found = await diagnostics(config('org/absent', 'freeze:\n  - nothing.like.this\n'));
    assert.deepEqual(
      found.filter((d) => d.severity !== DiagnosticSeverity.Information).map((d) => d.code),
      [],
    );
  });
});

describe('model.revision', () => {
  const withRevision = (revision: string) => config('org/tiny').replace('data:', `  revision: ${revision}\ndata:`);

  it('completes main, the cached branches, tags and pull requests, and the cached commits', async () => {
    const items = await complete(withRevision('|'));
    const byLabel = new Map(items.map((i) => [i.label, i.detail]));
    assert.equal(items[0]?.label, 'main');
    assert.equal(byLabel.get('main'), 'default branch · commit a1b2c3d, cached');
    assert.equal(byLabel.get('v1.0'), 'branch or tag · commit bbbbbbb');
    assert.equal(byLabel.get('refs/pr/3'), 'pull request · commit ccccccc, cached');
    assert.equal(byLabel.get(MAIN), 'commit, cached · main');
    assert.equal(byLabel.get(PR), 'commit, cached · refs/pr/3');
  });

  it('a model that is not cached completes main alone', async () => {
    const items = await complete(config('org/absent').replace('data:', '  revision: |\ndata:'));
    assert.deepEqual(
      items.map((i) => i.label),
      ['main'],
    );
  });

  it('hover on the revision says which cached commit it is, or that a run downloads it', async () => {
    assert.match(
      await hover(withRevision('refs/pr|/3')),
      new RegExp(`\`refs/pr/3\` is the commit ${PR}, in the Hub cache`),
    );
    // v1.0 is a known ref, but its snapshot is not in the cache.
    assert.match(
      await hover(withRevision('v1|.0')),
      /`v1\.0` is not in the Hub cache \(.*\): a run downloads it first/,
    );
  });

  it('a malformed revision is an error, whatever the cache', async () => {
    for (const bad of ['../../../etc', 'refs/pr/x', 'a b', 'v1..2']) {
      const d = (await diagnostics(withRevision(`"${bad}"`))).find((x) => x.code === 'revision-invalid');
      assert.ok(d, bad);
      assert.equal(d.severity, DiagnosticSeverity.Error);
    }
  });

  it('offline, a revision that is not cached is an error with the way to get it; online it is not', async () => {
    const online = await diagnostics(withRevision('v2'));
    assert.equal(
      online.find((d) => d.code === 'revision-not-cached'),
      undefined,
    );
    process.env.HF_HUB_OFFLINE = '1';
    const d = (await diagnostics(withRevision('v2'))).find((x) => x.code === 'revision-not-cached');
    assert.ok(d);
    assert.equal(d.severity, DiagnosticSeverity.Error);
    assert.match(text(d), /`org\/tiny` at revision `v2` is not in the cache .* downloads are off/);
    assert.match(text(d), /`hf download org\/tiny --revision v2`/);
  });

  it('offline, TRANSFORMERS_OFFLINE counts too, and an uncached Hub id is an error on name_or_path', async () => {
    process.env.TRANSFORMERS_OFFLINE = 'true';
    const d = (await diagnostics(config('org/absent'))).find((x) => x.code === 'revision-not-cached');
    assert.ok(d);
    assert.match(text(d), /`hf download org\/absent`/);
  });

  it('offline, a cached revision without its weights is an error; with them, none', async () => {
    process.env.HF_HUB_OFFLINE = '1';
    const pr = (await diagnostics(withRevision('refs/pr/3'))).find((x) => x.code === 'revision-not-cached');
    assert.match(
      pr ? text(pr) : '',
      /org\/tiny \(cached at revision refs\/pr\/3 = ccccccc\) has no weights and no tokenizer in the cache/,
    );
    const main = await diagnostics(withRevision('main'));
    assert.deepEqual(
      main.filter((d) => String(d.code).startsWith('revision')),
      [],
    );
  });

  it('offline, a snapshot without a tokenizer is an error unless model.tokenizer names one', async () => {
    process.env.HF_HUB_OFFLINE = '1';
    const own = (await diagnostics(config('org/notok'))).find((x) => x.code === 'revision-not-cached');
    assert.match(
      own ? text(own) : '',
      /org\/notok \(cached at revision main = a1b2c3d\) has no tokenizer in the cache/,
    );
    const other = await diagnostics(config('org/notok').replace('data:', '  tokenizer: org/tiny\ndata:'));
    assert.equal(
      other.find((x) => x.code === 'revision-not-cached'),
      undefined,
    );
  });

  it('a short sha of one cached commit is that snapshot; offline it is a warning with the whole commit as the fix', async () => {
    const online = await diagnostics(withRevision('a1b2c3d'));
    assert.ok(online.some((d) => d.code === 'max-length-over-positions'));
    assert.equal(
      online.find((d) => d.code === 'revision-short-sha'),
      undefined,
    );
    process.env.HF_HUB_OFFLINE = '1';
    const source = withRevision('a1b2c3d');
    const offline = await diagnostics(source);
    assert.equal(
      offline.find((d) => d.code === 'revision-not-cached'),
      undefined,
    );
    const d = offline.find((x) => x.code === 'revision-short-sha');
    assert.ok(d);
    assert.equal(d.severity, DiagnosticSeverity.Warning);
    const document = doc(source);
    const actions = await service().doCodeActions(document, d.range);
    const edit = actions.find((a) => a.title === `Change to the commit ${MAIN}`)?.edit?.changes?.[document.uri]?.[0];
    assert.equal(edit?.newText, MAIN);
  });

  it('no request reached the Hub', () => {
    assert.deepEqual(bed.hub.hits, []);
  });
});
