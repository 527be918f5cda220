// UI: a new user sets up NoteSeal, locks and unlocks from the status bar, opens an encrypted note from the
// Explorer and edits it; then the leak test: nothing typed into the note may exist anywhere on disk.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { answerConflict, conflictSealedAndReverted, waitUntil } from './leakScenarios.mjs';
import { searchForCanary } from './leakSearch.mjs';
import { answerQuickInput, explorerRow, noteseal, openWorkbench, screenshot } from './workbench.mjs';

const PASSPHRASE = 'ui test passphrase, long enough';
const startedAt = Date.now() - 1000;

describe('editing encrypted notes in the workbench', () => {
  let wb, page;
  /** The noteseal CLI on the same keyfile, as a user's script (or a git pull) would change files. */
  const cli = (...args) => noteseal(wb.keyfile, PASSPHRASE, ...args);
  const encryptWithCli = (text, target, ...flags) => {
    const plain = path.join(wb.stateDir, 'plain-input');
    fs.writeFileSync(plain, text);
    try { cli('encrypt', plain, '-o', target, ...flags); } finally { fs.rmSync(plain); }
  };
  const statusItem = text => page.locator('.statusbar-item', { hasText: text });
  const quickInput = () => page.locator('.quick-input-widget input');
  before(async () => {
    wb = await openWorkbench();
    page = wb.page;
    fs.mkdirSync(path.join(wb.folder, 'notes'), { recursive: true });
  });
  after(async () => { await wb?.close(); });

  it('first run: the status bar offers setup; a weak passphrase is refused; the recovery key is shown once', async () => {
    await statusItem('NoteSeal: Set Up').click({ timeout: 60_000 });
    await quickInput().waitFor({ state: 'visible' });
    await quickInput().fill('short');
    await page.locator('.quick-input-message', { hasText: /at least 12 characters/ }).waitFor({ timeout: 5000 });
    await answerQuickInput(page, PASSPHRASE);
    await page.locator('.quick-input-title', { hasText: 'repeat the passphrase' }).waitFor();
    await quickInput().fill(PASSPHRASE + 'x');
    await page.locator('.quick-input-message', { hasText: /do not match/ }).waitFor({ timeout: 5000 });
    await answerQuickInput(page, PASSPHRASE);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Ask for the passphrase' }).click();
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 30_000 });
    const text = await dialog.innerText();
    assert.match(text, /recovery key/i);
    assert.match(text, /([0-9A-Z]{4,5}[- ]){5,}/, 'the recovery key is shown in typable groups');
    await screenshot(page, 'editor-recovery-key');
    await dialog.locator('.monaco-button', { hasText: 'I Have Saved It' }).click();
    await statusItem('NoteSeal: Unlocked').waitFor({ timeout: 10_000 });
    assert.ok(fs.existsSync(wb.keyfile), 'the keyfile was created');
    assert.ok(!fs.readFileSync(wb.keyfile, 'utf8').includes(text.match(/([0-9A-Z]{4,5}[- ]){5,}[0-9A-Z]{4,5}/)[0]), 'the keyfile does not hold the recovery key');
  });

  it('locks and unlocks by clicking the status bar; a wrong passphrase is said so', async () => {
    await statusItem('NoteSeal: Unlocked').click();
    await statusItem('NoteSeal: Locked').waitFor({ timeout: 10_000 });
    await statusItem('NoteSeal: Locked').click();
    await answerQuickInput(page, 'wrong passphrase entirely');
    await page.locator('.quick-input-message', { hasText: 'Wrong passphrase' }).waitFor({ timeout: 10_000 });
    await answerQuickInput(page, PASSPHRASE);
    await statusItem('NoteSeal: Unlocked').waitFor({ timeout: 10_000 });
  });

  it('opens a note from the Explorer in one decrypted Markdown editor', async () => {
    encryptWithCli('# Plan\n\nFirst line.\n', path.join(wb.folder, 'notes', 'plan.md.enc'));
    await explorerRow(page, 'notes').click();
    await explorerRow(page, 'plan.md.enc').click();
    await page.locator('.monaco-editor .view-lines', { hasText: 'First line.' }).waitFor({ timeout: 20_000 });
    const tabs = (await page.locator('.tabs-container .tab').allInnerTexts()).map(t => t.replace(/\s+/g, ''));
    assert.equal(tabs.length, 1, `one tab: ${tabs.join(', ')}`);
    assert.match(tabs[0], /plan\.md/);
    assert.doesNotMatch(tabs[0], /\.enc/);
    assert.match(await page.locator('[id="status.editor.mode"]').innerText(), /Markdown/);
    await screenshot(page, 'editor-open-from-explorer');
  });

  it('a file changed on disk under a dirty editor: mine is sealed and theirs shown before any backup; Keep Mine saves mine over it', async () => {
    // Issue 22 §2: VS Code refuses the save (the file is newer); NoteSeal seals the editor's text into a recovery
    // copy and reverts to theirs before VS Code's backup delay, then offers Compare / Keep Mine / Keep Theirs
    // (leakScenarios.mjs; each button: leakRecovery.test.mjs).
    const file = path.join(wb.folder, 'notes', 'plan.md.enc');
    const theirs = path.join(wb.stateDir, 'theirs.enc');
    encryptWithCli('theirs\n', theirs);               // sealed beforehand, so that it lands at once
    let attempt = 0;
    await conflictSealedAndReverted({
      page, stateDir: wb.stateDir, shot: 'editor-conflict',
      dirtyTab: page.locator('.tabs-container .tab.dirty', { hasText: /plan\.md/ }),
      type: async () => {
        await page.locator('.monaco-editor .view-lines').first().click();
        await page.keyboard.press('Control+End');
        await page.keyboard.type(`mine${++attempt}`);
      },
      landTheirs: () => fs.copyFileSync(theirs, file), // well before the editor's save-soon (250 ms)
      theirsOnDisk: async () => cli('decrypt', file) === 'theirs\n',
    });
    assert.equal(cli('decrypt', file), 'theirs\n', 'their version is on disk, not overwritten');
    await page.locator('.monaco-editor .view-lines', { hasText: 'theirs' }).first().waitFor({ timeout: 10_000 });
    await answerConflict(page, 'Keep Mine');
    await waitUntil('mine to be saved over theirs', async () => new RegExp(`mine${attempt}`).test(cli('decrypt', file)), 20_000);
    assert.match(cli('decrypt', file), /First line\./, 'mine is the whole note as I had it');
  });

  it('leaves no trace of typed text anywhere on disk (hot-exit backups, browser storage, logs, temp, workspace)', async () => {
    const canary = `CANARY${randomBytes(10).toString('hex')}`;
    const editor = page.locator('.monaco-editor .view-lines').first();
    await editor.click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type(`\nfirst ${canary}`);
    await page.waitForTimeout(3000);                  // past VS Code's backup delay (1 s; 2 s with auto-save)
    await page.keyboard.press('Control+S');
    await screenshot(page, 'editor-before-shutdown');
    await page.keyboard.type(` again ${canary}`);     // and leave the editor dirty…
    await wb.closeWindow();                           // …while the window shuts down
    await wb.host.stop();
    const roots = [
      { dir: wb.stateDir },                            // user data (Backups, logs, globalStorage, workspaceStorage), chromium profile, server temp
      { dir: wb.folder },                              // the workspace
      { dir: os.tmpdir(), since: startedAt }, { dir: '/var/tmp', since: startedAt }, { dir: '/dev/shm', since: startedAt },
    ];
    const { scanned, hits } = searchForCanary(canary, roots);
    assert.ok(scanned > 50, `searched ${scanned} files`);
    assert.deepEqual(hits, [], 'the canary is nowhere on disk');
    // The note itself was saved, encrypted.
    const enc = fs.readFileSync(path.join(wb.folder, 'notes', 'plan.md.enc'));
    assert.ok(enc.length > 100);
  });

  it('the leak search finds a planted canary in each form (so a clean result means something)', () => {
    const canary = `CANARY${randomBytes(10).toString('hex')}`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-leakcheck-'));
    try {
      fs.mkdirSync(path.join(dir, 'IndexedDB', 'deep'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'IndexedDB', 'deep', 'raw.ldb'), Buffer.concat([randomBytes(100), Buffer.from(canary), randomBytes(100)]));
      fs.writeFileSync(path.join(dir, 'utf16.log'), Buffer.from(`x${canary}y`, 'utf16le'));
      fs.writeFileSync(path.join(dir, 'b64.json'), JSON.stringify({ v: Buffer.from(`ab${canary}cd`).toString('base64') }));
      const { hits } = searchForCanary(canary, [{ dir }]);
      assert.ok(hits.some(h => h.startsWith('raw:') && h.includes('raw.ldb')));
      assert.ok(hits.some(h => h.startsWith('utf16le:')));
      assert.ok(hits.some(h => h.startsWith('base64@')));
    } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  });
});
