// Editing `.enc` files inline, inside a real VS Code extension host: the noteseal: file system, opening
// from a file: URI, saving, external changes, conflicts, locked saves, lock and auto-lock.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import {
  allTabs, api, closeAllEditors, freshDir, noteUri, PASSPHRASE, readEncExternally, sleep, unlocked, waitFor, waitUntil, writeEncExternally,
} from './helpers';

const canary = () => `CANARY-${randomBytes(8).toString('hex')}`;

function assertNoPlaintext(file: string, secret: string): void {
  const bytes = fs.readFileSync(file);
  for (const needle of [Buffer.from(secret), Buffer.from(secret, 'utf16le'), Buffer.from(Buffer.from(secret).toString('base64').slice(0, 16))]) {
    assert.equal(bytes.indexOf(needle), -1, `${path.basename(file)} holds no plaintext`);
  }
}

/** Backup files of `noteseal:` documents under any backup home. */
function noteBackups(homes: string[]): string[] {
  return homes.filter(h => fs.existsSync(h)).flatMap(h => fs.readdirSync(h, { recursive: true }).map(String)
    .filter(p => p.split(path.sep).includes('noteseal') && fs.lstatSync(path.join(h, p)).isFile()).map(p => path.join(h, p)));
}

const recoveryDir = () => process.env.NOTESEAL_KEYFILE!.replace(/\.json$/, '.recovery');

async function openNote(file: string): Promise<vscode.TextEditor> {
  return vscode.window.showTextDocument(noteUri(file), { preview: false });
}

async function typeAtEnd(editor: vscode.TextEditor, text: string): Promise<void> {
  const doc = editor.document;
  const ok = await editor.edit(b => b.insert(doc.lineAt(doc.lineCount - 1).range.end, text));
  assert.ok(ok, 'the edit applied');
}

describe('the noteseal: file system', () => {
  before(async () => { await unlocked(); });
  after(async () => { await closeAllEditors(); });

  it('a large Markdown note opens as plain text (Markdown features would delay its saves); a small one stays Markdown', async () => {
    const dir = freshDir('large-md');
    const big = path.join(dir, 'big.md.enc');
    const small = path.join(dir, 'small.md.enc');
    await writeEncExternally(big, 'a line of a large note\n'.repeat(50_000)); // 1.1 MiB
    await writeEncExternally(small, '# small\n');
    await openNote(small);
    const bigEditor = await openNote(big);
    await waitUntil('the large note is plain text', () => vscode.window.activeTextEditor?.document.languageId === 'plaintext');
    assert.equal(bigEditor.document.uri.toString(), noteUri(big).toString());
    const smallDoc = vscode.workspace.textDocuments.find(d => d.uri.toString() === noteUri(small).toString());
    assert.equal(smallDoc?.languageId, 'markdown');
    await closeAllEditors();
  });

  it('writes only ciphertext to disk and reads the plaintext back', async () => {
    const dir = freshDir('fs-write');
    const secret = canary();
    await vscode.workspace.fs.writeFile(noteUri(path.join(dir, 'a.md.enc')), Buffer.from(`# A\n${secret}\n`));
    await (await api()).whenWritten();
    assert.deepEqual(fs.readdirSync(dir), ['a.md.enc'], 'only the .enc file exists: no temp file, no plaintext copy');
    assertNoPlaintext(path.join(dir, 'a.md.enc'), secret);
    assert.equal(Buffer.from(await vscode.workspace.fs.readFile(noteUri(path.join(dir, 'a.md.enc')))).toString(), `# A\n${secret}\n`);
    assert.equal(await readEncExternally(path.join(dir, 'a.md.enc')), `# A\n${secret}\n`, 'the CLI side reads what the editor wrote');
  });

  it('lists folders and .enc files (without the suffix), hides plaintext files and temp siblings, and stats them', async () => {
    const dir = freshDir('fs-list');
    await writeEncExternally(path.join(dir, 'plan.md.enc'), 'x');
    fs.writeFileSync(path.join(dir, 'plain.txt'), 'not part of the encrypted view');
    fs.writeFileSync(path.join(dir, '.plan.md.enc.tmp-0123456789ab'), 'a crash left this');
    fs.mkdirSync(path.join(dir, 'sub'));
    const entries = await vscode.workspace.fs.readDirectory(noteUri(dir));
    assert.deepEqual(entries.sort(), [['plan.md', vscode.FileType.File], ['sub', vscode.FileType.Directory]]);
    const st = await vscode.workspace.fs.stat(noteUri(path.join(dir, 'plan.md.enc')));
    assert.equal(st.type, vscode.FileType.File);
    assert.equal(Math.round(st.mtime), Math.round(fs.statSync(path.join(dir, 'plan.md.enc')).mtimeMs));
    await assert.rejects(Promise.resolve(vscode.workspace.fs.stat(noteUri(path.join(dir, 'missing.md.enc')))), (e: vscode.FileSystemError) => e.code === 'FileNotFound');
  });

  it('renames and deletes the .enc file, creates folders, and refuses to overwrite unless asked', async () => {
    const dir = freshDir('fs-rename');
    await writeEncExternally(path.join(dir, 'old.md.enc'), 'one');
    await writeEncExternally(path.join(dir, 'other.md.enc'), 'two');
    await assert.rejects(Promise.resolve(vscode.workspace.fs.rename(noteUri(path.join(dir, 'old.md.enc')), noteUri(path.join(dir, 'other.md.enc')))), (e: vscode.FileSystemError) => e.code === 'FileExists');
    await vscode.workspace.fs.rename(noteUri(path.join(dir, 'old.md.enc')), noteUri(path.join(dir, 'new.md.enc')));
    assert.deepEqual(fs.readdirSync(dir).sort(), ['new.md.enc', 'other.md.enc']);
    assert.equal(await readEncExternally(path.join(dir, 'new.md.enc')), 'one');
    await vscode.workspace.fs.delete(noteUri(path.join(dir, 'new.md.enc')));
    assert.deepEqual(fs.readdirSync(dir), ['other.md.enc']);
    await vscode.workspace.fs.createDirectory(noteUri(path.join(dir, 'folder')));
    assert.ok(fs.statSync(path.join(dir, 'folder')).isDirectory());
  });

  it('keeps the file mode when it saves', async () => {
    const dir = freshDir('fs-mode');
    const file = path.join(dir, 'm.md.enc');
    await writeEncExternally(file, 'mode');
    fs.chmodSync(file, 0o640);
    await vscode.workspace.fs.writeFile(noteUri(file), Buffer.from('changed'));
    await (await api()).whenWritten();
    assert.equal(fs.statSync(file).mode & 0o777, 0o640);
    assert.equal(await readEncExternally(file), 'changed');
  });

  it('reports a damaged file with its own error and releases no content', async () => {
    const dir = freshDir('fs-damaged');
    const file = path.join(dir, 'd.md.enc');
    const secret = canary();
    await writeEncExternally(file, `secret ${secret}`);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 5] ^= 0x01;
    fs.writeFileSync(file, bytes);
    await assert.rejects(Promise.resolve(vscode.workspace.fs.readFile(noteUri(file))), (e: Error) => {
      assert.match(e.message, /corrupt|authentic/i);
      assert.ok(!e.message.includes(secret));
      return true;
    });
  });
});

