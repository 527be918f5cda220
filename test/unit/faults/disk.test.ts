// Full, read-only and denied disks (issue 15, item 2), for real: a 1 MiB tmpfs mounted by the test (remounted
// read-only for the second case) and a folder another Unix user cannot write. The worker is the real bundle
// (dist/worker.js) run standalone; recordings and rotation use the same modules in this process.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decryptBuffer, decryptFileToBuffer, isNoteSealError, recoverFile } from '../../../server/src/crypto/format';
import { Keyring } from '../../../server/src/keys/keyring';
import { TEST_KDF_POLICY } from '../../../server/src/keys/kdf';
import { Method } from '../../../server/src/protocol';
import { Recorder, type RecordingResult } from '../../../server/src/recording/recorder';
import { syntheticCaptureCommand } from '../../../server/src/recording/syntheticSource';
import { parseWavHeader } from '../../../server/src/recording/wav';
import { canMount, fillDisk, mountTmpfs, tempSiblings, unprivilegedUser } from '../../faults/disks';
import { WorkerProcess, workerError } from '../../faults/workerProcess';

const PASSPHRASE = 'fault test passphrase';
const skip = canMount();
let keyDir: string;
let keyfile: string;
let keyring: Keyring;
let worker: WorkerProcess;

const write = (p: string, data: Buffer) => worker.request(Method.fsWriteFile, { path: p, data, create: true, overwrite: true });
const plainOf = async (encPath: string) => (await decryptFileToBuffer(encPath, keyring.unwrap)).toString();

