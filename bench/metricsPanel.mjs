// Loads the built metrics panel bundle (dist/webview/metricsPanel.js) in headless chromium with a stubbed VS Code
// API, sends a snapshot of a 100,000-step run, then appends steps in batches of 5 every 50 ms (100 steps/s,
// 20 updates/s) for 5 s, and reports the snapshot-to-first-paint time and the frame intervals while it streams.
// Needs `npm run e2e:setup` (playwright-core in .e2e/) and `npm run build`. Usage: node bench/metricsPanel.mjs
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const require = createRequire(path.join(ROOT, '.e2e', 'package.json'));
const { chromium } = require('playwright-core');
const STEPS = Number(process.argv[2] ?? 100_000);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-bench-'));
const html = path.join(dir, 'index.html');
fs.writeFileSync(
  html,
  `<!DOCTYPE html><html><head><link rel="stylesheet" href="file://${ROOT}/dist/webview/codicons/codicon.css" id="vscode-codicon-stylesheet"><link rel="stylesheet" href="file://${ROOT}/media/panels.css"></head><body style="width:1200px">
<main id="root"></main>
<script>
window.__posted = [];
let state;
window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), getState: () => state, setState: (s) => (state = s) });
</script>
<script src="file://${ROOT}/dist/webview/metricsPanel.js"></script></body></html>`,
);

function series(n) {
  const c = {
    step: [],
    epoch: [],
    loss: [],
    learningRate: [],
    gradNorm: [],
    samplesPerSecond: [],
    tokensPerSecond: [],
    elapsedMs: [],
  };
  for (let i = 1; i <= n; i++) {
    c.step.push(i);
    c.epoch.push(i / 1000);
    c.loss.push(2 * Math.exp(-i / 20000) + 0.3 * Math.random());
    c.learningRate.push(5e-5 * (1 - i / (n * 2)));
    c.gradNorm.push(1 + Math.random());
    c.samplesPerSecond.push(100 + 10 * Math.random());
    c.tokensPerSecond.push(10000);
    c.elapsedMs.push(i * 10);
  }
  const evals = [];
  for (let s = 1000; s <= n; s += 1000)
    evals.push({
      type: 'eval',
      step: s,
      epoch: s / 1000,
      split: 'validation',
      metrics: { loss: 1 / Math.sqrt(s), accuracy: 1 - 1 / Math.sqrt(s) },
      isBest: true,
    });
  return { runId: 'r', name: 'bench', steps: c, lastEtaMs: 1000, evals, checkpoints: [], errors: [] };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--allow-file-access-from-files'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(`file://${html}`);
  await page.waitForFunction(() => window.__posted.some((m) => m.type === 'ready'));
  const snapshot = {
    type: 'snapshot',
    seq: 1,
    state: { runs: [{ info: { runId: 'r', live: true, config: {} }, series: series(STEPS) }] },
  };
  const firstPaintMs = await page.evaluate(async (snap) => {
    const t0 = performance.now();
    window.postMessage(snap, '*');
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    return performance.now() - t0;
  }, snapshot);
  const cdp = process.env.PROFILE ? await page.context().newCDPSession(page) : undefined;
  if (cdp) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.start');
  }
  const stream = await page.evaluate(async (start) => {
    const frames = [];
    let last = performance.now();
    let running = true;
    const tick = (t) => {
      frames.push(t - last);
      last = t;
      if (running) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    let step = start;
    let seq = 2;
    const until = performance.now() + 5000;
    while (performance.now() < until) {
      const messages = [];
      for (let k = 0; k < 5; k++) {
        step++;
        messages.push({
          type: 'step',
          step,
          epoch: step / 1000,
          loss: Math.random(),
          learningRate: 1e-5,
          gradNorm: 1,
          samplesPerSecond: 100,
          tokensPerSecond: 1e4,
          elapsedMs: step * 10,
          etaMs: 1000,
        });
      }
      window.postMessage({ type: 'append', seq: seq++, item: { runId: 'r', messages } }, '*');
      await new Promise((r) => setTimeout(r, 50));
    }
    running = false;
    const shown = document.querySelector('.step-count')?.textContent;
    frames.sort((a, b) => a - b);
    const pct = (p) => frames[Math.min(frames.length - 1, Math.floor(p * frames.length))];
    return {
      frames: frames.length,
      p50: pct(0.5),
      p95: pct(0.95),
      max: frames[frames.length - 1],
      shown,
      appends: seq - 2,
    };
  }, STEPS);
  if (cdp) {
    const { profile } = await cdp.send('Profiler.stop');
    const self = new Map();
    const dt = profile.timeDeltas;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => {
      const n = byId.get(id);
      const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}`;
      self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0) / 1000);
    });
    console.log(
      [...self]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 15)
        .map(([k, v]) => `${v.toFixed(0).padStart(6)} ms  ${k}`)
        .join('\n'),
    );
  }
  const resync = await page.evaluate(() => window.__posted.filter((m) => m.type === 'resync').length);
  console.log(
    JSON.stringify(
      { steps: STEPS, firstPaintMs: Math.round(firstPaintMs), streaming: stream, resyncRequests: resync, errors },
      null,
      1,
    ),
  );
  await page.screenshot({ path: path.join(dir, 'metrics.png'), fullPage: true });
  console.log(`screenshot: ${path.join(dir, 'metrics.png')}`);
} finally {
  await browser.close();
}