describe('editing encrypted notes', () => {
  before(async () => { await unlocked(); });
  afterEach(async () => { await closeAllEditors(); });

  for (const [name, language] of [['plan.md.enc', 'markdown'], ['data.json.enc', 'json'], ['config.yaml.enc', 'yaml'], ['.env.enc', 'dotenv']] as const) {
    it(`opens ${name} from its file: URI in one decrypted ${language} text editor`, async () => {
      const dir = freshDir(`open-${language}`);
      const file = path.join(dir, name);
      await writeEncExternally(file, language === 'json' ? '{"a": 1}\n' : 'A=1\n');
      await closeAllEditors();
      await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(file));
      await waitUntil('the decrypted editor', () => vscode.window.activeTextEditor?.document.uri.scheme === 'noteseal');
      await waitUntil('the placeholder tab to close', () => allTabs().length === 1);
      const doc = vscode.window.activeTextEditor!.document;
      assert.equal(doc.uri.path, vscode.Uri.file(file).path.replace(/\.enc$/, ''));
      assert.equal(doc.languageId, language);
      assert.ok(allTabs()[0].input instanceof vscode.TabInputText, 'a text editor tab, not a custom editor');
    });
  }

  it('saves edits, encrypted, before VS Code would back up the dirty editor (1 s)', async () => {
    const dir = freshDir('save-soon');
    const file = path.join(dir, 'note.md.enc');
    await writeEncExternally(file, '# Note\n');
    const editor = await openNote(file);
    const secret = canary();
    const t0 = Date.now();
    await typeAtEnd(editor, secret);
    assert.equal(editor.document.isDirty, true);
    await waitUntil('the note to be saved', () => !editor.document.isDirty, 2000);
    assert.ok(Date.now() - t0 < 1000, `saved after ${Date.now() - t0} ms`);
    assert.equal(await readEncExternally(file), `# Note\n${secret}`);
    assertNoPlaintext(file, secret);
  });

  it('reloads a clean editor when the .enc file changes on disk', async () => {
    const dir = freshDir('external-change');
    const file = path.join(dir, 'shared.md.enc');
    await writeEncExternally(file, 'version 1\n');
    const editor = await openNote(file);
    assert.equal(editor.document.getText(), 'version 1\n');
    await sleep(300);
    await writeEncExternally(file, 'version 2 from a git pull\n');
    await waitUntil('the editor to reload', () => editor.document.getText() === 'version 2 from a git pull\n');
  });

  // Issue 22 §2: VS Code refuses the save before the provider is called (fileService.ts validateWriteFile,
  // FILE_MODIFIED_SINCE); left dirty, the note would be backed up 1 s later. NoteSeal seals the text and reverts.
  it('never overwrites a file that changed underneath a dirty editor: the text is sealed and the editor shows theirs before any backup', async () => {
    const noteseal = await api();
    const dir = freshDir('conflict');
    const file = path.join(dir, 'c.md.enc');
    await writeEncExternally(file, 'base\n');
    const editor = await openNote(file);
    await sleep(300);
    const swept = noteseal.sweptBackups();
    const mine = canary();
    await typeAtEnd(editor, mine);          // dirty; the auto-save would run in 250 ms…
    await writeEncExternally(file, 'theirs\n'); // …but the file changes on disk first
    await waitUntil('the editor to show their version, clean', () => editor.document.getText() === 'theirs\n' && !editor.document.isDirty, 5000);
    await sleep(1500);                        // past the hot-exit backup delay
    assert.equal(await readEncExternally(file), 'theirs\n', 'their version was not overwritten');
    assert.equal(noteseal.sweptBackups(), swept, 'VS Code wrote no backup for the sweeper to destroy');
    await noteseal.sweepNow();
    assert.deepEqual(noteBackups(noteseal.backupHomes()), [], 'no hot-exit backup of the note exists');
    const copies = await noteseal.recovery.pending();
    assert.ok(copies.some(c => c.path === file.replace(/\.enc$/, '')), 'my unsaved text is kept in a sealed recovery copy');
    for (const c of fs.readdirSync(recoveryDir())) assertNoPlaintext(path.join(recoveryDir(), c), mine);
    assert.ok(await noteseal.recovery.restore(file.replace(/\.enc$/, '')) >= 1, 'it can be restored');
    await waitUntil('the restored text to be saved over theirs', async () => (await readEncExternally(file)).includes(mine));
  });

  // Issue 22 §2: a save still waiting 150 ms after it started (here: for the passphrase) is reported done to VS Code,
  // so a dirty note is never backed up while the prompt is up; its failure then seals the text into a recovery copy
  // (encFsProvider.ts SAVE_DEADLINE_MS, noteRecovery.ts lateSaveFailed). Before that change the save was refused.
  it('a save while locked, declined at the prompt: the old file stays intact, the text is sealed and comes back after the unlock', async () => {
    const noteseal = await api();
    const dir = freshDir('locked-save');
    const file = path.join(dir, 'l.md.enc');
    await writeEncExternally(file, 'saved before\n');
    // The worker dies: its keys are gone (open notes are sealed and closed: leak.test.ts).
    const restarted = waitFor(noteseal.onDidRestartWorker, 20_000, 'the worker to restart');
    process.kill((await noteseal.workerStatus()).pid, 'SIGKILL');
    await restarted;
    assert.equal((await noteseal.vault.state()).locked, true);
    const before = fs.readFileSync(file);
    const saving = Promise.resolve(vscode.workspace.fs.writeFile(noteUri(file), Buffer.from('typed while locked')));
    await sleep(1000);                                     // the save asks for the passphrase…
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen'); // …and the user declines
    await saving;                                          // reported done at the deadline: VS Code backs nothing up
    assert.deepEqual(fs.readFileSync(file), before, 'the old file is intact');
    await noteseal.vault.unlock(PASSPHRASE);
    const notePath = file.replace(/\.enc$/, '');
    for (const end = Date.now() + 10_000; !(await noteseal.recovery.pending()).some(c => c.path === notePath);) {
      if (Date.now() > end) assert.fail('the declined save left no sealed recovery copy of the typed text');
      await sleep(100);
    }
    assert.deepEqual(fs.readFileSync(file), before, 'the old file is still intact');
    assert.equal(await noteseal.recovery.restore(notePath), 1);
    const doc = vscode.workspace.textDocuments.find(d => d.uri.toString() === noteUri(file).toString());
    assert.equal(doc?.getText(), 'typed while locked', 'the restored editor holds what was typed');
    await doc.save();
    await noteseal.whenWritten();
    assert.equal(await readEncExternally(file), 'typed while locked');
    await closeAllEditors();
  });
});

