// Helpers for UI tests: a real workbench (offline VS Code server + headless chromium) with NoteSeal
// loaded as the extension under development, and the few gestures the tests use.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, projectRoot, startServer } from '../host/codeServer.mjs';

export const artifactsDir = path.join(projectRoot, 'test-results', 'ui');

/**
 * Opens `folder` (a copy of test/fixtures/workspace by default) in a fresh workbench with NoteSeal loaded.
 * The vault's keyfile is `keyfile` (default: a fresh path in the state dir, so NoteSeal starts not set up);
 * key derivation uses the fast test parameters. `prepare(folder)` runs before the window opens.
 * `extensions`: folders of other extensions, installed beside NoteSeal (copied into the extensions folder:
 * the workbench URL loads only one extension under development).
 */
export async function openWorkbench({ folder, keyfile, settings, prepare, env = {}, extensions = [], vscodeArgs = [] } = {}) {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-ui-'));
  keyfile ??= path.join(stateDir, 'keyfile.json');
  if (!folder) {
    folder = path.join(stateDir, 'workspace');
    fs.cpSync(path.join(projectRoot, 'test/fixtures/workspace'), folder, { recursive: true });
  }
  // Files made before the window opens are listed at once; ones made later wait for the file watcher.
  prepare?.(folder);
  for (const dir of extensions) {
    const { publisher, name, version } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    fs.cpSync(dir, path.join(stateDir, 'extensions', `${publisher}.${name}-${version}`), { recursive: true });
  }
  const host = await startServer({ stateDir, settings, env: { NOTESEAL_KEYFILE: keyfile, NOTESEAL_TEST_FAST_KDF: '1', ...env }, vscodeArgs });
  const window = await launchBrowser({ userDataDir: path.join(stateDir, 'chromium-profile') });
  const { page } = window;
  await page.goto(host.url({ folder, devPaths: [projectRoot] }));
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  return {
    page, host, folder, stateDir, keyfile,
    /** Closes the browser window (as a user closing the tab); the server keeps running. */
    async closeWindow() { await window.close().catch(() => undefined); },
    async close() {
      await window.close().catch(() => undefined);
      await host.stop();
      fs.rmSync(stateDir, { recursive: true, force: true, maxRetries: 5 });
    },
  };
}

