// UI: NoteSeal: Search Encrypted Notes in the real workbench (issue 16). The view opens from the palette, a
// query typed into it finds matches in encrypted notes live, the toggles narrow it, a click opens the note at
// the match with the match selected, locking clears the results, and afterwards the decrypted lines the view
// showed are nowhere on disk (a planted canary is found).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { searchForCanary } from './leakSearch.mjs';
import { noteseal, openWorkbench, runCommand, screenshot, unlockFromStatusBar } from './workbench.mjs';

const PASSPHRASE = 'search ui test passphrase';
const startedAt = Date.now() - 1000;
const canary = `SEARCHCANARY${randomBytes(10).toString('hex')}`;

describe('searching encrypted notes in the workbench', () => {
  let wb, page, keyDir;
  const statusItem = text => page.locator('.statusbar-item', { hasText: text });
  const view = () => page.frameLocator('iframe.webview').frameLocator('iframe#active-frame');

  before(async () => {
    keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-ui-search-'));
    const keyfile = path.join(keyDir, 'keyfile.json');
    noteseal(keyfile, PASSPHRASE, 'init');
    const seal = (folder, rel, text) => {
      const plain = path.join(keyDir, 'plain');
      fs.mkdirSync(path.dirname(path.join(folder, rel)), { recursive: true });
      fs.writeFileSync(plain, text);
      noteseal(keyfile, PASSPHRASE, 'encrypt', plain, '-o', path.join(folder, rel + '.enc'));
      fs.rmSync(plain);
    };
    wb = await openWorkbench({
      keyfile,
      prepare: folder => {
        seal(folder, 'notes/plan.md', `# Plan\n\nThe budget is final: ${canary}\nReview on Friday.\n`);
        seal(folder, 'notes/todo.txt', 'call the bank\nBudget meeting at ten\n');
        seal(folder, 'archive/old.md', 'an old budget, 2019\n');
      },
    });
    page = wb.page;
    await unlockFromStatusBar(page, PASSPHRASE);
  });
  after(async () => {
    await wb?.close();
    fs.rmSync(keyDir, { recursive: true, force: true });
  });

  it('the command opens the view; typing searches live; results are grouped by file with the matches highlighted', async () => {
    await runCommand(page, 'NoteSeal: Search Encrypted Notes');
    await view().locator('#pattern').waitFor({ timeout: 30_000 });
    await view().locator('#pattern').click();
    await page.keyboard.type('budget', { delay: 40 }); // as a user types: one search after the debounce
    await view().locator('#message', { hasText: /3 results in 3 files/ }).waitFor({ timeout: 20_000 });
    const names = await view().locator('.file-head .name').allInnerTexts();
    assert.deepEqual(names.sort(), ['old.md', 'plan.md', 'todo.txt']);
    const marks = await view().locator('mark').allInnerTexts();
    assert.deepEqual(marks.map(m => m.toLowerCase()), ['budget', 'budget', 'budget']);
    assert.ok(await view().locator('.line.context', { hasText: 'Review on Friday.' }).count() === 1, 'a neighbour line is shown');
    await screenshot(page, 'search-results');

    await view().locator('#matchCase').click();
    await view().locator('#message', { hasText: /2 results in 2 files/ }).waitFor({ timeout: 20_000 });
    assert.deepEqual((await view().locator('.file-head .name').allInnerTexts()).sort(), ['old.md', 'plan.md'], 'match case leaves out "Budget"');
    await view().locator('#matchCase').click();
    await view().locator('#exclude').fill('archive');
    await view().locator('#message', { hasText: /2 results in 2 files/ }).waitFor({ timeout: 20_000 });
    await view().locator('#isRegex').click();
    await view().locator('#pattern').fill('bud.et is (final|open)');
    await view().locator('#message', { hasText: /1 result in 1 file/ }).waitFor({ timeout: 20_000 });
    assert.equal(await view().locator('mark').innerText(), 'budget is final');
    await screenshot(page, 'search-regex');
  });

  it('a click opens the decrypted note at the match, with the match selected', async () => {
    await view().locator('.line.match', { hasText: 'budget is final' }).click();
    await page.locator('.tabs-container .tab', { hasText: 'plan.md' }).waitFor({ timeout: 20_000 });
    await page.locator('.monaco-editor .view-lines', { hasText: 'Review on Friday.' }).waitFor({ timeout: 20_000 });
    const selection = page.locator('[id="status.editor.selection"]');
    await selection.filter({ hasText: /Ln 3, Col 20 \(15 selected\)/ }).waitFor({ timeout: 10_000 }).catch(async e => {
      await screenshot(page, 'search-opened-failed');
      console.error(`status bar selection: ${await selection.innerText().catch(() => '?')}`);
      throw e;
    });
    assert.doesNotMatch(await page.locator('.tabs-container .tab.active').innerText(), /\.enc/);
    await screenshot(page, 'search-opened');
  });

  it('locking clears the results and says how to search again', async () => {
    await statusItem('NoteSeal: Unlocked').click();
    await statusItem('NoteSeal: Locked').waitFor({ timeout: 20_000 });
    await view().locator('#message', { hasText: /locked/ }).waitFor({ timeout: 20_000 });
    assert.equal(await view().locator('.file').count(), 0, 'no decrypted line stays in the view');
    assert.equal(await view().locator('#unlock').isVisible(), true);
    await screenshot(page, 'search-locked');
  });

  it('nothing the search showed is on disk (server user data, browser profile, workspace, temp); a planted canary is found', async () => {
    await wb.closeWindow();
    await wb.host.stop();
    const roots = [{ dir: wb.stateDir }, { dir: wb.folder }, { dir: os.tmpdir(), since: startedAt }, { dir: '/var/tmp', since: startedAt }, { dir: '/dev/shm', since: startedAt }];
    const planted = path.join(wb.stateDir, 'chromium-profile', 'planted-control');
    fs.writeFileSync(planted, `noise ${canary} noise`);
    try { assert.ok(searchForCanary(canary, roots).hits.length > 0, 'the planted canary is found'); } finally { fs.rmSync(planted); }
    const { scanned, hits } = searchForCanary(canary, roots);
    assert.ok(scanned > 50, `searched ${scanned} files`);
    assert.deepEqual(hits, [], 'the decrypted line is nowhere on disk');
  });
});
