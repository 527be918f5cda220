// Crash-safe replacement on Windows, where renaming over a file another program holds open fails (EPERM,
// EACCES, EBUSY) for as long as it holds it: the rename is retried for a bounded time, then fails clearly with
// the target unchanged and the temp sibling removed. Runs in the Windows lane (Wine); on Linux a rename over an
// open file simply succeeds, so the parts that need a held file skip there.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { ReplaceBlockedError, renameRetry, renameWithRetry, writeFileAtomic } from '../../../server/src/crypto/atomic';
import { tempSiblings } from '../../faults/disks';
import { tempDir } from '../crypto/helpers';

const onWindows = process.platform === 'win32';
const needsWindows = onWindows ? false : 'Linux renames over an open file: there is nothing to retry';
const saved = { ...renameRetry };
afterEach(() => Object.assign(renameRetry, saved));

describe('replacing a file another program holds open (Windows)', () => {
  it('retries the rename until the other handle closes, then replaces the file', { skip: needsWindows }, async t => {
    const dir = tempDir(t);
    const target = path.join(dir, 'held.enc');
    fs.writeFileSync(target, 'old');
    const held = fs.openSync(target, 'r');
    const release = setTimeout(() => fs.closeSync(held), 400);
    try {
      await writeFileAtomic(target, Buffer.from('new'));
    } finally { clearTimeout(release); try { fs.closeSync(held); } catch { /* closed by the timer */ } }
    assert.equal(fs.readFileSync(target, 'utf8'), 'new');
    assert.deepEqual(tempSiblings(dir), []);
  });

  it('gives up after the retry window with a clear error: the file unchanged, the temp sibling removed', { skip: needsWindows }, async t => {
    renameRetry.windowMs = 300;
    const dir = tempDir(t);
    const target = path.join(dir, 'held.enc');
    fs.writeFileSync(target, 'old');
    const held = fs.openSync(target, 'r');
    try {
      await assert.rejects(writeFileAtomic(target, Buffer.from('new')), (e: Error) => {
        assert.ok(e instanceof ReplaceBlockedError, String(e));
        assert.match(e.message, /another program holds it open/);
        assert.match(e.message, /unchanged/);
        return true;
      });
    } finally { fs.closeSync(held); }
    assert.equal(fs.readFileSync(target, 'utf8'), 'old');
    assert.deepEqual(tempSiblings(dir), []);
  });

  it('does not retry where the target is a folder, nor on other platforms', async t => {
    const dir = tempDir(t);
    const from = path.join(dir, 'from');
    fs.writeFileSync(from, 'x');
    fs.mkdirSync(path.join(dir, 'folder'));
    fs.writeFileSync(path.join(dir, 'folder', 'inside'), 'y'); // a non-empty folder: no platform renames a file over it
    renameRetry.windowMs = 60_000;
    const t0 = Date.now();
    await assert.rejects(renameWithRetry(from, path.join(dir, 'folder'), 'win32'), (e: NodeJS.ErrnoException) => !(e instanceof ReplaceBlockedError));
    await assert.rejects(renameWithRetry(from, path.join(dir, 'folder'), 'linux'));
    assert.ok(Date.now() - t0 < 5_000, 'no minute of retries');
  });
});
