/**
 * Fuzz: hostile remote file names for the Hub client, against the fake Hub on 127.0.0.1 (issue 13). Each case
 * serves a repo where one remote-controlled name is hostile (generated from path tricks, or a mutated real name):
 * a shard name in `model.safetensors.index.json`, the target of a redirect, the ETag or the commit sha the Hub
 * answers with. `fetchHubModel` must either download into the model's own cache folder or refuse with a
 * `FineTuneError`; nothing may appear or change outside `HF_HOME`, nor inside it outside the model's folder.
 * Reproduce a failure with `FUZZ_SEED=<seed> node --import tsx --test test/fuzz/hubNames.test.ts`.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { hubTestbed, TINY_BERT_CONFIG, TINY_WEIGHTS } from '../fixtures/hubTestbed';
import { listFiles } from '../fixtures/sandbox';
import { fuzz, mutateText, pick } from './harness';
import { randInt, type Rng } from '../../common/random';
import { fetchHubModel } from '../../trainer/hf/hub';
import { FineTuneError } from '../../common/errors';

const bed = hubTestbed('hub-fuzz-');
const sb = bed.sb;
const CONFIG = TINY_BERT_CONFIG;
const WEIGHTS = TINY_WEIGHTS;
const SHARD = 'model-00001-of-00002.safetensors';
const STANDARD_NAMES = new Set([
  'model.safetensors',
  'model.safetensors.index.json',
  'pytorch_model.bin',
  'pytorch_model.bin.index.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.txt',
  // RoBERTa's classic tokenizer files, which the client fetches when present (trainer/hf/hub.ts).
  'vocab.json',
  'merges.txt',
]);

type Kind = 'shard' | 'redirect' | 'etag' | 'commit';
interface Case {
  kind: Kind;
  name: string;
}

const PIECES = [
  '..',
  '.',
  '',
  'a',
  'a\\b',
  'C:',
  'c:\\',
  '\\\\srv\\share',
  '\u0000',
  '%2e%2e',
  '..%2f',
  '%00',
  '.. ',
  '...',
  'CON',
  'nul.txt',
  'é',
  '\u{1F600}',
  '\ud800',
  ' ',
  '~',
  '$HOME',
  'x'.repeat(300),
  'a:b',
  '?',
  '#',
];
const SEEDS = [
  SHARD,
  'a\\b/../../a\\b/../../pwned',
  '../x',
  '/etc/passwd',
  'C:\\Windows\\x',
  'sub/dir/file.bin',
  '0123456789abcdef0123456789abcdef01234567',
  'W/"abc"',
];

/** A path built from tricky pieces and separators, or a mutated real-looking name. */
function hostileName(rng: Rng): string {
  if (randInt(rng, 2) === 0) return mutateText(rng, pick(rng, SEEDS));
  const n = 1 + randInt(rng, 6);
  const parts = Array.from({ length: n }, () => pick(rng, PIECES));
  const sep = () => pick(rng, ['/', '/', '\\', '//']);
  return parts.reduce((acc, p, i) => (i === 0 ? p : acc + sep() + p), randInt(rng, 4) === 0 ? '/' : '');
}

/** A header cannot carry control or non-Latin-1 characters: percent-encode those bytes, as a server would. */
function headerSafe(s: string): string {
  return [...Buffer.from(s, 'utf8')]
    .map((b) => (b > 0x20 && b < 0x7f ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`))
    .join('');
}

let caseNo = 0;
/** Serves a repo where `c.name` is hostile in the place its kind says; returns the repo id. */
function serve(c: Case): string {
  const id = `fuzz/m-${++caseNo}`;
  const files: Record<string, string | Uint8Array> = { 'config.json': CONFIG };
  if (c.kind === 'shard') {
    files['model.safetensors.index.json'] = JSON.stringify({ weight_map: { 'classifier.bias': SHARD, x: c.name } });
    files[SHARD] = WEIGHTS;
  } else {
    files['model.safetensors'] = WEIGHTS;
  }
  const value = headerSafe(c.name);
  bed.hub.addRepo(id, files, {
    // Any other name the client asks for exists (it is what a hostile name resolves to), but the standard
    // names keep their meaning, so that the index, not a stray model.safetensors, is what gets read.
    fallback: (name) => (STANDARD_NAMES.has(name) ? undefined : WEIGHTS),
    tamper: (file, headers) => {
      if (c.kind === 'commit') headers.set('X-Repo-Commit', value);
      if (c.kind === 'etag') headers.set(headers.has('X-Linked-Etag') ? 'X-Linked-Etag' : 'ETag', `"${value}"`);
      if (c.kind === 'redirect' && file === 'model.safetensors') {
        headers.set('Location', `${bed.hub.endpoint}/${id}/resolve/main/${value}`);
      }
    },
  });
  return id;
}

function assertClearRefusal(e: unknown): void {
  assert.ok(e instanceof FineTuneError, `not a FineTuneError: ${e instanceof Error ? e.stack : String(e)}`);
  assert.match(e.code, /^[a-z]+(-[a-z]+)+$/);
  assert.notEqual(e.code, 'internal');
  assert.ok(e.message.length > 10 && e.fix !== undefined && e.fix.length > 10, `unclear: ${e.message}`);
}

/** Every file or link under HF_HOME belongs to the model's own cache folder. */
function assertInsideModelFolder(id: string): void {
  const folder = `models--${id.replace('/', '--')}`;
  for (const [file, kind] of listFiles(sb.hfHome)) {
    if (kind.startsWith('dir')) continue;
    assert.ok(file.split(path.sep).includes(folder), `${file} was written outside ${folder}`);
  }
}

test('hostile remote file names never write outside the model cache folder, and are refused clearly', async () => {
  const outcomes = new Map<string, number>();
  const outside = listFiles(sb.root, [sb.hfHome]);
  const report = await fuzz<Case>('hub names', {
    minCases: 80,
    budgetMs: 8_000,
    generate: (rng) => ({
      kind: pick<Kind>(rng, ['shard', 'shard', 'redirect', 'etag', 'commit']),
      name: hostileName(rng),
    }),
    check: async (c) => {
      const id = serve(c);
      let outcome = 'downloaded';
      try {
        const dir = await fetchHubModel(id);
        assert.ok(!path.relative(sb.hfHome, dir).startsWith('..'), `${dir} is outside HF_HOME`);
      } catch (e) {
        assertClearRefusal(e);
        outcome = (e as FineTuneError).code;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      assert.deepEqual(listFiles(sb.root, [sb.hfHome]), outside);
      assertInsideModelFolder(id);
      rmSync(sb.hfHome, { recursive: true, force: true });
      mkdirSync(sb.hfHome);
    },
    show: (c) => JSON.stringify(c),
  });
  const refused = outcomes.get('unsafe-file-name') ?? 0;
  console.log(
    `hub names: ${report.cases} cases in ${report.elapsedMs.toFixed(0)} ms, slowest ${report.slowestMs.toFixed(0)} ms`,
  );
  console.log(`outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
  // The generator must reach both sides of the check, or the suite proves nothing.
  assert.ok(refused >= report.cases / 5, `only ${refused} of ${report.cases} names were refused`);
  assert.ok((outcomes.get('downloaded') ?? 0) >= report.cases / 20, 'almost no name was accepted');
});
