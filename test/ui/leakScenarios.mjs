// The steps the UI leak scenarios share, for any kind of file the `noteseal:` view shows (a dotenvx `.env`
// uses them; the `.enc` and age scenarios in leakRecovery.test.mjs and ageFiles.test.mjs are the same shape):
// a conflict sealed and reverted before VS Code's backup delay, the sealed recovery copy offered back on unlock, and the
// places a canary is searched for afterwards (including every git object, which raw bytes would hide: git
// stores them compressed).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../host/codeServer.mjs';
import { searchForCanary, watchTree } from './leakSearch.mjs';
import { noteSealLogs, runCommand, screenshot } from './workbench.mjs';

const CLI = path.join(projectRoot, 'dist/cli.js');

/** Waits on a condition (never a fixed sleep: the host is slow and shared); rejects naming `what`. */
export async function waitUntil(what, cond, ms = 20_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 100));
  }
}

/** The sealed recovery copies NoteSeal keeps beside `keyfile` (`<keyfile>.recovery/<32 hex>.enc`, renamed from keyfile.json). */
export function sealedCopies(keyfile) {
  const dir = keyfile.replace(/\.json$/, '') + '.recovery';
  try { return fs.readdirSync(dir).filter(n => /^[0-9a-f]{32}\.enc$/.test(n)); } catch { return []; }
}

/** NoteSeal's notification when a note changed on disk under its editor (issue 22 §2). */
export const CHANGED_ON_DISK = 'changed on disk while you were editing';

/** Whether a watched path is a file of VS Code's backups of `noteseal:` documents (Backups/<window>/noteseal/<hash>). */
const isNoteBackup = n => { const parts = n.split(path.sep); const i = parts.indexOf('noteseal'); return i >= 0 && i < parts.length - 1; };

/**
 * Makes an edit that cannot be saved (issue 22 §2): `type()` edits the open file, `landTheirs()` replaces it on disk
 * at once (a git pull), before save-soon (250 ms) saves it, and `keepTyping()` (real keystrokes) goes on. VS Code
 * refuses that save (the file changed on disk); NoteSeal seals the editor's text into a recovery copy and reverts
 * the editor to theirs before VS Code's backup delay (1 s after the last change). Asserts, with a file watcher on
 * VS Code's backup folders, that no backup of a `noteseal:` document is ever created, to 3 s after the last key
 * (and that NoteSeal's sweeper destroyed none: its log); waits until the editor is clean with theirs on disk
 * (`theirsOnDisk()`) and NoteSeal's notification offers Compare, Keep Mine and Keep Theirs. On a loaded machine the
 * save can win the race (the editor then just shows theirs, no notification): tried again, up to 5 times, saying so.
 */
export async function conflictSealedAndReverted({ page, stateDir, dirtyTab, type, landTheirs, keepTyping = async () => {}, theirsOnDisk, shot }) {
  const backups = watchTree(path.join(stateDir, 'user-data', 'User', 'Backups'));
  const sweptBefore = swept(stateDir);
  try {
    for (let attempt = 1; ; attempt++) {
      await type();
      landTheirs();
      await keepTyping();
      const typedAt = Date.now();
      let offered = await waitUntil('NoteSeal to seal the text and revert the editor to theirs', async () =>
        await dirtyTab.count() === 0 && await theirsOnDisk(), 15_000).then(() => true, e => e);
      if (offered === true) offered = await openedConflictNotification(page).then(() => true, e => e);
      if (offered === true) {
        // Past VS Code's backup delay (1 s after the last change) with a margin: still no backup was created.
        await waitUntil('3 s after the last key', () => Date.now() - typedAt > 3000, 10_000);
        assert.deepEqual([...backups.seen].filter(isNoteBackup), [], "VS Code created no backup of the note");
        assert.equal(swept(stateDir), sweptBefore, 'NoteSeal destroyed no backup of the note (none was written)');
        assert.equal(await dirtyTab.count(), 0, 'the editor is clean');
        break;
      }
      if (await page.locator('.notifications-center.visible').count()) await page.keyboard.press('Escape');
      const said = noteSealLogs(stateDir).split('\n').filter(l => /a save of a note failed|changed on disk/.test(l)).slice(-3).join(' | ');
      console.log(`# attempt ${attempt}: no conflict (dirty tabs: ${await dirtyTab.count()}, theirs on disk: ${await theirsOnDisk()}; NoteSeal's log: ${said})`);
      if (attempt === 5) { await screenshot(page, `${shot}-no-conflict`); throw offered; }
    }
    await screenshot(page, shot);
    assert.deepEqual((await conflictButtons(page)).sort(), ['Compare', 'Keep Mine', 'Keep Theirs'], 'the notification offers Compare, Keep Mine, Keep Theirs');
    await page.keyboard.press('Escape'); // closes the notification center
  } finally { backups.close(); }
}

