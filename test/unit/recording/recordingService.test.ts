// The worker's RecordingService as two windows see it (issue 10, items 7, 8, 10): two services (two workers)
// on one folder and one keyfile; recording locks, recovery of only unlocked files, shred and export refusals.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { decryptBuffer, encryptBuffer } from '../../../server/src/crypto/format';
import { randomKey } from '../../../server/src/keys/bytes';
import { TEST_KDF_POLICY } from '../../../server/src/keys/kdf';
import { detachedStanza } from '../../../server/src/keys/stanzas';
import { Recorder } from '../../../server/src/recording/recorder';
import { RecordingService } from '../../../server/src/recording/recordingService';
import { WAV_HEADER_LENGTH } from '../../../server/src/recording/wav';
import { VaultService } from '../../../server/src/vault/vaultService';
import { fakeTool, newKeyring, PASSPHRASE, tempDir } from './helpers';

const BYTE_RATE = 32_000;
/** The lock beside a recording in progress (its name is a contract between windows and versions). */
const recordingLockPath = (file: string) => path.join(path.dirname(file), `.${path.basename(file)}.lock`);
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));
const noEvents = { level() {}, warning() {}, stopped() {} };
const noSecrets = { get: async () => null, store: async () => {}, delete: async () => {} };

/** One window's worker: its own vault (same keyfile) and recording service. */
async function window(keyfile: string): Promise<{ vault: VaultService; recordings: RecordingService }> {
  const vault = new VaultService(keyfile, noSecrets, TEST_KDF_POLICY);
  await vault.unlock(PASSPHRASE, false);
  return { vault, recordings: new RecordingService(vault, noEvents) };
}

async function setup(t: { after(fn: () => unknown): void }) {
  const dir = tempDir(t);
  const { keyring, keyfile } = await newKeyring(dir);
  const folder = path.join(dir, 'meetings');
  const tool = fakeTool(dir, 'fake-capture');
  return { dir, keyring, keyfile, folder, tool };
}

