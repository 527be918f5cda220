// UI: dotenvx `.env` files (issue 27) in the workbench. The real dotenvx (@dotenvx/dotenvx, pinned) encrypts
// `.env.production`; its `.env.keys` is imported into NoteSeal (`noteseal identity import .env.keys --yes`:
// sealed, the plaintext file deleted). Opened from the Explorer, the file shows as its decrypted dotenv view;
// one value edited and saved changes that one line only and `dotenvx get` reads the new value; no writer is
// asked about; a plain `.env` opens as usual. The leak scenarios of `.enc` notes run for it too: a git merge
// of two branches' `.env.production` (NoteSeal's merge driver; a clean one and a conflicting one), a change on
// disk under the editor (sealed and reverted before VS Code's backup delay, no backup created) and then a lock,
// Restart Worker while typing (the text is sealed, never backed up, and comes back on unlock); a lock hides the text; and nothing typed is found on disk
// afterwards (user data, Backups, Local History, workspace, temp, every git object), with planted controls.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../host/codeServer.mjs';
import { assertNoTrace, conflictSealedAndReverted, driverGitEnv, initDriverRepo, leakRoots, restoreSealedCopy, sealedCopies } from './leakScenarios.mjs';
import { explorerRow, noteseal, openWorkbench, runCommand, screenshot, unlockFromStatusBar } from './workbench.mjs';

const PASSPHRASE = 'dotenvx files test passphrase 27';
const DOTENVX = path.join(projectRoot, 'node_modules', '@dotenvx', 'dotenvx', 'src', 'cli', 'dotenvx.js');
const startedAt = Date.now() - 1000;