/** The Explorer row of exactly `name` (not a sibling whose name contains it, such as a temp file), or matching a RegExp. */
export function explorerRow(page, name) {
  const hasText = name instanceof RegExp ? name : new RegExp(`^\\s*${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
  return page.locator('.explorer-folders-view .monaco-list-row', { hasText });
}

/** The text of a modal dialog open in the workbench, or undefined when none is. */
export async function openDialogText(page) {
  const dialog = page.locator('.monaco-dialog-box').first();
  return await dialog.isVisible().catch(() => false) ? (await dialog.innerText()).replace(/\s+/g, ' ').trim() : undefined;
}

/**
 * Runs a command by its palette title, as a user would: F1, type, Enter. A modal dialog open before or
 * while typing makes the palette inert: the error then names the dialog (a screenshot is kept), instead of a
 * bare time-out on the palette. A palette that closed by itself with no dialog is opened once more.
 */
export async function runCommand(page, title) {
  const failWith = async (why, dialog) => {
    await screenshot(page, `runCommand-${title.replace(/\W+/g, '-')}-FAILED`);
    throw new Error(`running "${title}" from the palette: ${why}${dialog ? `; a modal dialog is open: "${dialog}"` : ''}`);
  };
  for (let attempt = 0; ; attempt++) {
    let before = await openDialogText(page);
    for (const end = Date.now() + 5000; before && Date.now() < end; before = await openDialogText(page)) await page.waitForTimeout(100); // one closing
    if (before) await failWith('the palette cannot open', before);
    await page.locator('.monaco-workbench').click({ position: { x: 640, y: 300 } });
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    try {
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill(`>${title}`, { timeout: 10_000 });
      await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 10_000 });
      break;
    } catch (e) {
      const dialog = await openDialogText(page);
      if (dialog || attempt === 1) await failWith(e.message.split('\n')[0], dialog);
      await page.keyboard.press('Escape');
    }
  }
  await page.keyboard.press('Enter');
}

/** Answers the open quick input (an input box or a prompt) as a user would: type `text`, then Enter. */
export async function answerQuickInput(page, text, timeout) {
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout });
  await input.fill(text);
  await page.keyboard.press('Enter');
}

/** Types `target` into the web workbench's simple save dialog once it has made its own proposal, then accepts. */
export async function answerSaveDialog(page, target) {
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 15_000 });
  const until = async (what, cond) => {
    const end = Date.now() + 20_000;
    while (!(await cond())) { if (Date.now() > end) throw new Error(`timed out waiting for ${what}`); await page.waitForTimeout(100); }
  };
  await until('the dialog\'s proposal', async () => (await input.inputValue()).includes('/'));
  await page.waitForTimeout(500);
  await until('the typed path', async () => { await input.fill(target); await page.waitForTimeout(300); return await input.inputValue() === target; });
  await page.keyboard.press('Enter');
}

/** Unlocks as a user would: click the status-bar lock (the worker may still be starting), type the passphrase. */
export async function unlockFromStatusBar(page, passphrase) {
  await page.locator('.statusbar-item', { hasText: 'NoteSeal: Locked' }).click({ timeout: 60_000 });
  await answerQuickInput(page, passphrase);
  await page.locator('.statusbar-item', { hasText: 'NoteSeal: Unlocked' }).waitFor();
}

/**
 * Waits for a notification whose text matches `re` and returns its text. The workbench in automation
 * mode sends notifications straight to the notification center (no toasts), so look there; then clear
 * the center so that a later call cannot match an old message.
 */
export async function notification(page, re, timeout = 15_000) {
  // The center can close before the notification arrives (an editor opening takes the focus): open it again
  // while waiting, rather than waiting on a closed one (sopsFiles' "PGP-only" case once waited 30 s so).
  const item = page.locator('.notifications-center .notification-list-item', { hasText: re }).first();
  for (const end = Date.now() + timeout; ;) {
    if (!(await page.locator('.notifications-center.visible').count())) await runCommand(page, 'Notifications: Show Notifications');
    try {
      await item.waitFor({ timeout: Math.max(1, Math.min(3_000, end - Date.now())) });
      break;
    } catch (e) {
      if (Date.now() >= end) throw e;
    }
  }
  const text = (await item.innerText()).replace(/\s+/g, ' ').trim();
  await runCommand(page, 'Notifications: Clear All Notifications');
  return text;
}

/**
 * Waits until the web workbench has stored its open editors (the editor part's memento in IndexedDB, written
 * every few seconds by BrowserStorageService's flush, not reliably at a reload) holding every one of `names`,
 * or, `present: false`, none of them: a page reload sooner restores the editors of an older state.
 */
export async function editorStateStored(page, names, { present = true, timeout = 30_000 } = {}) {
  const stored = () => page.evaluate(async () => {
    const idb = globalThis.indexedDB;
    const values = [];
    for (const { name } of await idb.databases()) {
      if (!name?.startsWith('vscode-web-state-db')) continue;
      values.push(await new Promise(resolve => {
        const open = idb.open(name);
        open.onerror = () => resolve('');
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('ItemTable')) { db.close(); resolve(''); return; }
          // The editor part's memento (its groups and their editors), not the history of recent editors.
          const get = db.transaction('ItemTable').objectStore('ItemTable').get('memento/workbench.parts.editor');
          get.onsuccess = () => { db.close(); resolve(String(get.result ?? '')); };
          get.onerror = () => { db.close(); resolve(''); };
        };
      }));
    }
    return values;
  }).catch(() => []);
  const holds = values => values.some(v => names.every(n => v.includes(n)));
  const lacks = values => values.every(v => names.every(n => !v.includes(n)));
  const end = Date.now() + timeout;
  for (;;) {
    const values = await stored();
    if (present ? holds(values) : lacks(values)) return;
    if (Date.now() > end) throw new Error(`the workbench's stored editors did not ${present ? 'come to hold' : 'drop'} ${names.join(', ')}`);
    await page.waitForTimeout(250);
  }
}

export async function screenshot(page, name) {
  fs.mkdirSync(artifactsDir, { recursive: true });
  const file = path.join(artifactsDir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/**
 * The `noteseal` CLI on `keyfile`, as a user's script would run it (fast test KDF). The passphrase goes
 * through a short-lived file, as NOTESEAL_PASSPHRASE_FILE wants. Returns stdout.
 */
export function noteseal(keyfile, passphrase, ...args) {
  const passFile = path.join(path.dirname(keyfile), `.pass-${process.pid}-${Date.now()}`);
  fs.writeFileSync(passFile, passphrase, { mode: 0o600 });
  try {
    return execFileSync(process.execPath, [path.join(projectRoot, 'dist/cli.js'), ...args, '--keyfile', keyfile],
      { env: { ...process.env, NOTESEAL_PASSPHRASE_FILE: passFile, NOTESEAL_TEST_FAST_KDF: '1' }, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  } finally { fs.rmSync(passFile, { force: true }); }
}

/** The text of every NoteSeal log file a workbench wrote below `stateDir` (old and new windows). */
export function noteSealLogs(stateDir) {
  return fs.readdirSync(stateDir, { recursive: true }).map(String).filter(f => /NoteSeal\.log$/i.test(f))
    .map(f => { try { return fs.readFileSync(path.join(stateDir, f), 'utf8'); } catch { return ''; } }).join('\n');
}

/** The pid of the worker serving `keyfile`: the process running this checkout's worker bundle with it in its environment; 0 if none. */
export function workerPidOf(keyfile) {
  const bundle = path.join(projectRoot, 'dist', 'worker.js');
  for (const pid of fs.readdirSync('/proc').filter(n => /^\d+$/.test(n))) {
    try {
      if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(bundle)) continue;
      if (fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`NOTESEAL_KEYFILE=${keyfile}`)) return Number(pid);
    } catch { /* gone meanwhile */ }
  }
  return 0;
}
