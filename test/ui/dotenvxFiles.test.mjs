// UI: dotenvx `.env` files (issue 27) in the workbench. The real dotenvx (@dotenvx/dotenvx, pinned) encrypts
// `.env.production`; its `.env.keys` is imported into NoteSeal (`noteseal identity import .env.keys --yes`:
// sealed, the plaintext file deleted). Opened from the Explorer, the file shows as its decrypted dotenv view;
// one value edited and saved changes that one line only and `dotenvx get` reads the new value; no writer is
// asked about; a plain `.env` opens as usual; a lock hides the text; and nothing typed is found on disk.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../host/codeServer.mjs';
import { searchForCanary } from './leakSearch.mjs';
import { explorerRow, noteseal, openWorkbench, screenshot, unlockFromStatusBar } from './workbench.mjs';

const PASSPHRASE = 'dotenvx files test passphrase 27';
const DOTENVX = path.join(projectRoot, 'node_modules', '@dotenvx', 'dotenvx', 'src', 'cli', 'dotenvx.js');
const startedAt = Date.now() - 1000;

describe('dotenvx files in the workbench', () => {
  let wb, page, dir, keyfile, privateKey, original;
  const canary = `CANARY${randomBytes(10).toString('hex')}`;
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
    wb = await openWorkbench({
      keyfile,
      prepare: folder => {
        fs.writeFileSync(path.join(folder, '.env.production'), original);
        fs.writeFileSync(path.join(folder, '.env'), 'PLAIN_ONLY=visible as usual\n');
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

  it('locking hides the decrypted values', async () => {
    await page.locator('.statusbar-item', { hasText: 'NoteSeal: Unlocked' }).click();
    await page.locator('.statusbar-item', { hasText: 'NoteSeal: Locked' }).waitFor({ timeout: 10_000 });
    await waitFor('no decrypted text on screen', async () => {
      const shown = await page.locator('.monaco-workbench').innerText();
      return !shown.includes(canary) && !shown.includes('postgres://db/app');
    });
    await screenshot(page, 'dotenvx-locked');
  });

  it('leaves no trace of the typed value on disk (workspace, user data, logs, temp)', async () => {
    await wb.closeWindow();
    await wb.host.stop();
    const roots = [
      { dir: wb.stateDir },                                  // user data (Backups, logs, storage), chromium profile, server temp
      { dir: wb.folder },                                    // the workspace
      { dir: path.dirname(keyfile) },                        // the keyfile's folder (key store)
      { dir: os.tmpdir(), since: startedAt }, { dir: '/var/tmp', since: startedAt }, { dir: '/dev/shm', since: startedAt },
    ];
    const { scanned, hits } = searchForCanary(canary, roots);
    assert.ok(scanned > 50, `searched ${scanned} files`);
    assert.deepEqual(hits, [], 'the canary is nowhere on disk');
    // The planted control: the same search finds it where it is.
    fs.writeFileSync(path.join(dir, 'planted'), Buffer.from(`x${canary}y`, 'utf16le'));
    assert.equal(searchForCanary(canary, [{ dir }]).hits.length, 1);
    const store = fs.readdirSync(path.join(dir, 'keyfile.keys'), { withFileTypes: true, recursive: true }).filter(e => e.isFile())
      .map(e => fs.readFileSync(path.join(e.parentPath, e.name), 'latin1')).join('\n');
    assert.ok(!store.includes(privateKey), 'the imported private key is sealed');
  });
});