/** How many backups NoteSeal's sweeper has destroyed in this window (its log). */
function swept(stateDir) {
  return (noteSealLogs(stateDir).match(/destroyed a hot-exit backup of an encrypted note/g) ?? []).length;
}

/**
 * NoteSeal's changed-on-disk notification(s) in the notification center (the workbench in automation mode shows
 * no toasts: workbench.mjs `notification`), the center opened first.
 */
function conflictNotification(page) {
  return page.locator('.notifications-center .notification-list-item', { hasText: CHANGED_ON_DISK });
}

async function openedConflictNotification(page) {
  const item = conflictNotification(page).first();
  // Opened again until it shows the notification: the command palette can lose the focus to NoteSeal's revert.
  await waitUntil("NoteSeal's changed-on-disk notification", async () => {
    if (!(await page.locator('.notifications-center.visible').count())) await runCommand(page, 'Notifications: Show Notifications').catch(() => {});
    return item.isVisible();
  }, 15_000);
  // notificationsViewer.ts renders a notification's buttons only while it is expanded (chevron "notifications-expand").
  if (!(await item.locator('.monaco-button').count())) await item.locator('.codicon-notifications-expand').click({ timeout: 2_000 }).catch(() => {});
  await item.locator('.monaco-button').first().waitFor({ timeout: 5_000 });
  return item;
}

/** The buttons of NoteSeal's changed-on-disk notification. */
export async function conflictButtons(page) {
  const item = await openedConflictNotification(page);
  return (await item.locator('.monaco-button').allInnerTexts()).map(t => t.trim());
}

/** Answers NoteSeal's changed-on-disk notification with `button` (Compare, Keep Mine, Keep Theirs). */
export async function answerConflict(page, button) {
  const item = await openedConflictNotification(page);
  await item.locator('.monaco-button', { hasText: new RegExp(`^\\s*${button}\\s*$`) }).click();
  await page.keyboard.press('Escape'); // closes the notification center
}

/**
 * After an unlock: the text is saved already (`saved()`, sync or async), or offered back from its sealed copy: restore it, then
 * wait until it is saved. Several notifications name the sealed copy (the lock's own warning has no button, and a
 * late save can still land after the unlock): the one answered is the one with a Restore button, expanded first
 * if VS Code shows it collapsed (a collapsed notification has no buttons in the DOM), and `saved()` is checked
 * all along (a CI run clicked the button-less warning and waited 30 s for a Restore that was not in it).
 */
export async function restoreSealedCopy(page, saved, shot) {
  let opened = false;
  const end = Date.now() + 30_000;
  while (!(await saved())) {
    if (Date.now() > end) {
      await screenshot(page, `${shot}-no-offer`);
      throw new Error('after the unlock the text was neither saved nor offered back from a sealed recovery copy within 30 s');
    }
    if (!opened) { await runCommand(page, 'Notifications: Show Notifications'); opened = true; }
    const offers = page.locator('.notifications-center .notification-list-item', { hasText: 'sealed recovery' });
    const restore = offers.locator('.monaco-button', { hasText: /^\s*Restore\s*$/ });
    if (await restore.count()) {
      await screenshot(page, shot);
      await restore.first().click();
      break;
    }
    // notificationsViewer.ts renders a notification's buttons only while it is expanded (chevron "notifications-expand").
    const expand = offers.locator('.codicon-notifications-expand');
    if (await expand.count()) await expand.first().click({ timeout: 2_000 }).catch(() => {});
    await page.waitForTimeout(250);
  }
  if (opened) await page.keyboard.press('Escape'); // closes the notification center; nothing else is expected to be open
  await waitUntil('the recovered text to be saved into the file', saved, 30_000)
    .catch(async e => { await screenshot(page, `${shot}-not-saved`); throw e; });
}

