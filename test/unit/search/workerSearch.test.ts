// The real worker bundle (dist/worker.js) searching with a pattern that backtracks for ever: the match runs in
// the worker's matcher thread, so a save and a lock sent meanwhile are answered at once, and the lock ends the
// search with LOCKED (before, the match blocked the worker: no save, no lock, no auto-lock, keys kept).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Keyring } from '../../../server/src/keys/keyring';
import { TEST_KDF_POLICY } from '../../../server/src/keys/kdf';
import { Method } from '../../../server/src/protocol';
import { WorkerProcess, workerError } from '../../faults/workerProcess';

const PASSPHRASE = 'runaway search passphrase';

describe('a runaway search in the real worker', () => {
  let dir: string;
  let worker: WorkerProcess;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-runaway-'));
    const keyfile = path.join(dir, 'keyfile.json');
    (await Keyring.init(keyfile, PASSPHRASE, { kdf: TEST_KDF_POLICY })).keyring.lock();
    worker = await WorkerProcess.start({ keyfile });
    await worker.request(Method.vaultUnlock, { passphrase: PASSPHRASE, remember: false });
  });
  after(async () => { await worker?.stop(); fs.rmSync(dir, { recursive: true, force: true }); });

  it('does not hold up a save or a lock, and the lock ends it with LOCKED', async () => {
    const ws = path.join(dir, 'ws');
    fs.mkdirSync(ws);
    const write = (name: string, text: string) => worker.request(Method.fsWriteFile, { path: path.join(ws, name), data: Buffer.from(text), create: true, overwrite: true });
    await write('slow.md', `${'a'.repeat(48)}b\n`);
    const search = workerError(worker.request(Method.searchStart, { id: 1, query: { pattern: '(a+)+$', isRegex: true, matchCase: false, wholeWord: false }, roots: [ws] }));
    await new Promise(r => setTimeout(r, 500));
    let t0 = performance.now();
    await write('other.md', 'saved while the search runs');
    assert.ok(performance.now() - t0 < 2000, `the save was answered (${Math.round(performance.now() - t0)} ms)`);
    t0 = performance.now();
    await worker.request(Method.vaultLock, undefined);
    assert.ok(performance.now() - t0 < 2000, `the lock was answered (${Math.round(performance.now() - t0)} ms)`);
    assert.equal((await search).code, 'LOCKED');
  });
});
