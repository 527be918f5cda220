// Opening a file a repository could have placed (server/src/crypto/safe-open.ts): never through a symbolic
// link, regular files only (a planted FIFO must not hang the open), a size cap that holds even where the
// size lies (procfs), and linked folders inside a repository refused.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { isNoteSealError } from '../../../server/src/crypto/errors';
import {
  openRegularFile, readRegularFile, refuseLinkedFoldersInRepository, regularFileStat,
} from '../../../server/src/crypto/safe-open';
import { tempDir } from '../keys/helpers';

const refused = (what: RegExp) => (e: unknown) => isNoteSealError(e, 'NOT_A_REGULAR_FILE') && what.test((e as Error).message) && /Nothing was read or written/.test((e as Error).message);

test('a symbolic link is never followed, whatever it points at; a regular file opens', async () => {
  const dir = await tempDir();
  const secret = path.join(dir, 'id_ed25519');
  await fs.writeFile(secret, 'PRIVATE KEY canary');
  const link = path.join(dir, 'todo.md.enc');
  await fs.symlink(secret, link);
  await assert.rejects(openRegularFile(link), refused(/todo\.md\.enc is a symbolic link: NoteSeal does not follow symbolic links/));
  await assert.rejects(readRegularFile(link, { maxBytes: 1024 }), refused(/symbolic link/));
  await assert.rejects(regularFileStat(link), refused(/symbolic link/));
  await fs.symlink('/proc/self/environ', path.join(dir, 'env.enc'));
  await assert.rejects(readRegularFile(path.join(dir, 'env.enc')), refused(/symbolic link/));
  await fs.symlink(path.join(dir, 'nowhere'), path.join(dir, 'dangling.enc'));
  await assert.rejects(openRegularFile(path.join(dir, 'dangling.enc')), refused(/symbolic link/));
  assert.equal((await readRegularFile(secret)).toString(), 'PRIVATE KEY canary');
  assert.equal((await readRegularFile(secret, { maxBytes: 100 })).toString(), 'PRIVATE KEY canary');
  assert.equal(await regularFileStat(path.join(dir, 'missing')), null);
  await assert.rejects(openRegularFile(path.join(dir, 'missing')), { code: 'ENOENT' });
});

test('folders, devices and named pipes are refused at once (a FIFO does not block the open)', { skip: process.platform === 'win32' }, async () => {
  const dir = await tempDir();
  await assert.rejects(openRegularFile(dir), refused(/is a folder/));
  await assert.rejects(openRegularFile('/dev/zero'), refused(/is a device/));
  const fifo = path.join(dir, 'x.wav.enc.lock');
  execFileSync('mkfifo', [fifo]);
  await assert.rejects(openRegularFile(fifo), refused(/is a named pipe/));
});

test('the size cap holds where the size lies (procfs says 0) and for a file larger than the cap', async () => {
  const dir = await tempDir();
  const big = path.join(dir, 'big.lock');
  await fs.writeFile(big, Buffer.alloc(5000, 0x31));
  await assert.rejects(readRegularFile(big, { maxBytes: 64 }), (e: unknown) => isNoteSealError(e, 'LIMIT_EXCEEDED'));
  assert.equal((await readRegularFile(big, { maxBytes: 5000 })).length, 5000, 'exactly the cap is fine');
  if (process.platform === 'linux') {
    assert.equal((await fs.stat('/proc/self/status')).size, 0, 'procfs reports no size');
    await assert.rejects(readRegularFile('/proc/self/status', { maxBytes: 16 }), (e: unknown) => isNoteSealError(e, 'LIMIT_EXCEEDED'));
    assert.match((await readRegularFile('/proc/self/status', { maxBytes: 1 << 20 })).toString(), /^Name:/, 'grows past the size procfs gives');
  }
});

test('a linked folder inside a repository is refused; links above the repository and outside any are not', async () => {
  const dir = await tempDir();
  const repo = path.join(dir, 'repo');
  const other = path.join(dir, 'other-repo', 'secrets');
  await fs.mkdir(path.join(repo, '.git'), { recursive: true });
  await fs.mkdir(path.join(repo, 'notes'), { recursive: true });
  await fs.mkdir(other, { recursive: true });
  await fs.symlink(other, path.join(repo, 'shared'));
  await assert.rejects(refuseLinkedFoldersInRepository(path.join(repo, 'shared', 'x.md.enc')), refused(/shared is a symbolic link/));
  await fs.mkdir(path.join(other, 'deeper'));
  await assert.rejects(refuseLinkedFoldersInRepository(path.join(repo, 'shared', 'deeper', 'x.md.enc')), refused(/shared is a symbolic link/));
  await refuseLinkedFoldersInRepository(path.join(repo, 'notes', 'x.md.enc'));
  // The repository reached through a link (macOS /tmp, a linked home): its own folders are what count.
  await fs.symlink(repo, path.join(dir, 'via-link'));
  await refuseLinkedFoldersInRepository(path.join(dir, 'via-link', 'notes', 'x.md.enc'));
  // Outside any repository nothing is refused (the user chose the path).
  await refuseLinkedFoldersInRepository(path.join(dir, 'other-repo', 'secrets', 'x.md.enc'));
});