describe('full, read-only and denied disks', { skip: skip ?? false }, () => {
  before(async () => {
    keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-faults-keys-'));
    keyfile = path.join(keyDir, 'keyfile.json');
    ({ keyring } = await Keyring.init(keyfile, PASSPHRASE, { kdf: TEST_KDF_POLICY }));
    worker = await WorkerProcess.start({ keyfile });
    await worker.request(Method.vaultUnlock, { passphrase: PASSPHRASE, remember: false });
  });
  after(async () => {
    await worker?.stop();
    keyring?.lock();
    fs.rmSync(keyDir, { recursive: true, force: true });
  });

  it('a save on a full disk fails with "disk full", the old file intact and no temp sibling left', async t => {
    const disk = mountTmpfs(t, '1m');
    const note = path.join(disk.dir, 'note.md');
    await write(note, Buffer.from('the old text'));
    fillDisk(disk.dir);
    const err = await workerError(write(note, Buffer.alloc(50_000, 0x61)));
    assert.match(err.message, /^The disk is full \(.*note\.md\.enc\): nothing was written, the old file is intact\.$/);
    assert.equal(err.code, 'Unavailable');
    assert.equal(await plainOf(note + '.enc'), 'the old text');
    assert.deepEqual(tempSiblings(disk.dir), []);
    // The worker is fine: once there is room, the same save succeeds.
    fs.rmSync(path.join(disk.dir, 'filler.bin'));
    await write(note, Buffer.from('the new text'));
    assert.equal(await plainOf(note + '.enc'), 'the new text');
  });

  it('a save on a read-only file system fails with "read-only", the old file intact, nothing left behind', async t => {
    const disk = mountTmpfs(t, '1m');
    const note = path.join(disk.dir, 'note.md');
    await write(note, Buffer.from('the old text'));
    const before = fs.readdirSync(disk.dir);
    disk.readOnly();
    const err = await workerError(write(note, Buffer.from('the new text')));
    assert.match(err.message, /^The file system is read-only \(.*note\.md\.enc\): nothing was written\.$/);
    assert.equal(err.code, 'NoPermissions');
    assert.equal(await plainOf(note + '.enc'), 'the old text');
    assert.deepEqual(fs.readdirSync(disk.dir), before);
  });

  it('a save into a folder the worker\'s user cannot write fails with "permission denied"', async t => {
    const user = unprivilegedUser();
    if (!user) { t.skip('no unprivileged user (nobody)'); return; }
    // The other user's own keyfile (same passphrase): readable and writable by it, nothing else.
    const theirKeys = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-faults-other-'));
    const started: WorkerProcess[] = [];
    // The worker goes first: after an unlock it may still be writing its recovery key into theirKeys.
    t.after(async () => { for (const w of started) await w.stop(); fs.rmSync(theirKeys, { recursive: true, force: true }); });
    const theirKeyfile = path.join(theirKeys, 'keyfile.json');
    fs.copyFileSync(keyfile, theirKeyfile);
    fs.chownSync(theirKeys, user.uid, user.gid);
    fs.chownSync(theirKeyfile, user.uid, user.gid);
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-faults-denied-'));
    t.after(() => fs.rmSync(ws, { recursive: true, force: true }));
    fs.chmodSync(ws, 0o755); // root's folder: others may look, not write
    const note = path.join(ws, 'note.md');
    await write(note, Buffer.from('the old text'));
    fs.chmodSync(note + '.enc', 0o644);
    const other = await WorkerProcess.start({ keyfile: theirKeyfile, uid: user.uid, gid: user.gid, env: { HOME: theirKeys } });
    started.push(other);
    await other.request(Method.vaultUnlock, { passphrase: PASSPHRASE, remember: false });
    const err = await workerError(other.request(Method.fsWriteFile, { path: note, data: Buffer.from('the new text'), create: true, overwrite: true }));
    assert.match(err.message, /^Permission denied \(.*note\.md\.enc\): nothing was written\.$/);
    assert.equal(err.code, 'NoPermissions');
    assert.equal(await plainOf(note + '.enc'), 'the old text');
    assert.deepEqual(tempSiblings(ws), []);
  });

  it('Encrypt Folder on a full disk stops at the first file that does not fit and says what was done', async t => {
    const disk = mountTmpfs(t, '1m');
    const folder = path.join(disk.dir, 'plain');
    fs.mkdirSync(folder);
    const names = Array.from({ length: 12 }, (_, i) => `file-${String(i).padStart(2, '0')}.txt`);
    for (const [i, n] of names.entries()) fs.writeFileSync(path.join(folder, n), Buffer.alloc(60_000, 0x41 + i));
    const token = 'full-disk-folder';
    const result = await worker.request(Method.folderEncrypt, { path: folder, token, deletePlaintext: false });
    assert.ok(result.encrypted >= 1 && result.encrypted < names.length, `encrypted ${result.encrypted}`);
    assert.equal(result.failed.length, 1);
    assert.match(result.failed[0]!.message, /^The disk is full/);
    assert.equal(result.stopped?.reason, 'disk');
    assert.equal(result.stopped?.notAttempted, names.length - result.encrypted - 1);
    for (const [i, n] of names.entries()) {
      const plain = path.join(folder, n);
      assert.ok(fs.readFileSync(plain).equals(Buffer.alloc(60_000, 0x41 + i)), `${n}: the original is untouched`);
      const done = i < result.encrypted;
      assert.equal(fs.existsSync(plain + '.enc'), done, `${n}.enc exists iff it was reported done`);
      if (done) assert.ok((await decryptFileToBuffer(plain + '.enc', keyring.unwrap)).equals(Buffer.alloc(60_000, 0x41 + i)));
    }
    assert.deepEqual(tempSiblings(disk.dir), []);
    assert.equal(worker.progressOf(token).at(-1)?.done, result.encrypted);
  });

  it('a recording that fills the disk stops by itself, says so, and keeps what was sealed', async t => {
    const disk = mountTmpfs(t, '1m');
    const filler = fillDisk(disk.dir, 320 * 1024);
    const rec = new Recorder({ keys: keyring, folder: disk.dir, capture: syntheticCaptureCommand({ realtime: false, signal: 'ramp' }) });
    const stopped = new Promise<RecordingResult>(resolve => rec.on('stopped', resolve));
    const started = await rec.start({ title: 'full disk' });
    const result = await stopped;
    const openFds = () => fs.readdirSync('/proc/self/fd').map(fd => { try { return fs.readlinkSync(`/proc/self/fd/${fd}`); } catch { return ''; } });
    assert.ok(!openFds().includes(started.path), 'the recording file is still open after the recording ended');
    assert.equal(result.endedBy, 'failed');
    assert.match(result.error?.message ?? '', /The disk is full.*The recording stopped; the audio sealed until then is kept and can be recovered\./);
    // What was sealed is on disk and authentic: recovery (once there is room) keeps every complete chunk.
    fs.rmSync(filler);
    await assert.rejects(decryptBuffer(fs.readFileSync(started.path), keyring.unwrap), (e: unknown) => isNoteSealError(e, 'UNFINISHED'));
    const recovered = await recoverFile(started.path, keyring.unwrap);
    assert.ok(recovered.plaintextBytes >= 100 * 1024, `kept ${recovered.plaintextBytes} bytes`);
    const wav = await decryptBuffer(fs.readFileSync(started.path), keyring.unwrap);
    assert.equal(parseWavHeader(wav).sampleRate, 16000);
    for (let i = 44; i + 1 < wav.length; i += 2) if (wav.readInt16LE(i) !== ((i - 44) / 2) % 32768) assert.fail(`sample at ${i} is not the ramp`);
    assert.deepEqual(tempSiblings(disk.dir), []);
  });

  it('rotate on a full disk leaves every file readable, with the old key and the new keyfile', async t => {
    const disk = mountTmpfs(t, '1m');
    const own = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-faults-rotate-'));
    t.after(() => fs.rmSync(own, { recursive: true, force: true }));
    const ownKeyfile = path.join(own, 'keyfile.json');
    const { keyring: rk } = await Keyring.init(ownKeyfile, PASSPHRASE, { kdf: TEST_KDF_POLICY });
    t.after(() => rk.lock());
    const { encryptBufferToFile } = await import('../../../server/src/crypto/format');
    const files: string[] = [];
    for (let i = 0; i < 30; i++) {
      const { dataKey, stanzas } = await rk.newFileStanzas();
      const f = path.join(disk.dir, `n${i}.md.enc`);
      await encryptBufferToFile(Buffer.alloc(20_000, i), f, dataKey, stanzas);
      files.push(f);
    }
    fillDisk(disk.dir);
    const result = await rk.rotate(disk.dir);
    assert.ok(result.files.failed.length > 0, 'the full disk made some rewraps fail');
    assert.ok(result.files.failed.every(f => /^The disk is full/.test(f.message)), JSON.stringify(result.files.failed[0]));
    const fresh = new Keyring(ownKeyfile, { kdf: TEST_KDF_POLICY });
    await fresh.unlock(PASSPHRASE);
    t.after(() => fresh.lock());
    for (const [i, f] of files.entries()) {
      assert.ok((await decryptFileToBuffer(f, fresh.unwrap)).equals(Buffer.alloc(20_000, i)), `${path.basename(f)} opens after the rotation`);
    }
    assert.deepEqual(tempSiblings(disk.dir), []);
  });

  it('rotate with the keyfile itself on a full disk fails before touching a file; the passphrase still opens it', async t => {
    const disk = mountTmpfs(t, '1m');
    const ownKeyfile = path.join(disk.dir, 'keys', 'keyfile.json');
    const { keyring: rk } = await Keyring.init(ownKeyfile, PASSPHRASE, { kdf: TEST_KDF_POLICY });
    t.after(() => rk.lock());
    const notes = path.join(disk.dir, 'notes');
    fs.mkdirSync(notes);
    const { encryptBufferToFile } = await import('../../../server/src/crypto/format');
    const { dataKey, stanzas } = await rk.newFileStanzas();
    await encryptBufferToFile(Buffer.from('a note'), path.join(notes, 'a.md.enc'), dataKey, stanzas);
    const keyfileBefore = fs.readFileSync(ownKeyfile);
    fillDisk(disk.dir);
    await assert.rejects(rk.rotate(notes), (e: NodeJS.ErrnoException) => e.code === 'ENOSPC');
    assert.ok(fs.readFileSync(ownKeyfile).equals(keyfileBefore), 'the keyfile is unchanged');
    const fresh = new Keyring(ownKeyfile, { kdf: TEST_KDF_POLICY });
    await fresh.unlock(PASSPHRASE);
    t.after(() => fresh.lock());
    assert.equal((await decryptFileToBuffer(path.join(notes, 'a.md.enc'), fresh.unwrap)).toString(), 'a note');
    assert.deepEqual(tempSiblings(disk.dir), []);
  });
});