/**
 * Where a leak would land, once the window is closed and the server stopped: the workbench's state (user data
 * with Backups and Local History, logs, the Chromium profile, the server's temp), the workspace, the keyfile's
 * folder, and the shared temp folders (files changed since `since`).
 */
export function leakRoots(wb, { since, also = [] }) {
  return [
    { dir: wb.stateDir }, { dir: wb.folder }, ...also.map(dir => ({ dir })),
    { dir: os.tmpdir(), since }, { dir: '/var/tmp', since }, { dir: '/dev/shm', since },
  ];
}

/** Whether any object of the git repository `repo` (loose or packed, decompressed by git itself) holds `canary`. */
export function gitObjectsHold(repo, canary) {
  return execFileSync('git', ['cat-file', '--batch-all-objects', '--batch'], { cwd: repo, maxBuffer: 256 * 1024 * 1024 }).includes(canary);
}

/**
 * The environment git runs in for a workspace repository whose drivers are NoteSeal's built CLI (on PATH as
 * `noteseal`, in `dir`/bin), with the passphrase given on purpose (a file) and no agent, as a team member's would.
 */
export function driverGitEnv(dir, keyfile, passphrase) {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, 'noteseal'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'pass'), passphrase, { mode: 0o600 });
  return { ...process.env, PATH: `${bin}:${process.env.PATH}`, NOTESEAL_KEYFILE: keyfile, NOTESEAL_PASSPHRASE_FILE: path.join(dir, 'pass'),
    NOTESEAL_TEST_FAST_KDF: '1', NOTESEAL_AGENT_SOCK: path.join(dir, 'no-agent.sock'), GIT_CONFIG_NOSYSTEM: '1', HOME: dir,
    GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.invalid' };
}

/** Makes `folder` a repository set up for NoteSeal's drivers (`noteseal git setup`), as a team's would be, its files committed. */
export function initDriverRepo(folder, env) {
  const git = (...args) => execFileSync('git', args, { cwd: folder, env, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('config', 'core.autocrlf', 'false');
  execFileSync(process.execPath, [CLI, 'git', 'setup'], { cwd: folder, env, stdio: 'ignore' });
  git('add', '.');
  git('commit', '-qm', 'start');
}

/**
 * Once the window is closed and the server stopped: no canary in `roots` (leakRoots) nor in any git object of
 * `repos`. The planted controls first: the same searches find a canary where one is (UTF-16 in user data; in a
 * git object of the first repository).
 */
export function assertNoTrace(wb, roots, repos, canaries) {
  const planted = `CANARY${randomBytes(10).toString('hex')}`;
  const plantedAt = path.join(wb.stateDir, 'user-data', 'User', 'History', 'planted-control');
  fs.mkdirSync(path.dirname(plantedAt), { recursive: true });
  fs.writeFileSync(plantedAt, Buffer.from(`x${planted}y`, 'utf16le'));
  assert.equal(searchForCanary(planted, roots).hits.length, 1, 'the disk search finds a planted canary');
  fs.rmSync(plantedAt);
  execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: repos[0], input: `x ${planted} y\n` });
  assert.ok(gitObjectsHold(repos[0], planted), 'the git object search finds a planted canary');
  for (const c of canaries) {
    const { scanned, hits } = searchForCanary(c, roots);
    assert.ok(scanned > 50, `searched ${scanned} files`);
    assert.deepEqual(hits, [], 'the canary is nowhere on disk');
    for (const repo of repos) assert.ok(!gitObjectsHold(repo, c), 'nor in any git object');
  }
}
