// Crash-safe writes leave a temp sibling (`.name.tmp-xxxx`) while they run. A worker that is stopped mid-save
// (Restart Worker, VS Code closing, SIGTERM) removes its own; one killed outright (SIGKILL) leaves it, and the
// next write in that folder removes it once it is stale. The worker is the real bundle, run standalone.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decryptFileToBuffer } from '../../../server/src/crypto/format';
import { forgetSweptDir, removeTempSiblingsInFlight, replaceFileAtomic, STALE_TEMP_SIBLING_MS, sweepStaleTempSiblings, writeFileAtomic } from '../../../server/src/crypto/atomic';
import { Keyring } from '../../../server/src/keys/keyring';
import { TEST_KDF_POLICY } from '../../../server/src/keys/kdf';
import { Method } from '../../../server/src/protocol';
import { tempSiblings } from '../../faults/disks';
import { tempDir } from '../crypto/helpers';
import { WorkerProcess } from '../../faults/workerProcess';

const PASSPHRASE = 'temp sibling test passphrase';
let keyDir: string;
let keyfile: string;
let keyring: Keyring;

/** Starts a large save and resolves once its temp sibling exists (the save still running). */
async function saveInFlight(worker: WorkerProcess, note: string): Promise<void> {
  const data = Buffer.alloc(96 * 1024 * 1024, 0x61);
  void worker.request(Method.fsWriteFile, { path: note, data, create: true, overwrite: true }).catch(() => undefined);
  const deadline = Date.now() + 20_000;
  while (!tempSiblings(path.dirname(note)).length) {
    if (Date.now() > deadline) throw new Error('the save never created its temp sibling');
    await new Promise(r => setTimeout(r, 1));
  }
}

describe('temp siblings of crash-safe saves', () => {
  before(async () => {
    keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-temp-siblings-keys-'));
    keyfile = path.join(keyDir, 'keyfile.json');
    ({ keyring } = await Keyring.init(keyfile, PASSPHRASE, { kdf: TEST_KDF_POLICY }));
  });
  after(() => { keyring?.lock(); fs.rmSync(keyDir, { recursive: true, force: true }); });

  const stops: [string, (w: WorkerProcess) => Promise<void>][] = [
    ['SIGTERM', async w => w.kill('SIGTERM')],
    // What vscode-languageclient sends on Restart Worker and when the window closes.
    ['shutdown and exit', async w => { await w.connection.sendRequest('shutdown'); await w.connection.sendNotification('exit'); }],
  ];
  for (const [how, stop] of stops) {
    it(`a worker stopped mid-save (${how}) leaves no temp sibling, and the old note is intact`, async t => {
      const dir = tempDir(t);
      const note = path.join(dir, 'note.md');
      const worker = await WorkerProcess.start({ keyfile });
      try {
        await worker.request(Method.vaultUnlock, { passphrase: PASSPHRASE, remember: false });
        await worker.request(Method.fsWriteFile, { path: note, data: Buffer.from('the old text'), create: true, overwrite: true });
        await saveInFlight(worker, note);
        await stop(worker);
        await worker.exited;
      } finally { await worker.stop(); }
      assert.deepEqual(tempSiblings(dir), []);
      const text = (await decryptFileToBuffer(note + '.enc', keyring.unwrap)).toString();
      assert.ok(text === 'the old text' || text.length === 96 * 1024 * 1024, 'the note is its old or its new version');
    });
  }

  it('a stop that lands after the temp sibling is created, before this thread has heard so, still removes it', async t => {
    // The window CI hit: the file exists (the thread pool's open ran) while the open's completion still
    // waits in the event loop, and SIGTERM's handler runs first. Spinning here keeps that completion waiting.
    const dir = tempDir(t);
    let release!: () => void;
    const held = new Promise<void>(resolve => { release = resolve; });
    const write = replaceFileAtomic(path.join(dir, 'note.md.enc'), () => held, 0o600).catch(() => undefined); // a mode: the open starts at once
    const deadline = Date.now() + 10_000;
    while (!tempSiblings(dir).length) if (Date.now() > deadline) throw new Error('the temp sibling never appeared');
    removeTempSiblingsInFlight(); // what the worker's 'exit' handler runs
    assert.deepEqual(tempSiblings(dir), [], 'the stop removed the temp sibling it had not heard of yet');
    release();
    await write;
  });

  it('a worker killed mid-save (SIGKILL) leaves its temp sibling; the next save there removes it once stale', async t => {
    const dir = tempDir(t);
    const note = path.join(dir, 'note.md');
    let worker = await WorkerProcess.start({ keyfile });
    try {
      await worker.request(Method.vaultUnlock, { passphrase: PASSPHRASE, remember: false });
      await saveInFlight(worker, note);
      worker.kill('SIGKILL');
      await worker.exited;
    } finally { await worker.stop(); }
    const [left] = tempSiblings(dir);
    assert.ok(left, 'SIGKILL leaves the temp sibling (the control)');
    const old = new Date(Date.now() - STALE_TEMP_SIBLING_MS - 1000);
    fs.utimesSync(path.join(dir, left), old, old);
    worker = await WorkerProcess.start({ keyfile });
    try {
      await worker.request(Method.vaultUnlock, { passphrase: PASSPHRASE, remember: false });
      await worker.request(Method.fsWriteFile, { path: path.join(dir, 'other.md'), data: Buffer.from('x'), create: true, overwrite: true });
      const deadline = Date.now() + 5000;
      while (tempSiblings(dir).length && Date.now() < deadline) await new Promise(r => setTimeout(r, 20));
    } finally { await worker.stop(); }
    assert.deepEqual(tempSiblings(dir), []);
  });

  it('the sweep removes only stale temp siblings, never a fresh one (another writer may be using it) or other files', async t => {
    const dir = tempDir(t);
    const stale = ['.a.md.enc.tmp-0123456789ab', '.keyfile.json.tmp-ba9876543210'];
    const kept = ['.b.md.enc.tmp-aaaaaaaaaaaa', 'c.md.enc', '.d.tmp-xyz', 'e.tmp-0123456789ab'];
    const old = new Date(Date.now() - STALE_TEMP_SIBLING_MS - 1000);
    for (const n of [...stale, ...kept]) fs.writeFileSync(path.join(dir, n), 'ciphertext');
    for (const n of [...stale, 'c.md.enc', '.d.tmp-xyz', 'e.tmp-0123456789ab']) fs.utimesSync(path.join(dir, n), old, old);
    fs.mkdirSync(path.join(dir, '.f.md.enc.tmp-cccccccccccc'));
    forgetSweptDir(dir);
    const removed = await sweepStaleTempSiblings(dir);
    assert.deepEqual(removed.map(p => path.basename(p)).sort(), [...stale].sort());
    assert.deepEqual(fs.readdirSync(dir).sort(), [...kept, '.f.md.enc.tmp-cccccccccccc'].sort());
    // Once per folder: a second sweep does not read the folder again.
    fs.writeFileSync(path.join(dir, stale[0]!), 'again');
    fs.utimesSync(path.join(dir, stale[0]!), old, old);
    assert.deepEqual(await sweepStaleTempSiblings(dir), []);
    // A write in the folder sweeps it (first write there in this process).
    forgetSweptDir(dir);
    await writeFileAtomic(path.join(dir, 'g.md.enc'), Buffer.from('g'));
    const deadline = Date.now() + 5000;
    while (fs.existsSync(path.join(dir, stale[0]!)) && Date.now() < deadline) await new Promise(r => setTimeout(r, 10));
    assert.equal(fs.existsSync(path.join(dir, stale[0]!)), false);
  });
});
