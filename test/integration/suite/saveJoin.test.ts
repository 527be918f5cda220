// Issue 22 §2, the shutdown join: a note's save still being written 150 ms after it started is reported done to
// VS Code (encFsProvider.ts, SAVE_DEADLINE_MS) and finished in the background. Closing the window right after such
// saves must not lose them: deactivate() waits for them or seals them, and the worker finishes the writes it has
// before it stops (server/src/vault/writeJoin.ts). The worker is made slow here (every write waits SLOW_MS first).
import * as assert from 'node:assert/strict';
import path from 'node:path';
import * as vscode from 'vscode';
import { api, closeAllEditors, freshDir, noteUri, PASSPHRASE, readEncExternally, unlocked, waitUntil, writeEncExternally } from './helpers';

const SLOW_MS = 1500;

/**
 * Saves until the note is clean: LeakGuard's own save 250 ms after an edit may be running, and VS Code cancels
 * it for this one or this one for it (one save of a working copy at a time; the cancelled caller gets false).
 * Returns how long it took.
 */
async function save(doc: vscode.TextDocument): Promise<number> {
  const started = Date.now();
  await waitUntil('the note saved', async () => !doc.isDirty || await doc.save().then(ok => ok, () => false), 10_000);
  return Date.now() - started;
}

describe('saves finished in the background, then the window closes (issue 22 §2)', () => {
  before(async () => {
    await unlocked();
    await (await api()).setSlowSaves(SLOW_MS);
    await (await api()).vault.unlock(PASSPHRASE);
  });
  after(async () => {
    await closeAllEditors();
    await (await api()).setSlowSaves(0);
    await unlocked();
  });

  it('two slow saves in a row, the window closed right after the second returned: the file holds the last edit', async () => {
    const file = path.join(freshDir('save-join'), 'note.md.enc');
    await writeEncExternally(file, 'the old text\n');
    const editor = await vscode.window.showTextDocument(noteUri(file), { preview: false });
    await waitUntil('the note to open', () => editor.document.getText() === 'the old text\n');
    assert.ok(await editor.edit(b => b.insert(new vscode.Position(0, 0), 'first edit\n')));
    // Reported done before the slow write ended: the note is clean, so VS Code backs nothing up.
    const took = await save(editor.document);
    assert.ok(took < SLOW_MS, `the save returned after ${took} ms`);
    // The user saves again while the first write is still running: it is queued behind it (last edit wins).
    assert.ok(await editor.edit(b => b.insert(new vscode.Position(0, 0), 'last edit\n')));
    await save(editor.document);
    // Both writes are still running (2 × 1.5 s): what deactivate() runs when the window closes, at once.
    await (await api()).windowClosing();
    assert.equal(await readEncExternally(file), 'last edit\nfirst edit\nthe old text\n');
    // Written, not sealed: no recovery copy of the note was left for the next unlock.
    const noteseal = await api();
    await noteseal.vault.unlock(PASSPHRASE);
    assert.deepEqual((await noteseal.recovery.pending()).filter(c => c.path === file.replace(/\.enc$/, '')), []);
  });
});
