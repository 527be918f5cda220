// UI: plaintext must not land in `.enc` files made outside NoteSeal (issue 9, item 3): Untitled → Save As
// `notes/x.md.enc` through the web workbench's save dialog, and Explorer → New File `secret.md.enc`. Each
// ends in a sealed file and the decrypted editor; Save As from a decrypted note to `y.md.enc` and an Explorer
// rename of an open note (item 7) keep one file under the right name; then the disk is searched for what was typed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { searchForCanary } from './leakSearch.mjs';
import { answerSaveDialog, explorerRow, noteseal, openWorkbench, runCommand, screenshot, unlockFromStatusBar } from './workbench.mjs';

const PASSPHRASE = 'enc files test passphrase 42';
const startedAt = Date.now() - 1000;
const MAGIC = Buffer.from([0x89, 0x4e, 0x53, 0x45, 0x41, 0x4c, 0x0d, 0x0a]);

describe('.enc files made outside NoteSeal, in the workbench', () => {
  let wb, page, keyfile;
  const canaries = [];
  const cli = (...args) => noteseal(keyfile, PASSPHRASE, ...args);
  const row = name => explorerRow(page, name);
  const tabTitles = async () => (await page.locator('.tabs-container .tab').allInnerTexts()).map(t => t.replace(/\s+/g, ''));
  const sealed = file => fs.existsSync(file) && fs.readFileSync(file).subarray(0, 8).equals(MAGIC);
  const saveDialog = target => answerSaveDialog(page, target);
  async function waitFor(what, cond, ms = 20_000) {
    const end = Date.now() + ms;
    while (!(await cond())) { if (Date.now() > end) throw new Error(`timed out waiting for ${what}`); await page.waitForTimeout(100); }
  }

  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-encfiles-'));
    keyfile = path.join(dir, 'keyfile.json');
    cli('init');
    wb = await openWorkbench({ keyfile, prepare: folder => fs.mkdirSync(path.join(folder, 'notes'), { recursive: true }) });
    page = wb.page;
    await unlockFromStatusBar(page, PASSPHRASE);
  });
  after(async () => {
    await wb?.close();
    fs.rmSync(path.dirname(keyfile), { recursive: true, force: true });
  });

  it('Untitled → Save As notes/x.md.enc writes a sealed NoteSeal file and opens it decrypted', async () => {
    const canary = `CANARY${randomBytes(10).toString('hex')}`;
    canaries.push(canary);
    await runCommand(page, 'File: New Untitled Text File');
    await page.locator('.tabs-container .tab', { hasText: 'Untitled' }).waitFor();
    await page.waitForTimeout(500);                   // the new editor has the focus (its hint overlay takes clicks)
    await page.keyboard.type(`typed in Untitled ${canary}`);
    await runCommand(page, 'File: Save As...');
    const target = path.join(wb.folder, 'notes', 'x.md.enc');
    await saveDialog(target);
    await waitFor('the sealed file', () => sealed(target));
    assert.equal(cli('decrypt', target), `typed in Untitled ${canary}`);
    await page.locator('.monaco-editor .view-lines', { hasText: canary }).waitFor({ timeout: 20_000 });
    await waitFor('one decrypted tab', async () => { const t = await tabTitles(); return t.length === 1 && /^x\.md/.test(t[0]) && !/\.enc/.test(t[0]); });
    await screenshot(page, 'encfiles-save-as-done');
  });

  it('Save As from a decrypted note to notes/y.md.enc lands in y.md.enc (not y.md.enc.enc), opened decrypted', async () => {
    await runCommand(page, 'File: Save As...');
    const target = path.join(wb.folder, 'notes', 'y.md.enc');
    await saveDialog(target);
    await waitFor('y.md.enc', () => sealed(target) && !fs.existsSync(`${target}.enc`));
    assert.match(cli('decrypt', target), /^typed in Untitled CANARY/);
    await waitFor('the y.md tab', async () => (await tabTitles()).some(t => /^y\.md/.test(t) && !/\.enc/.test(t)));
    await page.waitForTimeout(1000);
    assert.ok(!fs.existsSync(`${target}.enc`), 'no y.md.enc.enc');
    await screenshot(page, 'encfiles-save-as-from-note');
  });

  it('Untitled → Save As notes/u.txt.age writes a real age file (never the typed text) and opens it decrypted', async () => {
    const canary = `CANARY${randomBytes(10).toString('hex')}`;
    canaries.push(canary);
    await runCommand(page, 'View: Close All Editors');
    await runCommand(page, 'File: New Untitled Text File');
    await page.locator('.tabs-container .tab', { hasText: 'Untitled' }).waitFor();
    await page.waitForTimeout(500);                   // the new editor has the focus (its hint overlay takes clicks)
    await page.keyboard.type(`typed in Untitled for age ${canary}`);
    await runCommand(page, 'File: Save As...');
    const target = path.join(wb.folder, 'notes', 'u.txt.age');
    await saveDialog(target);
    const isAge = () => fs.existsSync(target) && fs.readFileSync(target).subarray(0, 21).toString('latin1') === 'age-encryption.org/v1';
    await waitFor('the age file', isAge);
    assert.ok(!fs.readFileSync(target).includes(canary), 'the typed text is not in the age file');
    assert.equal(cli('decrypt', target), `typed in Untitled for age ${canary}`);
    await waitFor('one decrypted tab', async () => { const t = await tabTitles(); return t.length === 1 && /^u\.txt/.test(t[0]) && !/\.age/.test(t[0]); });
    await runCommand(page, 'View: Close All Editors');
    await screenshot(page, 'encfiles-save-as-age');
  });

  it('Explorer → New File notes/secret.md.enc opens an empty encrypted note; typed text is sealed', async () => {
    const canary = `CANARY${randomBytes(10).toString('hex')}`;
    canaries.push(canary);
    await runCommand(page, 'View: Close All Editors');
    await row('notes').click({ button: 'right' });
    await page.locator('.monaco-menu .action-label', { hasText: 'New File...' }).first().hover();
    await page.keyboard.press('Enter');
    const box = page.locator('.explorer-folders-view .monaco-inputbox input');
    await box.waitFor({ timeout: 10_000 });
    await box.fill('secret.md.enc');
    await page.keyboard.press('Enter');
    const file = path.join(wb.folder, 'notes', 'secret.md.enc');
    await waitFor('the decrypted editor', async () => (await tabTitles()).some(t => /^secret\.md/.test(t) && !/\.enc/.test(t)));
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.type(`new file ${canary}`);
    await waitFor('the sealed note', () => sealed(file) && cli('decrypt', file) === `new file ${canary}`);
    await screenshot(page, 'encfiles-new-file');
  });

  const contextMenu = async (name, item) => {
    await row(name).click({ button: 'right' });
    // The web workbench's context menu ignores a synthetic click; pointing at the item and pressing Enter works.
    await page.locator('.monaco-menu .action-label', { hasText: item }).first().hover();
    await page.keyboard.press('Enter');
  };

  it('renaming the open note in the Explorer moves its editor; typing does not recreate the old name', async () => {
    await contextMenu('secret.md.enc', 'Rename...');
    const box = page.locator('.explorer-folders-view .monaco-inputbox input');
    await box.waitFor({ timeout: 10_000 });
    await box.fill('renamed.md.enc');
    await page.keyboard.press('Enter');
    const notes = path.join(wb.folder, 'notes');
    await waitFor('the renamed tab', async () => { const t = await tabTitles(); return t.length === 1 && /^renamed\.md/.test(t[0]); });
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type(' more');
    await waitFor('the edit saved', () => /more$/.test(cli('decrypt', path.join(notes, 'renamed.md.enc'))));
    await page.waitForTimeout(1000);
    assert.ok(!fs.existsSync(path.join(notes, 'secret.md.enc')), 'the old name was not recreated');
    await screenshot(page, 'encfiles-renamed');
  });

  it('leaves no trace of the typed text anywhere on disk', async () => {
    await wb.closeWindow();
    await wb.host.stop();
    const roots = [{ dir: wb.stateDir }, { dir: wb.folder },
      { dir: os.tmpdir(), since: startedAt }, { dir: '/var/tmp', since: startedAt }, { dir: '/dev/shm', since: startedAt }];
    // Positive control: a canary planted where a leak would be (Local History) is found by the same search.
    const control = `CANARY${randomBytes(10).toString('hex')}`;
    const planted = path.join(wb.stateDir, 'planted-History', 'Ab12.enc');
    fs.mkdirSync(path.dirname(planted), { recursive: true });
    fs.writeFileSync(planted, `x${control}y`);
    assert.ok(searchForCanary(control, roots).hits.some(h => h.includes('planted-History')), 'the planted canary is found');
    fs.rmSync(path.dirname(planted), { recursive: true });
    for (const canary of canaries) {
      const { scanned, hits } = searchForCanary(canary, roots);
      assert.ok(scanned > 50, `searched ${scanned} files`);
      assert.deepEqual(hits, [], 'the canary is nowhere on disk');
    }
  });
});