describe('Encrypt Folder cancel', () => {
  it('Cancel stops before the next file: the files done stay encrypted, the rest are untouched', async t => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-faults-cancel-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const kf = path.join(dir, 'keyfile.json');
    const { keyring: k } = await Keyring.init(kf, PASSPHRASE, { kdf: TEST_KDF_POLICY });
    t.after(() => k.lock());
    const w = await WorkerProcess.start({ keyfile: kf });
    t.after(() => w.stop());
    await w.request(Method.vaultUnlock, { passphrase: PASSPHRASE, remember: false });
    const folder = path.join(dir, 'plain');
    fs.mkdirSync(folder);
    const total = 600;
    for (let i = 0; i < total; i++) fs.writeFileSync(path.join(folder, `f${i}.txt`), `file ${i}`);
    const token = 'cancel-me';
    const running = w.request(Method.folderEncrypt, { path: folder, token, deletePlaintext: false });
    while (w.progressOf(token).length < 10) await new Promise(r => setTimeout(r, 5));
    await w.request(Method.folderCancel, { token });
    const result = await running;
    assert.equal(result.stopped?.reason, 'cancelled');
    assert.ok(result.encrypted >= 9 && result.encrypted < total, `encrypted ${result.encrypted}`);
    assert.equal(result.encrypted + result.stopped!.notAttempted, total);
    const encs = fs.readdirSync(folder).filter(n => n.endsWith('.enc'));
    assert.equal(encs.length, result.encrypted);
    for (const n of encs) assert.match((await decryptFileToBuffer(path.join(folder, n), k.unwrap)).toString(), /^file \d+$/);
    assert.equal(fs.readdirSync(folder).filter(n => n.endsWith('.txt')).length, total);
  });
});