describe('dotenvx files in the workbench', () => {
  let wb, page, dir, keyfile, privateKey, original, gitEnv;
  const canary = `CANARY${randomBytes(10).toString('hex')}`;
  const inOurs = `CANARY${randomBytes(10).toString('hex')}`;      // a value committed on our branch
  const inTheirs = `CANARY${randomBytes(10).toString('hex')}`;    // a value dotenvx set on their branch
  const atConflict = `CANARY${randomBytes(10).toString('hex')}`;
  const atRestart = `CANARY${randomBytes(10).toString('hex')}`;
  const canaries = () => [canary, inOurs, inTheirs, atConflict, atRestart];
  const cli = (...args) => noteseal(keyfile, PASSPHRASE, ...args);
  /** The real dotenvx, run in `cwd` with only PATH and HOME (and the key, when given). */
  const dotenvx = (cwd, args, env = {}) => execFileSync(process.execPath, [DOTENVX, ...args],
    { cwd, env: { PATH: process.env.PATH ?? '', HOME: dir, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const file = () => path.join(wb.folder, '.env.production');
  async function waitFor(what, cond, ms = 20_000) {
    const end = Date.now() + ms;
    while (!(await cond())) { if (Date.now() > end) throw new Error(`timed out waiting for ${what}`); await page.waitForTimeout(100); }
  }
  const tabTitles = async () => (await page.locator('.tabs-container .tab').allInnerTexts()).map(t => t.replace(/\s+/g, ''));
  const statusItem = text => page.locator('.statusbar-item', { hasText: text });
  const editorShows = text => page.locator('.monaco-editor .view-lines', { hasText: text });
  const dotenvTab = () => page.locator('.tabs-container .tab', { hasText: /^\s*\.env\.production\b/ });
  /** Real git in `cwd`, its merge driver NoteSeal's CLI (on PATH as `noteseal`) with the passphrase given on purpose. */
  const git = (cwd, ...args) => execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  /** The decrypted view of the workspace's `.env.production`, by NoteSeal's CLI ('' when it does not open). */
  const view = () => { try { return cli('decrypt', file()); } catch { return ''; } };
  /** Opens `.env.production` from the Explorer and puts the cursor at the end of its view. */
  async function openAtEnd() {
    await explorerRow(page, '.env.production').click();
    await editorShows('DOTENV_PUBLIC_KEY_PRODUCTION=').waitFor({ timeout: 30_000 })
      .catch(async e => { await screenshot(page, 'dotenvx-not-opened'); throw new Error(`${e.message}; tabs: ${(await tabTitles()).join(', ')}`); });
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+End');
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-dotenvxui-'));
    keyfile = path.join(dir, 'keyfile.json');
    cli('init');
    const app = path.join(dir, 'app');                       // where dotenvx made the file and its .env.keys
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, '.env.production'), '# production\nNODE_ENV=production\n\nDB_URL="postgres://db/app"\nSECRET_NOTE="before"\n');
    dotenvx(app, ['encrypt', '-f', '.env.production']);
    privateKey = /DOTENV_PRIVATE_KEY_PRODUCTION=["']?([0-9a-f]{64})/.exec(fs.readFileSync(path.join(app, '.env.keys'), 'utf8'))[1];
    cli('identity', 'import', path.join(app, '.env.keys'), '--yes');
    assert.ok(!fs.existsSync(path.join(app, '.env.keys')), 'the plaintext .env.keys was deleted after the import');
    original = fs.readFileSync(path.join(app, '.env.production'), 'utf8');
    assert.match(original, /SECRET_NOTE="encrypted:/);
    gitEnv = driverGitEnv(dir, keyfile, PASSPHRASE);
    wb = await openWorkbench({
      keyfile,
      prepare: folder => {
        fs.writeFileSync(path.join(folder, '.env.production'), original);
        fs.writeFileSync(path.join(folder, '.env'), 'PLAIN_ONLY=visible as usual\n');
        initDriverRepo(folder, gitEnv);
      },
    });
    page = wb.page;
    await unlockFromStatusBar(page, PASSPHRASE);
  });
  after(async () => {
    await wb?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a plain .env opens as usual (not through NoteSeal)', async () => {
    await explorerRow(page, '.env').click();
    await page.locator('.monaco-editor .view-lines', { hasText: 'PLAIN_ONLY=visible as usual' }).waitFor({ timeout: 20_000 });
    // Its tab is the file itself: hovering shows its path on disk, not a noteseal: view.
    const tab = page.locator('.tabs-container .tab', { hasText: /^\s*\.env\s*$/ });
    await tab.waitFor({ timeout: 10_000 });
    assert.doesNotMatch(await tab.getAttribute('title') ?? '', /noteseal/i);
    await page.keyboard.press('Control+W');
    await waitFor('the tab to close', async () => (await tabTitles()).length === 0);
  });

  it('a dotenvx .env.production opens from the Explorer as its decrypted dotenv view, in one tab', async () => {
    await explorerRow(page, '.env.production').click();
    await page.locator('.monaco-editor .view-lines', { hasText: 'SECRET_NOTE="before"' }).waitFor({ timeout: 30_000 });
    await waitFor('one tab', async () => (await tabTitles()).length === 1);
    assert.match((await tabTitles())[0], /^\.env\.production/);
    assert.doesNotMatch(await page.locator('.monaco-editor .view-lines').first().innerText(), /encrypted:/);
    await screenshot(page, 'dotenvx-open');
  });

  it('editing one value saves it as dotenvx writes it: one line changed, dotenvx get reads it, no writer asked', async () => {
    // The cursor at the end of SECRET_NOTE's value, inside its closing quote; the value typed as one input event.
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+End');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.insertText(canary);
    await page.keyboard.press('Control+S');
    const get = () => { try { return dotenvx(wb.folder, ['get', 'SECRET_NOTE', '-f', '.env.production'], { DOTENV_PRIVATE_KEY_PRODUCTION: privateKey }).trim(); } catch { return ''; } };
    await waitFor('dotenvx get to read the edited value', () => get() === `before${canary}`, 30_000);
    const after = fs.readFileSync(file(), 'utf8');
    assert.ok(!after.includes(canary), 'the new value is encrypted in the file');
    const [a, b] = [original.split('\n'), after.split('\n')];
    assert.equal(b.length, a.length, 'no line added or removed');
    const changed = a.flatMap((line, i) => line === b[i] ? [] : [i]);
    assert.deepEqual(changed.map(i => a[i].split('=')[0]), ['SECRET_NOTE'], 'only the edited value\'s line changed; every other byte kept');
    assert.match(b[changed[0]], /^SECRET_NOTE="encrypted:[A-Za-z0-9+/=]+"$/);
    assert.equal(dotenvx(wb.folder, ['get', 'DB_URL', '-f', '.env.production'], { DOTENV_PRIVATE_KEY_PRODUCTION: privateKey }).trim(), 'postgres://db/app');
    await waitFor('the editor to be clean', async () => (await page.locator('.tabs-container .tab.dirty').count()) === 0);
    assert.equal(await page.locator('.monaco-dialog-box').count(), 0, 'no "written by" / sign-as-mine question for a dotenvx file');
    assert.deepEqual(fs.readdirSync(wb.folder).filter(n => n.startsWith('.env')).sort(), ['.env', '.env.production'], 'no .enc, no temp file beside it');
  });

  it('a git merge of two branches\' .env.production keeps each side\'s changed value; a conflicting one writes nothing decrypted', async () => {
    // Their branch: a teammate's clone, where the real dotenvx sets a new value (with the private key, as they hold it).
    const clone = path.join(dir, 'theirs');
    git(dir, 'clone', '-q', wb.folder, clone);
    dotenvx(clone, ['set', 'THEIRS_ONLY', inTheirs, '-f', '.env.production'], { DOTENV_PRIVATE_KEY_PRODUCTION: privateKey });
    git(clone, 'commit', '-qam', 'theirs: THEIRS_ONLY');
    // Our branch: the edit saved in the editor above, and one more value, both committed.
    cli('set', file(), 'OURS_ONLY', inOurs);
    await editorShows(`OURS_ONLY="${inOurs}"`).waitFor({ timeout: 30_000 }); // the open view follows the file
    git(wb.folder, 'commit', '-qam', 'ours: SECRET_NOTE, OURS_ONLY');
    git(wb.folder, 'pull', '-q', '--no-rebase', '--no-edit', clone, 'main');
    const merged = view();
    assert.ok(merged.includes(`SECRET_NOTE="before${canary}"`) && merged.includes(`OURS_ONLY="${inOurs}"`) && merged.includes(`THEIRS_ONLY="${inTheirs}"`), 'both sides\' values are in the merge');
    assert.equal(dotenvx(wb.folder, ['get', 'THEIRS_ONLY', '-f', '.env.production'], { DOTENV_PRIVATE_KEY_PRODUCTION: privateKey }).trim(), inTheirs, 'dotenvx reads the merged file');
    assert.ok(!canaries().some(c => fs.readFileSync(file(), 'utf8').includes(c)), 'every value is encrypted in the merged file');
    await editorShows(`THEIRS_ONLY="${inTheirs}"`).waitFor({ timeout: 30_000 });  // the open (clean) view shows the merge
    // Both sides change DB_URL: git stops; the file is ours as it was, the message names the key and no value.
    dotenvx(clone, ['set', 'DB_URL', 'postgres://theirs/db', '-f', '.env.production'], { DOTENV_PRIVATE_KEY_PRODUCTION: privateKey });
    git(clone, 'commit', '-qam', 'theirs: DB_URL');
    cli('set', file(), 'DB_URL', 'postgres://ours/db');
    git(wb.folder, 'commit', '-qam', 'ours: DB_URL');
    const ours = fs.readFileSync(file());
    const failed = (() => { try { git(wb.folder, 'pull', '-q', '--no-rebase', '--no-edit', clone, 'main'); return null; } catch (e) { return `${e.stdout}${e.stderr}`; } })();
    assert.ok(failed !== null, 'the conflicting merge stops');
    assert.match(failed, /DB_URL/);
    assert.doesNotMatch(failed, /postgres:\/\/(theirs|ours)\/db/, 'no value in the message');
    assert.ok(fs.readFileSync(file()).equals(ours), 'the file is ours, untouched');
    git(wb.folder, 'merge', '--abort');
    assert.equal(git(wb.folder, 'status', '--porcelain', '--untracked-files=no').trim(), '');
    await screenshot(page, 'dotenvx-merged');
  });

  it('.env.production changed on disk under the editor: theirs is kept and shown, mine is sealed before any backup; a lock closes it; unlock brings it back', async () => {
    // Theirs: the file with one value changed by `noteseal set` (no key needed), outside the workspace until copied in.
    const theirsDir = path.join(dir, 'pulled');
    fs.mkdirSync(theirsDir);
    fs.copyFileSync(file(), path.join(theirsDir, '.env.production'));
    cli('set', path.join(theirsDir, '.env.production'), 'NODE_ENV', 'theirs');
    const theirs = fs.readFileSync(path.join(theirsDir, '.env.production'));
    const dirtyTab = page.locator('.tabs-container .tab.dirty', { hasText: /^\s*\.env\.production\b/ });
    await dotenvTab().click();
    // Theirs lands right after the edit, before save-soon (250 ms): VS Code refuses the save; NoteSeal seals the
    // text and shows theirs before VS Code's backup delay (tried again if the save wins the race).
    const copiesBefore = sealedCopies(keyfile).length;
    await conflictSealedAndReverted({
      page, stateDir: wb.stateDir, dirtyTab, shot: 'dotenvx-conflict',
      type: async () => {
        await page.locator('.monaco-editor .view-lines').first().click();
        await page.keyboard.press('Control+End');
        await page.keyboard.insertText(`\nMINE="${atConflict}"`);
      },
      landTheirs: () => fs.copyFileSync(path.join(theirsDir, '.env.production'), file()),
      theirsOnDisk: () => fs.readFileSync(file()).equals(theirs),
    });
    assert.equal(sealedCopies(keyfile).length, copiesBefore + 1, 'one sealed recovery copy more');
    assert.ok(fs.readFileSync(file()).equals(theirs), 'their version is intact on disk');
    assert.equal(await editorShows(atConflict).count(), 0, 'the editor shows theirs');
    await statusItem('NoteSeal: Unlocked').click();
    await statusItem('NoteSeal: Locked').waitFor({ timeout: 20_000 });
    await waitFor('the dotenvx tab to close', async () => await dotenvTab().count() === 0);
    await waitFor('no typed text on screen', async () => await editorShows(atConflict).count() === 0);
    assert.ok(fs.readFileSync(file()).equals(theirs), 'the lock did not overwrite theirs');
    await unlockFromStatusBar(page, PASSPHRASE);
    await restoreSealedCopy(page, () => view().includes(`MINE="${atConflict}"`), 'dotenvx-conflict-offer');
    assert.doesNotMatch(fs.readFileSync(file(), 'utf8'), /^MINE="CANARY/m, 'restored into the file encrypted');
  });

  it('Restart Worker while typing in .env.production: it closes, nothing decrypted stays on screen, the text is not lost', async () => {
    await openAtEnd();
    await page.keyboard.type(`\nNEXT="${atRestart}"`, { delay: 15 });   // real keystrokes, then at once:
    await runCommand(page, 'NoteSeal: Restart Worker');
    await statusItem('NoteSeal: Locked').waitFor({ timeout: 30_000 });
    await waitFor('the dotenvx tab to close', async () => await dotenvTab().count() === 0);
    assert.deepEqual(fs.readdirSync(wb.folder).filter(n => /\.tmp-[0-9a-f]{12}$/.test(n)), [], 'no temp sibling is left');
    assert.equal(await editorShows(atRestart).count(), 0, 'no editor shows the text while locked');
    await screenshot(page, 'dotenvx-restart-locked');
    await unlockFromStatusBar(page, PASSPHRASE);
    await restoreSealedCopy(page, () => view().includes(`NEXT="${atRestart}"`), 'dotenvx-restart-offer');
    assert.doesNotMatch(fs.readFileSync(file(), 'utf8'), /^NEXT="CANARY/m, 'restored into the file encrypted');
  });

  it('locking hides the decrypted values', async () => {
    await statusItem('NoteSeal: Unlocked').click();
    await statusItem('NoteSeal: Locked').waitFor({ timeout: 10_000 });
    await waitFor('no decrypted text on screen', async () => {
      const shown = await page.locator('.monaco-workbench').innerText();
      return !canaries().some(c => shown.includes(c)) && !shown.includes('postgres://ours/db');
    });
    await screenshot(page, 'dotenvx-locked');
  });

  it('leaves no trace of any typed, set or merged value on disk (user data, Backups, Local History, workspace, temp, git objects)', async () => {
    await wb.closeWindow();
    await wb.host.stop();
    const roots = leakRoots(wb, { since: startedAt, also: [path.dirname(keyfile)] }); // the keyfile's folder: key store, recovery copies, the clone
    assertNoTrace(wb, roots, [wb.folder, path.join(dir, 'theirs')], canaries());
    const store = fs.readdirSync(path.join(dir, 'keyfile.keys'), { withFileTypes: true, recursive: true }).filter(e => e.isFile())
      .map(e => fs.readFileSync(path.join(e.parentPath, e.name), 'latin1')).join('\n');
    assert.ok(!store.includes(privateKey), 'the imported private key is sealed');
  });
});
