// UI: age files (issue 26) in the workbench, as a passage-style store: `.age-recipients` beside files that
// Debian's `age` wrote to an age-keygen identity the user imported into NoteSeal. Opened from the Explorer,
// each shows decrypted in VS Code's own editor (its inner language); a save asks once to accept the unsigned
// `.age-recipients`, then writes a real age file (armored if it was) that `age -d -i` reads; the leak
// scenarios of `.enc` notes run for an age note too (a file changed on disk under the editor: sealed and
// reverted before VS Code's backup delay, no backup created; a lock after it, Restart Worker while typing: the
// text is sealed, never backed up, and comes back on unlock); a lock hides the text; and nothing typed is found on disk afterwards (workspace, user data, temp),
// with a planted control.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Encrypter } from 'age-encryption';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { conflictSealedAndReverted, restoreSealedCopy, sealedCopies } from './leakScenarios.mjs';
import { searchForCanary } from './leakSearch.mjs';
import { answerQuickInput, answerSaveDialog, explorerRow, noteseal, openWorkbench, runCommand, screenshot, unlockFromStatusBar } from './workbench.mjs';

const PASSPHRASE = 'age files test passphrase 26';
const startedAt = Date.now() - 1000;

describe('age files in the workbench (a passage-style store)', () => {
  let wb, page, dir, keyfile, keys, recipient;
  const canary = `CANARY${randomBytes(10).toString('hex')}`;
  const atConflict = `CANARY${randomBytes(10).toString('hex')}`;
  const atRestart = `CANARY${randomBytes(10).toString('hex')}`;
  const inPassphraseFile = `CANARY${randomBytes(10).toString('hex')}`;
  const FILE_PASSPHRASE = 'the age file passphrase, not NoteSeal';
  const cli = (...args) => noteseal(keyfile, PASSPHRASE, ...args);
  const ageDecrypt = file => execFileSync('age', ['-d', '-i', keys, file], { encoding: 'utf8' });
  const store = () => path.join(wb.folder, 'store');
  async function waitFor(what, cond, ms = 20_000) {
    const end = Date.now() + ms;
    while (!(await cond())) { if (Date.now() > end) throw new Error(`timed out waiting for ${what}`); await page.waitForTimeout(100); }
  }
  /** Opens `name` from the Explorer (inside store/) and waits for its decrypted text. */
  async function openFromExplorer(name, shows) {
    await explorerRow(page, name).click();
    await page.locator('.monaco-editor .view-lines', { hasText: shows }).waitFor({ timeout: 20_000 });
  }
  /**
   * Types at the end of the note; NoteSeal's save-soon saves it (250 ms after the last edit), or Ctrl+S does.
   * `atOnce`: one input event (as a paste), so that no save-soon lands mid-typing and its modal takes the keys.
   */
  async function typeAtEnd(text, { save = false, atOnce = false } = {}) {
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+End');
    if (atOnce) await page.keyboard.insertText(text); else await page.keyboard.type(text);
    if (save) await page.keyboard.press('Control+S');
  }

  const statusItem = text => page.locator('.statusbar-item', { hasText: text });
  const editorShows = text => page.locator('.monaco-editor .view-lines', { hasText: text });
  const noteTabs = () => page.locator('.tabs-container .tab', { hasText: /^\s*(work\.md|api\.env)\b/ });
  /** An age file `age` wrote (as a teammate's push would bring), outside the workspace until copied in. */
  const ageWrite = (text, out) => { const plain = path.join(dir, 'plain'); fs.writeFileSync(plain, text); try { execFileSync('age', ['-r', recipient, '-o', out, plain]); } finally { fs.rmSync(plain); } };
  const ageHolds = (file, text) => { try { return ageDecrypt(file).includes(text); } catch { return false; } };
  /** After unlock the text is saved already, or offered back from its sealed copy: restore it, then wait until `age -d` reads it. */
  const recoverInto = (file, text, shot) => restoreSealedCopy(page, () => ageHolds(file, text), shot);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-agefiles-'));
    keyfile = path.join(dir, 'keyfile.json');
    keys = path.join(dir, 'keys.txt');                      // where the user keeps their age identity (outside the workspace)
    cli('init');
    execFileSync('age-keygen', ['-o', keys], { stdio: 'ignore' });
    recipient = execFileSync('age-keygen', ['-y', keys], { encoding: 'utf8' }).trim();
    cli('identity', 'import', keys);                         // sealed in NoteSeal's key store; keys.txt is kept (not confirmed)
    const scrypt = new Encrypter();                          // a passphrase (age -p) file, as typage writes one
    scrypt.setPassphrase(FILE_PASSPHRASE);
    scrypt.setScryptWorkFactor(12);
    const passphraseFile = await scrypt.encrypt('typage wrote this\n');
    wb = await openWorkbench({
      keyfile,
      prepare: folder => {
        const s = path.join(folder, 'store');
        fs.mkdirSync(s, { recursive: true });
        fs.writeFileSync(path.join(s, '.age-recipients'), `# passage store\n${recipient}\n`);
        const plain = path.join(dir, 'plain');
        fs.writeFileSync(plain, '# Work\n\nuser: alice\n');
        execFileSync('age', ['-r', recipient, '-o', path.join(s, 'work.md.age'), plain]);
        fs.writeFileSync(plain, 'API_KEY=first\n');
        execFileSync('age', ['-a', '-r', recipient, '-o', path.join(s, 'api.env.age'), plain]);
        fs.rmSync(plain);
        fs.writeFileSync(path.join(s, 'pw.txt.age'), passphraseFile);
      },
    });
    page = wb.page;
    await unlockFromStatusBar(page, PASSPHRASE);
  });
  after(async () => {
    await wb?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('opens a file age wrote from the Explorer, decrypted, as its inner type', async () => {
    await explorerRow(page, 'store').click();
    await openFromExplorer('work.md.age', 'user: alice');
    const tabs = (await page.locator('.tabs-container .tab').allInnerTexts()).map(t => t.replace(/\s+/g, ''));
    assert.equal(tabs.length, 1, `one tab: ${tabs.join(', ')}`);
    assert.match(tabs[0], /^work\.md/);
    assert.doesNotMatch(tabs[0], /\.age/);
    assert.match(await page.locator('[id="status.editor.mode"]').innerText(), /Markdown/);
  });

  it('a save asks to accept the unsigned .age-recipients, then writes an age file that `age -d` reads', async () => {
    const file = path.join(store(), 'work.md.age');
    const before = fs.readFileSync(file);
    await typeAtEnd(`note ${canary}`, { atOnce: true });
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 20_000 });
    const text = await dialog.innerText();
    assert.match(text, /\.age-recipients/);
    assert.ok(text.includes(recipient), 'the recipient is shown before anything is encrypted to it');
    assert.ok(fs.readFileSync(file).equals(before), 'nothing is written before the list is accepted');
    await screenshot(page, 'agefiles-accept-recipients');
    await dialog.locator('.monaco-button', { hasText: 'Accept and Encrypt to These Recipients' }).click();
    // Save-soon may have saved part of the typing first: wait for the whole text (never printing it: the canary).
    await waitFor('age -d to give the edited text', () => ageDecrypt(file) === `# Work\n\nuser: alice\nnote ${canary}`);
    const saved = fs.readFileSync(file);
    assert.ok(saved.subarray(0, 21).equals(Buffer.from('age-encryption.org/v1')), 'a binary age file stays binary');
    await waitFor('the editor to be clean', async () => (await page.locator('.tabs-container .tab.dirty').count()) === 0);
  });

  it('an armored age file is saved armored (the list is accepted now: no question)', async () => {
    const file = path.join(store(), 'api.env.age');
    await openFromExplorer('api.env.age', 'API_KEY=first');
    const before = fs.readFileSync(file);
    await typeAtEnd(`TOKEN=${canary}`, { save: true });
    await waitFor('age -d to give the edited text', () => !fs.readFileSync(file).equals(before) && ageDecrypt(file) === `API_KEY=first\nTOKEN=${canary}`);
    assert.ok(/^-----BEGIN AGE ENCRYPTED FILE-----\n/.test(fs.readFileSync(file, 'latin1')), 'an armored age file stays armored');
    assert.equal(await page.locator('.monaco-dialog-box').count(), 0);
    await screenshot(page, 'agefiles-armored-saved');
  });

  it('an age file changed on disk under the editor: theirs is kept and shown, mine is sealed before any backup, the choice offered', async () => {
    const file = path.join(store(), 'work.md.age');
    const theirs = path.join(dir, 'theirs.age');
    ageWrite('# Work\ntheirs\n', theirs);
    await page.locator('.tabs-container .tab', { hasText: /^\s*work\.md\b/ }).click();
    await editorShows('user: alice').waitFor({ timeout: 20_000 });
    const dirtyTab = page.locator('.tabs-container .tab.dirty', { hasText: /^\s*work\.md\b/ });
    // "Theirs" lands right after the edit, before save-soon (250 ms): VS Code refuses the save; NoteSeal seals the
    // text and shows theirs before VS Code's backup delay (tried again if the save wins the race).
    const copiesBefore = sealedCopies(keyfile).length;
    await conflictSealedAndReverted({
      page, stateDir: wb.stateDir, dirtyTab, shot: 'agefiles-conflict',
      type: () => typeAtEnd(` ${atConflict}`, { atOnce: true }),
      landTheirs: () => fs.copyFileSync(theirs, file),
      theirsOnDisk: () => ageHolds(file, 'theirs'),
    });
    assert.equal(sealedCopies(keyfile).length, copiesBefore + 1, 'one sealed recovery copy more');
    assert.equal(ageDecrypt(file), '# Work\ntheirs\n', 'their version is intact on disk');
    assert.ok(fs.readFileSync(file).subarray(0, 21).equals(Buffer.from('age-encryption.org/v1')));
    assert.equal(await editorShows(atConflict).count(), 0, 'the editor shows theirs');
  });

  it('a lock after that conflict: the note closes, the sealed text stays unseen, unlock brings it back into the age file', async () => {
    const file = path.join(store(), 'work.md.age');
    await statusItem('NoteSeal: Unlocked').click();
    await statusItem('NoteSeal: Locked').waitFor({ timeout: 20_000 });
    await waitFor('the notes to close', async () => await noteTabs().count() === 0);
    await waitFor('no typed text on screen', async () => await editorShows(atConflict).count() === 0);
    assert.equal(ageDecrypt(file), '# Work\ntheirs\n', 'the lock did not overwrite theirs');
    await screenshot(page, 'agefiles-locked-dirty');
    await unlockFromStatusBar(page, PASSPHRASE);
    await recoverInto(file, atConflict, 'agefiles-lock-offer');
    assert.ok(fs.readFileSync(file).subarray(0, 21).equals(Buffer.from('age-encryption.org/v1')), 'restored and saved as a binary age file');
  });

  it('Restart Worker while typing in an age note: it closes, nothing decrypted stays on screen, the text is not lost', async () => {
    const file = path.join(store(), 'api.env.age');
    await openFromExplorer('api.env.age', 'API_KEY=first');
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type(`\nNEXT=${atRestart}`, { delay: 15 });     // real keystrokes, then at once:
    await runCommand(page, 'NoteSeal: Restart Worker');
    await statusItem('NoteSeal: Locked').waitFor({ timeout: 30_000 });
    await waitFor('the notes to close', async () => await noteTabs().count() === 0);
    assert.deepEqual(fs.readdirSync(store()).filter(n => /\.tmp-[0-9a-f]{12}$/.test(n)), [], 'no temp sibling is left');
    assert.equal(await editorShows(atRestart).count(), 0, 'no editor shows the text while locked');
    await screenshot(page, 'agefiles-restart-locked');
    await unlockFromStatusBar(page, PASSPHRASE);
    await recoverInto(file, atRestart, 'agefiles-restart-offer');
    assert.ok(/^-----BEGIN AGE ENCRYPTED FILE-----\n/.test(fs.readFileSync(file, 'latin1')), 'still armored');
  });

  it('a passphrase (scrypt) age file asks for its own passphrase, not NoteSeal\'s; a save keeps it one that `age -d` opens; a lock forgets it', async () => {
    const file = path.join(store(), 'pw.txt.age');
    const box = page.locator('.quick-input-widget');
    const asked = async () => {
      await explorerRow(page, 'pw.txt.age').click();
      await box.locator('input').waitFor({ state: 'visible', timeout: 20_000 });
      const text = await box.innerText();
      assert.match(text, /Passphrase of the age file pw\.txt\.age/);
      assert.match(text, /not your NoteSeal passphrase/);
    };
    await asked();
    await screenshot(page, 'agefiles-passphrase-asked');
    await answerQuickInput(page, 'not the right one');
    await box.getByText('That passphrase does not open pw.txt.age').waitFor({ timeout: 20_000 });
    await answerQuickInput(page, FILE_PASSPHRASE);
    await editorShows('typage wrote this').waitFor({ timeout: 20_000 });
    await typeAtEnd(`pw ${inPassphraseFile}`, { save: true, atOnce: true });
    // Debian's age reads a passphrase only from a terminal: through `script`'s pty.
    const out = path.join(dir, 'pw-out.txt');
    const ageReads = () => {
      try {
        execFileSync('script', ['-qec', `age -d -o '${out}' '${file}'`, '/dev/null'], { input: `${FILE_PASSPHRASE}\n`, stdio: ['pipe', 'ignore', 'ignore'], timeout: 60_000 });
        return fs.readFileSync(out, 'utf8') === `typage wrote this\npw ${inPassphraseFile}`;
      } catch { return false; } finally { fs.rmSync(out, { force: true }); }
    };
    await waitFor('age -d with the passphrase to give the saved text', ageReads, 60_000);
    assert.match(fs.readFileSync(file, 'latin1'), /\n-> scrypt /, 'still a passphrase (scrypt) file');
    await statusItem('NoteSeal: Unlocked').click();
    await statusItem('NoteSeal: Locked').waitFor({ timeout: 20_000 });
    await unlockFromStatusBar(page, PASSPHRASE);
    // Seen once in a fresh-clone run: a second "Unlock NoteSeal" box (raised while locked by the closing editor)
    // was still open after the unlock, so the click below showed it instead. Close it, and say so.
    await waitFor('no NoteSeal unlock box left open', async () => {
      if (!(await box.locator('input').isVisible())) return true;
      console.log(`# a quick input was still open after the unlock: ${JSON.stringify(await box.innerText())}; closed with Escape`);
      await page.keyboard.press('Escape');
      return false;
    });
    await asked();                                            // the lock wiped it: asked again
    await page.keyboard.press('Escape');
    await waitFor('the box to close', async () => !(await box.locator('input').isVisible()));
  });

  it('Save As from a decrypted note to a name ending .age writes an age file (not .age.enc) that `age -d` reads, and the editor follows', async () => {
    await openFromExplorer('api.env.age', 'API_KEY=first');
    await runCommand(page, 'File: Save As...');
    const target = path.join(store(), 'copy.env.age');
    await answerSaveDialog(page, target);
    await waitFor('the age file copy.env.age, and no copy.env.age.enc', () => ageHolds(target, atRestart) && !fs.existsSync(`${target}.enc`), 30_000);
    assert.ok(fs.readFileSync(target).subarray(0, 21).equals(Buffer.from('age-encryption.org/v1')), 'a real age file');
    const tabs = async () => (await page.locator('.tabs-container .tab').allInnerTexts()).map(t => t.replace(/\s+/g, ''));
    await waitFor('the copy.env tab', async () => (await tabs()).some(t => /^copy\.env/.test(t) && !/\.age/.test(t)))
      .catch(async e => { await screenshot(page, 'agefiles-save-as-age'); throw new Error(`${e.message}; tabs: ${(await tabs()).join(', ')}`); });
    await screenshot(page, 'agefiles-save-as-age');
  });

  it('locking hides the decrypted text of the age files', async () => {
    await page.locator('.statusbar-item', { hasText: 'NoteSeal: Unlocked' }).click();
    await page.locator('.statusbar-item', { hasText: 'NoteSeal: Locked' }).waitFor({ timeout: 10_000 });
    await waitFor('no decrypted text on screen', async () => !(await page.locator('.monaco-workbench').innerText()).includes(canary));
    await screenshot(page, 'agefiles-locked');
  });

  it('leaves no trace of the typed text on disk (workspace, user data, logs, temp)', async () => {
    await wb.closeWindow();
    await wb.host.stop();
    const roots = [
      { dir: wb.stateDir },                                  // user data (Backups, logs, storage), chromium profile, server temp
      { dir: wb.folder },                                    // the workspace
      { dir: path.dirname(keyfile) },                        // the keyfile's folder (key store, pins)
      { dir: os.tmpdir(), since: startedAt }, { dir: '/var/tmp', since: startedAt }, { dir: '/dev/shm', since: startedAt },
    ];
    for (const c of [canary, atConflict, atRestart, inPassphraseFile]) {
      const { scanned, hits } = searchForCanary(c, roots);
      assert.ok(scanned > 50, `searched ${scanned} files`);
      assert.deepEqual(hits, [], 'the canary is nowhere on disk');
    }
    // The planted control: the same search finds it where it is.
    fs.writeFileSync(path.join(dir, 'planted'), Buffer.from(`x${canary}y`, 'utf16le'));
    assert.equal(searchForCanary(canary, [{ dir }]).hits.length, 1);
    assert.ok(!fs.readFileSync(path.join(dir, 'keyfile.keys', 'age-identities.json'), 'utf8').includes('AGE-SECRET-KEY'), 'the imported identity is sealed');
  });
});