describe('locking', () => {
  afterEach(async () => {
    await vscode.workspace.getConfiguration('noteseal.autoLock').update('idleMinutes', undefined, vscode.ConfigurationTarget.Global);
    await closeAllEditors();
  });

  it('refuses a wrong passphrase with its own error', async () => {
    const noteseal = await unlocked();
    await noteseal.vault.lock();
    await assert.rejects(noteseal.vault.unlock('not the passphrase at all'), (e: Error & { code?: string }) => e.code === 'WRONG_PASSPHRASE' && /passphrase/i.test(e.message));
    assert.equal((await noteseal.vault.state()).locked, true);
  });

  it('remembers the master key on this device when asked, unlocks with it without a prompt, and forgets it', async () => {
    const noteseal = await unlocked();
    await noteseal.vault.lock();
    await noteseal.vault.unlock(PASSPHRASE, true);          // "unlock and remember"
    await noteseal.vault.lock();
    await vscode.commands.executeCommand('noteseal.unlock'); // no passphrase box: the remembered key is used
    assert.equal((await noteseal.vault.state()).locked, false);
    await vscode.commands.executeCommand('noteseal.forgetRememberedKey');
    await noteseal.vault.lock();
    const unlocking = vscode.commands.executeCommand('noteseal.unlock');
    await sleep(800);                                        // now the passphrase box is up…
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen'); // …and the user declines
    await unlocking;
    assert.equal((await noteseal.vault.state()).locked, true, 'nothing is remembered any more');
  });

  it('lock saves dirty notes, closes every decrypted editor and wipes the key', async () => {
    const noteseal = await unlocked();
    const dir = freshDir('lock');
    await writeEncExternally(path.join(dir, 'a.md.enc'), 'a\n');
    await writeEncExternally(path.join(dir, 'b.md.enc'), 'b\n');
    await openNote(path.join(dir, 'a.md.enc'));
    const b = await openNote(path.join(dir, 'b.md.enc'));
    await b.edit(e => e.insert(new vscode.Position(1, 0), 'unsaved edit'));
    await noteseal.vault.lock();
    assert.equal((await noteseal.vault.state()).locked, true);
    assert.deepEqual(allTabs().filter(t => t.input instanceof vscode.TabInputText && t.input.uri.scheme === 'noteseal'), []);
    assert.equal(await readEncExternally(path.join(dir, 'b.md.enc')), 'b\nunsaved edit');
    assert.equal((await noteseal.workerStatus()).locked, true, 'the worker holds no key');
  });

  it('a lock and Restart Worker empty each note before its tab closes: a closed note never holds its text (issue 22 §0)', async () => {
    // A tab closed while VS Code's model still held the note could be reopened (Reopen Closed Editor) in the
    // moment before the model was emptied: seen once after Restart Worker in the workbench (lockUnseen UI test).
    await unlocked();
    const dir = freshDir('emptied-first');
    const secret = canary();
    const file = path.join(dir, 'n.md.enc');
    await writeEncExternally(file, `${secret}\n`);
    const uri = noteUri(file).toString();
    const textAtClose: string[] = [];
    const sub = vscode.window.tabGroups.onDidChangeTabs(e => {
      for (const tab of e.closed) {
        if (!(tab.input instanceof vscode.TabInputText) || tab.input.uri.toString() !== uri) continue;
        textAtClose.push(vscode.workspace.textDocuments.find(d => d.uri.toString() === uri)?.getText() ?? '(no document)');
      }
    });
    try {
      for (const how of ['lock', 'restart'] as const) {
        const noteseal = await unlocked();
        const editor = await openNote(file);
        // (After the first lock VS Code's model holds the locked text: the unlocked reopen reloads it.)
        await waitUntil(`positive control (${how}): the note shows unlocked`, () => editor.document.getText().includes(secret));
        textAtClose.length = 0;
        if (how === 'lock') await noteseal.vault.lock(); else await vscode.commands.executeCommand('noteseal.restartWorker');
        await waitUntil(`the note's tab to close (${how})`, () => textAtClose.length > 0);
        assert.ok(textAtClose.every(t => !t.includes(secret)), `${how}: the note's text when its tab closed: ${JSON.stringify(textAtClose)}`);
      }
    } finally { sub.dispose(); await unlocked(); }
  });

  it('auto-locks after the idle timeout and closes decrypted editors', async () => {
    await vscode.workspace.getConfiguration('noteseal.autoLock').update('idleMinutes', 0.05, vscode.ConfigurationTarget.Global); // 3 s
    const noteseal = await unlocked();
    const dir = freshDir('autolock');
    await writeEncExternally(path.join(dir, 'idle.md.enc'), 'idle\n');
    await openNote(path.join(dir, 'idle.md.enc'));
    const deadline = noteseal.vault.autoLockDeadline();
    assert.ok(deadline && deadline - Date.now() <= 3000 && deadline - Date.now() > 1000, 'the deadline is about 3 s away');
    await waitUntil('auto-lock', async () => (await noteseal.vault.state()).locked, 8000);
    await waitUntil('decrypted editors to close', () => !allTabs().some(t => t.input instanceof vscode.TabInputText && t.input.uri.scheme === 'noteseal'));
  });
});
