// The editor's live view of a sealed log (issue 29): each update authenticates only the chunks sealed since the
// last read, and still refuses a damaged, reordered or cut log; a log whose writer crashed opens with what was
// sealed and says so, while one cut short at a chunk boundary after it was closed is TRUNCATED.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { CHUNK_FRAME_OVERHEAD, FRAME_PARTIAL } from '../../../server/src/crypto/constants';
import type { Keyring } from '../../../server/src/keys/keyring';
import { LogAppender, logLockPath } from '../../../server/src/logs/appender';
import { EncFileSystem } from '../../../server/src/vault/encFileSystem';
import type { VaultService } from '../../../server/src/vault/vaultService';
import { newKeyring } from '../keys/helpers';

const vaultOf = (keyring: Pick<Keyring, 'unwrap' | 'newFileStanzas'>) => ({ unlocked: () => keyring }) as unknown as VaultService;

async function setup(chunkSize?: number) {
  const { keyring, dir } = await newKeyring();
  const ws = path.join(dir, 'ws');
  await fs.mkdir(ws);
  const files = new EncFileSystem(vaultOf(keyring));
  const real = path.join(ws, 'server.log.enc');
  const logical = path.join(ws, 'server.log');
  const open = () => LogAppender.open(real, { unwrap: keyring.unwrap.bind(keyring), newKeys: () => keyring.newFileStanzas(), flushMs: 60_000, ...(chunkSize ? { chunkSize } : {}) });
  return { files, real, logical, open };
}

const lines = (from: number, n: number) => Buffer.from(Array.from({ length: n }, (_, i) => `line ${from + i} of the server's output\n`).join(''));

test('the live view of a growing log authenticates only the chunks sealed since its last read, and none after a lock', async () => {
  const { files, real, logical, open } = await setup();
  const log = await open();
  try {
    const first = lines(0, 40_000); // ~1.2 MiB: many full chunks
    await log.write(first);
    await log.flush();
    assert.ok((await files.readFile(logical)).equals(first));
    assert.equal(files.lastLogRead?.readBytes, first.length, 'the first read reads everything');
    const more = lines(40_000, 3);
    await log.write(more);
    await log.flush();
    assert.ok((await files.readFile(logical)).equals(Buffer.concat([first, more])));
    assert.equal(files.lastLogRead?.readBytes, more.length, 'an update reads the new chunk only');
    assert.ok((await files.readFile(logical)).equals(Buffer.concat([first, more])));
    assert.equal(files.lastLogRead?.readBytes, 0, 'nothing new: nothing read');
    assert.equal(files.heldLogViews, 1);
    files.forgetDecrypted(); // the vault locked
    assert.equal(files.heldLogViews, 0, 'the kept text is dropped at lock');
    await files.readFile(logical);
    assert.equal(files.lastLogRead?.readBytes, first.length + more.length, 'after a lock everything is read again');
  } finally {
    await log.close();
  }
  // Continued by a new append: a new file (new salt) replaces it, so the view starts over and shows it all.
  const again = await open();
  await again.write(Buffer.from('after the restart\n'));
  await again.close();
  const all = (await files.readFile(logical)).toString();
  assert.ok(all.startsWith('line 0 of') && all.endsWith('line 40002 of the server\'s output\nafter the restart\n'));
  assert.equal(files.lastLogRead?.readBytes, all.length, 'a replaced log is read from its start');
  assert.ok((await fs.readFile(real)).length > 0);
});

test('an update whose new chunks are damaged, forged or reordered is the typed error, never their text; the next read checks everything again', async () => {
  const C = 1024;
  const { files, real, logical, open } = await setup(C);
  const log = await open();
  await log.write(Buffer.alloc(C, 'a'));
  await log.flush();
  assert.equal((await files.readFile(logical)).toString(), 'a'.repeat(C));
  const shownAt = (await fs.stat(real)).size;
  await log.write(Buffer.concat([Buffer.alloc(C, 'b'), Buffer.alloc(C, 'c')])); // two full chunks, written at once
  await log.abandon(); // no writer left: nothing to wait for at the tail
  const file = await fs.readFile(real);
  const frame = C + CHUNK_FRAME_OVERHEAD;
  assert.equal(file.length, shownAt + 2 * frame);
  // Reordered: the two new chunks swapped.
  const swapped = Buffer.concat([file.subarray(0, shownAt), file.subarray(shownAt + frame), file.subarray(shownAt, shownAt + frame)]);
  await fs.writeFile(real, swapped);
  await assert.rejects(files.readFile(logical), (e: Error & { code?: string }) => e.code === 'CORRUPTED' && !/bbbb|cccc/.test(e.message));
  assert.equal(files.heldLogViews, 0, 'what was kept is dropped: the next read starts over');
  // A forged partial frame after the authentic ones.
  await fs.writeFile(real, Buffer.concat([file, Buffer.from([FRAME_PARTIAL, 0, 0, 0, 5]), Buffer.alloc(5 + 16, 7)]));
  await assert.rejects(files.readFile(logical), (e: Error & { code?: string }) => e.code === 'CORRUPTED');
  // Back to the authentic bytes: everything shows again, read from the start.
  await fs.writeFile(real, file);
  assert.equal((await files.readFile(logical)).toString(), 'a'.repeat(C) + 'b'.repeat(C) + 'c'.repeat(C));
});

test('a log its writer left unfinished opens with what was sealed and says so; a closed log cut at a chunk boundary is TRUNCATED', async () => {
  const C = 1024;
  const { files, real, logical, open } = await setup(C);
  const told: { real: string; sealedBytes: number }[] = [];
  files.onUnfinishedLog = (r, sealedBytes) => told.push({ real: r, sealedBytes });
  const log = await open();
  await log.write(Buffer.from('sealed before the crash\n'));
  await log.flush();
  await log.write(Buffer.from('still buffered: lost\n'));
  await log.abandon(); // as a crash: no final chunk; a stale lock stays beside the log
  assert.equal((await files.readFile(logical)).toString(), 'sealed before the crash\n');
  assert.deepEqual(told, [{ real, sealedBytes: 24 }]);
  // A crashed writer's own lock (its pid, now dead) says the same.
  await fs.writeFile(logLockPath(real), '999999999\n');
  files.forgetDecrypted();
  assert.equal((await files.readFile(logical)).toString(), 'sealed before the crash\n');
  assert.equal(told.length, 2);

  // Closed, then cut back to a chunk boundary (its final chunk removed): no writer's lock, so it is not a crash.
  const other = await setup(C);
  const closed = await other.open();
  await closed.write(Buffer.alloc(2 * C, 'x'));
  await closed.close();
  await assert.rejects(fs.stat(logLockPath(other.real)), { code: 'ENOENT' });
  const whole = await fs.readFile(other.real);
  other.files.onUnfinishedLog = (r, sealedBytes) => told.push({ real: r, sealedBytes });
  assert.equal((await other.files.readFile(other.logical)).length, 2 * C);
  // Two full chunks, then the final frame: an empty one (kind 01, length 0, tag: 21 bytes).
  await fs.writeFile(other.real, whole.subarray(0, whole.length - 21));
  await assert.rejects(other.files.readFile(other.logical), (e: Error & { code?: string }) => e.code === 'TRUNCATED' && /cut short/.test(e.message) && !/xxxx/.test(e.message));
  assert.equal(told.length, 2, 'not reported as unfinished');
  await fs.writeFile(other.real, whole);
  assert.equal((await other.files.readFile(other.logical)).length, 2 * C);
});
