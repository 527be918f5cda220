// Issue 22 §2, the shutdown join: a note's save still being written 150 ms after it started is reported done to
// VS Code (encFsProvider.ts, SAVE_DEADLINE_MS) and finished in the background. Closing the window right after such
// saves must not lose them: deactivate() waits for them or seals them, and the worker finishes the writes it has
// before it stops (server/src/vault/writeJoin.ts). The worker is made slow here (every write waits SLOW_MS first).
import * as assert from 'node:assert/strict';
import path from 'node:path';
import * as vscode from 'vscode';
import { api, freshDir, noteUri, PASSPHRASE, readEncExternally, unlocked, writeEncExternally } from './helpers';

const SLOW_MS = 1500;

describe('saves finished in the background, then the window closes (issue 22 §2)', () => {
  before(async () => {
    await unlocked();
    await (await api()).setSlowSaves(SLOW_MS);
    await (await api()).vault.unlock(PASSPHRASE);
  });
  after(async () => {
    await (await api()).setSlowSaves(0);
    await unlocked();
  });

  // The provider's writeFile is what VS Code's save of a note calls (after its save participants and its stat); it is
  // called directly here, so that no save of VS Code's own (nor LeakGuard's save 250 ms after an edit, which VS Code
  // may cancel for the test's, or the other way round) decides when it happens.
  it('two slow saves in a row, the window closed right after the second returned: the file holds the last edit', async () => {
    const file = path.join(freshDir('save-join'), 'note.md.enc');
    await writeEncExternally(file, 'the old text\n');
    const save = async (text: string) => {
      const started = Date.now();
      await vscode.workspace.fs.writeFile(noteUri(file), Buffer.from(text));
      return Date.now() - started;
    };
    // Reported done before the slow write ended (so VS Code would see the note clean and back nothing up).
    const first = await save('first edit\nthe old text\n');
    assert.ok(first < SLOW_MS, `the first save returned after ${first} ms`);
    // Saved again while the first write is still running: queued behind it (last edit wins), reported done at once.
    const second = await save('last edit\nfirst edit\nthe old text\n');
    assert.ok(second < SLOW_MS, `the second save returned after ${second} ms`);
    // Both writes take 1.5 s each: the last edit cannot have reached the file yet.
    assert.notEqual(await readEncExternally(file), 'last edit\nfirst edit\nthe old text\n');
    // What deactivate() runs when the window closes, at once.
    await (await api()).windowClosing();
    assert.equal(await readEncExternally(file), 'last edit\nfirst edit\nthe old text\n');
    // Written, not sealed: no recovery copy of the note was left for the next unlock.
    const noteseal = await api();
    await noteseal.vault.unlock(PASSPHRASE);
    assert.deepEqual((await noteseal.recovery.pending()).filter(c => c.path === file.replace(/\.enc$/, '')), []);
  });
});
