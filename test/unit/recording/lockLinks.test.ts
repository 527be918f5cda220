// A recording's lock file is metadata a repository can plant: `.x.wav.enc.lock -> /dev/zero` (or a link to a
// file holding a live pid) must not be followed, and a huge lock is not read (issue 21 §3).
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { acquireLock, lockOwner } from '../../../server/src/keys/lockfile';
import { recordingLockPath } from '../../../server/src/recording/files';
import { tempDir } from '../keys/helpers';

test('a lock that is a link, a device or larger than a pid is not a lock: never read through, and stale', async () => {
  const dir = await tempDir();
  const rec = path.join(dir, 'x.wav.enc');
  const lock = recordingLockPath(rec);
  // A link to a file that holds a live pid would keep the recording "in use" forever if followed.
  await fs.writeFile(path.join(dir, 'elsewhere'), `${process.pid}\n`);
  await fs.symlink(path.join(dir, 'elsewhere'), lock);
  assert.equal(await lockOwner(lock), null);
  await fs.unlink(lock);
  await fs.symlink('/dev/zero', lock);
  assert.equal(await lockOwner(lock), null, 'not read without end');
  // Stale: taking the lock replaces the planted link (the link itself, never its target).
  const held = await acquireLock(lock);
  assert.ok((await fs.lstat(lock)).isFile());
  assert.equal(await lockOwner(lock), process.pid);
  await held.release();
  await fs.writeFile(lock, `${process.pid}\n`.padEnd(1 << 20, ' '));
  assert.equal(await lockOwner(lock), null, 'a megabyte is no pid');
  assert.equal(await fs.readFile(path.join(dir, 'elsewhere'), 'utf8'), `${process.pid}\n`);
});
