// A sealed log in VS Code (issue 29): a log that `noteseal append` (a separate process) is writing opens
// read-only, shows each sealed chunk as it arrives (never the tail being written), refuses typing and any
// write through the provider, and stays a log on disk.
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { readHeaderFromFile } from '../../../server/src/crypto/format';
import { collectOutput, type Run } from '../../unit/agent/cliRunner';
import { api, closeAllEditors, EXTENSION_ID, freshDir, noteUri, PASSPHRASE, unlocked, waitUntil } from './helpers';

const cliJs = () => path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist', 'cli.js');

describe('a sealed log in the editor', () => {
  let home: string;
  let appender: ChildProcess | undefined;
  const cliEnv = () => ({
    PATH: process.env.PATH ?? '', HOME: home, ELECTRON_RUN_AS_NODE: '1', NOTESEAL_TEST_FAST_KDF: '1',
    NOTESEAL_KEYFILE: process.env.NOTESEAL_KEYFILE!, NOTESEAL_PASSPHRASE_FILE: path.join(home, 'pass.txt'),
  });
  // Detached (setsid): no terminal to prompt on; the key comes from the passphrase file, not this window's agent.
  const cli = (args: string[], stdin: 'pipe' | 'ignore' = 'ignore') =>
    spawn(process.execPath, [cliJs(), ...args], { detached: true, env: cliEnv(), stdio: [stdin, 'pipe', 'pipe'] });

  before(async () => {
    await unlocked();
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-log-home-'));
    fs.writeFileSync(path.join(home, 'pass.txt'), PASSPHRASE + '\n', { mode: 0o600 });
  });
  after(async () => {
    if (appender && appender.exitCode === null) appender.kill('SIGKILL');
    await closeAllEditors();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('opens a log being appended to read-only, shows new sealed lines live, refuses typing and saves; the file stays a log', async () => {
    const file = path.join(freshDir('logs'), 'server.log.enc');
    appender = cli(['append', file], 'pipe');
    const appended = collectOutput(appender);
    appender.stdin!.write('first line\n');
    // The appender seals what it has at least every second: wait for the first sealed chunk on disk.
    await waitUntil('the first sealed chunk', async () => (await cliCat(file)).stdout.includes('first line'), 30_000);

    const uri = noteUri(file);
    const doc = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(doc);
    assert.equal(doc.getText(), 'first line\n');

    appender.stdin!.write('second line\n');
    appender.stdin!.write('third, not ended yet'); // sealed within a second too (a partial frame), shown once sealed
    await waitUntil('the new lines in the editor', () => doc.getText() === 'first line\nsecond line\nthird, not ended yet', 20_000);

    // Typing is refused: the editor is read-only (nothing changes, nothing to save).
    await editor.edit(b => b.insert(new vscode.Position(0, 0), 'typed by the user '));
    await vscode.commands.executeCommand('type', { text: 'typed again ' });
    assert.ok(!doc.getText().includes('typed'), doc.getText());
    assert.equal(doc.isDirty, false);
    // A write through the provider (another extension, a Save As onto it) is refused: the log is never rewritten.
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(uri, Buffer.from('overwritten\n'))), /read-only|log/);

    appender.stdin!.end('\nlast line\n');
    const done: Run = await appended;
    assert.equal(done.code, 0, done.stderr);
    await waitUntil('the closed log in the editor', () => doc.getText() === 'first line\nsecond line\nthird, not ended yet\nlast line\n', 20_000);
    assert.equal(doc.isDirty, false);

    // On disk: still a log, holding exactly what was appended.
    assert.equal((await readHeaderFromFile(file)).logMode, true);
    const cat = await cliCat(file);
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, 'first line\nsecond line\nthird, not ended yet\nlast line\n');
    // A closed log is read-only too: a write through the provider is still refused, the file unchanged.
    const before = fs.readFileSync(file);
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(uri, Buffer.from('overwritten\n'))), /read-only|log/);
    assert.ok(fs.readFileSync(file).equals(before));
  });

  it('a log whose appender was killed opens with what was sealed and says it was not closed cleanly; the same bytes cut short are refused', async () => {
    const file = path.join(freshDir('logs'), 'crashed.log.enc');
    const crashed = cli(['append', file], 'pipe');
    const ended = new Promise<void>(resolve => crashed.once('exit', () => resolve()));
    crashed.stdin!.write('sealed before the crash\n');
    await waitUntil('the first sealed chunk', async () => (await cliCat(file)).stdout.includes('sealed before the crash'), 30_000);
    crashed.stdin!.write('never sealed: lost'); // buffered in the appender when it dies
    crashed.kill('SIGKILL');
    await ended;

    const doc = await vscode.workspace.openTextDocument(noteUri(file));
    await vscode.window.showTextDocument(doc);
    assert.equal(doc.getText(), 'sealed before the crash\n');
    const noteseal = await api();
    await waitUntil('the not-closed-cleanly warning', () => noteseal.unfinishedLogWarnings().some(w => w.includes('crashed.log.enc') && /not closed cleanly/.test(w) && /not sealed yet is lost/.test(w)), 20_000);
    await closeAllEditors();

    // The same bytes without the lock the killed appender left: a closed log cut short, not a crash. Refused.
    const cut = path.join(path.dirname(file), 'cut.log.enc');
    fs.copyFileSync(file, cut);
    await assert.rejects(Promise.resolve(vscode.workspace.openTextDocument(noteUri(cut))), /cut short/);
    assert.ok(!noteseal.unfinishedLogWarnings().some(w => w.includes('cut.log.enc')));
  });

  const cliCat = (file: string) => collectOutput(cli(['cat', file]));
});
