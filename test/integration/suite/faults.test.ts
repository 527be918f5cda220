// A save on a full disk inside the real extension host (issue 15): the note's folder is a 1 MiB tmpfs mounted
// by the test and filled; the save fails with the worker's "disk full" message, the editor stays dirty with
// the user's text, and the old file is intact. Needs root (mount); skipped otherwise.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { api, closeAllEditors, freshDir, noteUri, readEncExternally, sleep, unlocked, waitUntil, writeEncExternally } from './helpers';

describe('faults: a full disk', () => {
  let mountPoint = '';
  before(async function () {
    if (process.getuid?.() !== 0) { this.skip(); return; }
    await unlocked();
    mountPoint = freshDir('full-disk');
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'tmpfs', mountPoint]).status !== 0) { mountPoint = ''; this.skip(); }
  });
  after(async () => {
    await closeAllEditors();
    if (mountPoint) { spawnSync('umount', ['-l', mountPoint]); fs.rmSync(mountPoint, { recursive: true, force: true }); }
  });

  it('a save on a full disk fails with "disk full", the editor stays dirty and the old file is intact', async () => {
    const file = path.join(mountPoint, 'note.md.enc');
    await writeEncExternally(file, 'the old text\n');
    const editor = await vscode.window.showTextDocument(noteUri(file), { preview: false });
    await waitUntil('the note to open', () => editor.document.getText() === 'the old text\n');
    // Fill the disk to the last byte.
    const fd = fs.openSync(path.join(mountPoint, 'filler.bin'), 'w');
    try { for (const block = Buffer.alloc(4096); ;) fs.writeSync(fd, block); } catch { /* full */ } finally { fs.closeSync(fd); }
    assert.ok(await editor.edit(b => b.insert(new vscode.Position(1, 0), 'x'.repeat(20_000))));
    assert.equal(await editor.document.save(), false, 'the save failed');
    await sleep(600); // save-soon tries again meanwhile; it fails the same way
    assert.equal(editor.document.isDirty, true, 'the editor stays dirty');
    assert.ok(editor.document.getText().endsWith('x'.repeat(20_000)), 'with the text typed');
    assert.equal(await readEncExternally(file), 'the old text\n');
    assert.deepEqual(fs.readdirSync(mountPoint).filter(n => n.includes('.tmp-')), [], 'no temp sibling left');
    // What VS Code shows for the failed write: the worker's message.
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(noteUri(file), Buffer.from('y'.repeat(20_000)))),
      (e: Error) => /The disk is full \(.*note\.md\.enc\): nothing was written, the old file is intact\./.test(e.message));
    // Once there is room again, the same editor saves.
    fs.rmSync(path.join(mountPoint, 'filler.bin'));
    assert.equal(await editor.document.save(), true);
    await (await api()).whenWritten();
    assert.ok((await readEncExternally(file)).endsWith('x'.repeat(20_000)));
  });
});
