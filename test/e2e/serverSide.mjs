// Where code-server runs what, checked through /proc (processTree.mjs): the extension host is on the server side,
// so the trainer it starts and the language server are there too, while the webviews render in the browser.
// `vs` is what vscode.mjs's `launch` returned: code-server's pid, its extensions folder, the browser's profile.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { waitFor } from './panelsHarness.mjs';
import { ancestry, describeChain, parentOf, processesWhere } from './processTree.mjs';

/** Whether an argument is the extension's own `dist/<file>`, as installed into code-server's extensions folder. */
const installedBundle = (vs, file) => {
  const dirs = [vs.extensionsDir, fs.realpathSync(vs.extensionsDir)];
  return (arg) => dirs.some((d) => arg.startsWith(d + path.sep)) && arg.endsWith(path.join('dist', file));
};

/**
 * The trainer `pid` descends from code-server's extension host, which descends from the code-server the harness
 * started and not from the browser: the server side. Returns the extension host's pid and the trainer's chain.
 */
export function assertTrainerUnderServer(vs, pid) {
  const chain = ancestry(pid);
  const seen = describeChain(chain);
  assert.ok(chain[0].argv.some(installedBundle(vs, 'trainer.js')), `pid ${pid} is the installed trainer: ${seen}`);
  const host = chain.findIndex((p) => p.argv.includes('--type=extensionHost'));
  assert.ok(host > 0, `the trainer descends from an extension host: ${seen}`);
  const above = chain.slice(host).map((p) => p.pid);
  assert.ok(above.includes(vs.serverPid), `the extension host descends from code-server (${vs.serverPid}): ${seen}`);
  // Every process of the browser descends from its main one, which names its profile folder: that one is not above.
  const browser = processesWhere((argv) => argv.includes(`--user-data-dir=${vs.browserProfile}`));
  assert.ok(browser.length > 0, `the browser's main process is found by its profile ${vs.browserProfile}`);
  for (const b of browser)
    assert.ok(!above.includes(b.pid), `the browser (${b.pid}) is not above the trainer: ${seen}`);
  return { host: chain[host].pid, chain };
}

/** The language server (the installed extension's `dist/server.js`) is a child of the extension host `host`. */
export async function assertLanguageServerUnder(vs, host) {
  const isServer = installedBundle(vs, 'server.js');
  const servers = await waitFor(() => {
    const found = processesWhere((argv) => argv.some(isServer));
    return found.length > 0 && found;
  }, 'the language server process');
  for (const s of servers) {
    const seen = describeChain(ancestry(s.pid));
    assert.equal(parentOf(s.pid), host, `the language server's parent is the extension host: ${seen}`);
  }
}