describe('RecordingService across windows', () => {
  it('one window records while another unlocks and tries to recover: nothing is lost', async t => {
    const { keyring, keyfile, folder, tool } = await setup(t);
    const a = await window(keyfile);
    const b = await window(keyfile);
    const started = await a.recordings.start({ folder, title: 'Live', captureCommand: tool, device: null });
    await sleep(1500);
    assert.deepEqual(await b.recordings.findUnfinished(folder), [], 'a file being recorded is not offered for recovery');
    await assert.rejects(b.recordings.recover(started.path), /in use by another NoteSeal process/);
    await assert.rejects(b.recordings.shred(started.path), /in use by another NoteSeal process/);
    await sleep(500);
    const summary = await a.recordings.stop(started.id);
    const plain = await decryptBuffer(await fs.readFile(started.path), keyring.unwrap);
    assert.equal(plain.length - WAV_HEADER_LENGTH, Math.round(summary.durationSeconds * BYTE_RATE), 'every captured byte is in the file');
    assert.ok(summary.durationSeconds > 1.5, `recorded ${summary.durationSeconds} s`);
    await assert.rejects(fs.access(recordingLockPath(started.path)), 'the lock is gone once the recording is closed');
    a.vault.lock(); b.vault.lock();
  });

  it('a recording whose worker died (stale lock) is found and recovered by another window', async t => {
    const { keyring, keyfile, folder, tool } = await setup(t);
    await fs.mkdir(folder);
    const rec = new Recorder({ keys: keyring, folder, captureOverride: tool });
    const { path: file } = await rec.start({ title: 'Crashed' });
    await sleep(1200);
    await rec.abandon();
    const child = spawn(process.execPath, ['-e', '']);
    await new Promise(resolve => child.on('exit', resolve));
    await fs.writeFile(recordingLockPath(file), `${child.pid}\n`);   // what a killed worker leaves behind
    const b = await window(keyfile);
    const found = await b.recordings.findUnfinished(folder);
    assert.deepEqual(found.map(f => f.path), [file]);
    const r = await b.recordings.recover(file);
    assert.ok(r.durationSeconds > 0.4, `recovered ${r.durationSeconds} s`);
    await assert.rejects(fs.access(recordingLockPath(file)), 'the stale lock was cleared');
    assert.deepEqual(await b.recordings.findUnfinished(folder), []);
    b.vault.lock();
  });

  it('shred destroys only the key that verifies the header: a crafted x.wav.enc naming others destroys nothing', async t => {
    const { keyring, keyfile, folder, tool } = await setup(t);
    const a = await window(keyfile);
    const started = await a.recordings.start({ folder, title: 'Victim', captureCommand: tool, device: null });
    await sleep(700);
    await a.recordings.stop(started.id);
    const victimId = (await keyring.verifiedDetachedKeyId(started.path));
    const crafted = path.join(folder, 'x.wav.enc');
    await fs.writeFile(crafted, encryptBuffer(Buffer.from('x'), randomKey(32), [detachedStanza(victimId)]));
    await assert.rejects(a.recordings.shred(crafted), /nothing was shredded/);
    assert.ok(await fs.stat(crafted), 'the crafted file stays too');
    const plain = await decryptBuffer(await fs.readFile(started.path), keyring.unwrap);
    assert.ok(plain.length > WAV_HEADER_LENGTH, 'the victim still decrypts');
    await a.recordings.shred(started.path);
    await assert.rejects(fs.access(started.path));
    a.vault.lock();
  });

  it('Export Recording refuses its own .wav.enc path and any .enc target', async t => {
    const { keyfile, folder, tool, dir } = await setup(t);
    const a = await window(keyfile);
    const started = await a.recordings.start({ folder, title: 'Export', captureCommand: tool, device: null });
    await sleep(700);
    await a.recordings.stop(started.id);
    const before = await fs.readFile(started.path);
    await assert.rejects(a.recordings.export(started.path, started.path), /does not end in \.enc/);
    await assert.rejects(a.recordings.export(started.path, path.join(dir, 'other.md.enc')), /does not end in \.enc/);
    const link = path.join(dir, 'alias.wav');
    await fs.link(started.path, link);
    await assert.rejects(a.recordings.export(started.path, link), /over the recording itself/);
    assert.deepEqual(await fs.readFile(started.path), before, 'the recording is untouched');
    await assert.rejects(fs.access(path.join(dir, 'other.md.enc')));
    const out = path.join(dir, 'out.wav');
    assert.ok((await a.recordings.export(started.path, out)).durationSeconds > 0.3);
    a.vault.lock();
  });
});

describe('RecordingService reads', () => {
  it('wipe the data keys unwrap handed out (player reads, describe, export)', async t => {
    const { dir, keyfile, folder, tool } = await setup(t);
    const a = await window(keyfile);
    const started = await a.recordings.start({ folder, title: 'Wipe', captureCommand: tool, device: null });
    await sleep(800);
    await a.recordings.stop(started.id);
    const handedOut: Uint8Array[] = [];
    const keyring = a.vault.unlocked();
    const spy: typeof keyring.unwrap = async stanzas => { const k = await keyring.unwrap(stanzas); handedOut.push(k); return k; };
    const reader = new RecordingService({ unlocked: () => ({ unwrap: spy }) } as unknown as VaultService, noEvents);
    const facts = await reader.describe(started.path);
    assert.ok(facts.dataBytes > 0);
    assert.equal((await reader.read(started.path, 0, 64)).length, 64);
    await reader.export(started.path, path.join(dir, 'out.wav'));
    assert.equal(handedOut.length, 3);
    assert.ok(handedOut.every(k => k.every(b => b === 0)), 'every data key is zeroed after its read');
    a.vault.lock();
  });
});
