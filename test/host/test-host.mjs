#!/usr/bin/env node
// A stand-in for a VS Code executable, for @vscode/test-electron's runTests({ vscodeExecutablePath }).
// It accepts the arguments runTests passes (--extensionDevelopmentPath, --extensionTestsPath,
// --user-data-dir, --extensions-dir, a folder) and runs the tests inside the Node extension host of the
// offline VS Code server, with headless chromium as the window. Exit code = the test runner's.
// Env: HOST_TIMEOUT_MS (default 240000), HOST_SCREENSHOT (png path taken at the end).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, startServer } from './codeServer.mjs';

const argv = process.argv.slice(2);
const devPaths = []; const positional = [];
let testsPath, disableExtensions = false;
const takesValue = new Set(['extensionDevelopmentPath', 'extensionTestsPath', 'user-data-dir', 'extensions-dir']);
for (let i = 0; i < argv.length; i++) {
  const m = /^--([^=]+)(?:=(.*))?$/.exec(argv[i]);
  if (!m) { positional.push(argv[i]); continue; }
  const [, key, inline] = m;
  const value = inline ?? (takesValue.has(key) ? argv[++i] : undefined);
  if (key === 'extensionDevelopmentPath') devPaths.push(path.resolve(value));
  else if (key === 'extensionTestsPath') testsPath = path.resolve(value);
  // --user-data-dir and --extensions-dir are ignored on purpose: every run gets a fresh profile in its own
  // state dir (runTests would reuse .vscode-test/ in the project, carrying settings and backups between runs).
  else if (key === 'disable-extensions') disableExtensions = true;
}
if (!devPaths.length || !testsPath) { console.error('test-host: need --extensionDevelopmentPath and --extensionTestsPath'); process.exit(2); }

const t0 = Date.now(); const since = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-itest-'));
let host, window, exitCode = 1;
try {
  host = await startServer({ stateDir, disableExtensions });
  console.error(`[host] VS Code server up on ${host.base} after ${since()}`);
  window = await launchBrowser();
  const { page } = window;
  let finish; const finished = new Promise(r => { finish = r; });
  // The workbench calls these in automation (smoke-test) mode: the exit code of the test runner,
  // and every log line, which includes the extension host's console (mocha's reporter).
  await page.exposeFunction('codeAutomationExit', code => finish(code));
  const noise = /^(Resolving connection token|Resolved connection token|Creating a socket|\[reconnection-grace-time\]|Updating additional builtin|\[Service Worker\]|\[AgentHost|\[AccountPolicyGate\]|Started local extension host|Extension host test runner exit code)|ENOTFOUND|open-vsx/;
  await page.exposeFunction('codeAutomationLog', (type, args = []) => {
    if (!process.env.HOST_ALL_LOGS && typeof args[0] === 'string' && noise.test(args[0])) return;
    (console[type] ?? console.log)(...args);
  });
  await page.goto(host.url({ folder: positional[0] && path.resolve(positional[0]), devPaths, testsPath }));
  console.error(`[host] workbench loaded after ${since()}`);
  const timeoutMs = +(process.env.HOST_TIMEOUT_MS || 240_000);
  let timer; const timedOut = new Promise(r => { timer = setTimeout(() => r('timeout'), timeoutMs); });
  const result = await Promise.race([finished, timedOut]); clearTimeout(timer);
  if (process.env.HOST_SCREENSHOT) await page.screenshot({ path: process.env.HOST_SCREENSHOT }).catch(() => undefined);
  if (result === 'timeout') { console.error(`[host] TIMEOUT after ${timeoutMs} ms\n${host.output().slice(-3000)}`); exitCode = 124; }
  else { exitCode = Number(result) || 0; console.error(`[host] tests finished with exit code ${exitCode} after ${since()}`); }
} catch (e) {
  console.error('[host] error', e);
} finally {
  await window?.close().catch(() => undefined);
  await host?.stop();
  if (!process.env.HOST_KEEP_STATE) fs.rmSync(stateDir, { recursive: true, force: true, maxRetries: 5 });
}
process.exit(exitCode);
