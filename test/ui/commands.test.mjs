// UI: the Explorer context menu and palette commands that create or convert encrypted files, driven as a
// user would (right-click, menu, modal buttons, input boxes), checked on disk with the CLI.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { answerQuickInput, explorerRow, noteseal, notification, openWorkbench, runCommand, screenshot, unlockFromStatusBar } from './workbench.mjs';

const PASSPHRASE = 'commands test passphrase 99';

describe('NoteSeal commands in the Explorer and the palette', () => {
  let wb, page, keyfile;
  const cli = (...args) => noteseal(keyfile, PASSPHRASE, ...args);
  const row = name => explorerRow(page, name);
  const contextMenu = async (name, item) => {
    await row(name).click({ button: 'right' });
    // The web workbench's context menu ignores a synthetic click; pointing at the item and pressing Enter works.
    await page.locator('.monaco-menu .action-label', { hasText: item }).first().hover();
    await page.keyboard.press('Enter');
  };
  const dialogButton = async label => {
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 15_000 });
    await dialog.locator('.monaco-button', { hasText: label }).click();
  };

  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-cmd-'));
    keyfile = path.join(dir, 'keyfile.json');
    cli('init');
    wb = await openWorkbench({ keyfile, prepare: folder => {
      fs.writeFileSync(path.join(folder, 'draft.md'), '# Draft\n\nplaintext before encryption\n');
      fs.mkdirSync(path.join(folder, 'old-notes', 'deeper'), { recursive: true });
      for (const n of ['a.md', 'b.txt', 'deeper/c.yaml']) fs.writeFileSync(path.join(folder, 'old-notes', n), `content of ${n}\n`);
    } });
    page = wb.page;
    await unlockFromStatusBar(page, PASSPHRASE);
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'draft.md' }).waitFor();
  });
  after(async () => {
    await wb?.close();
    fs.rmSync(path.dirname(keyfile), { recursive: true, force: true });
  });

  it('Encrypt File (Explorer): writes NAME.enc, deletes the plaintext only when asked, opens the decrypted note', async () => {
    await contextMenu('draft.md', 'Encrypt File');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 15_000 });
    assert.match(await dialog.innerText(), /does not scrub/);
    await dialogButton('Delete Plaintext');
    await page.locator('.tabs-container .tab', { hasText: 'draft.md' }).waitFor({ timeout: 15_000 });
    assert.ok(!fs.existsSync(path.join(wb.folder, 'draft.md')), 'the plaintext is gone');
    assert.equal(cli('decrypt', path.join(wb.folder, 'draft.md.enc')), '# Draft\n\nplaintext before encryption\n');
    await screenshot(page, 'commands-encrypt-file');
  });

  it('New Encrypted Note (palette): asks a name, creates NAME.enc, and what I type is saved encrypted', async () => {
    await runCommand(page, 'NoteSeal: New Encrypted Note');
    await answerQuickInput(page, 'idea.md');
    await page.locator('.tabs-container .tab', { hasText: 'idea.md' }).waitFor({ timeout: 15_000 });
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.type('a fresh idea');
    await page.waitForTimeout(1500);
    assert.equal(cli('decrypt', path.join(wb.folder, 'idea.md.enc')), 'a fresh idea');
  });

  it('Encrypt Folder (Explorer): encrypts every file below it with progress, keeping originals when asked', async () => {
    await contextMenu('old-notes', 'Encrypt Folder');
    await dialogButton('Encrypt, Keep Originals');
    const text = await notification(page, /NoteSeal encrypted \d+ file/);
    assert.match(text, /encrypted 3 file\(s\)/);
    for (const n of ['a.md', 'b.txt', 'deeper/c.yaml']) {
      assert.equal(cli('decrypt', path.join(wb.folder, 'old-notes', `${n}.enc`)), `content of ${n}\n`);
      assert.ok(fs.existsSync(path.join(wb.folder, 'old-notes', n)), `${n} kept`);
    }
  });

  it('Decrypt File… (Explorer): warns, asks where, and writes the plaintext only there', async () => {
    await contextMenu('idea.md.enc', 'Decrypt File');
    await dialogButton('Choose Where');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 15_000 });
    const target = path.join(wb.folder, 'exported-idea.md');
    // The save dialog proposes <folder>/idea.md with the name selected: type another name over it.
    await page.waitForTimeout(300);
    await page.keyboard.type('exported-idea', { delay: 10 });
    await page.waitForTimeout(500);
    assert.equal(await input.inputValue(), target);
    await page.keyboard.press('Enter');
    const said = await notification(page, /Plaintext written/);
    assert.ok(fs.existsSync(target), `written where I chose (${said})`);
    assert.equal(fs.readFileSync(target, 'utf8'), 'a fresh idea');
  });
});
