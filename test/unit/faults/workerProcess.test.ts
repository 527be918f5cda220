// The test harness ends what it starts (issue 23): a worker SIGKILLed mid-recording orphans its capture tool,
// and WorkerProcess.stop() must end that tool too (the worker runs in its own process group). Before, the kill
// loops left `ramp-capture` processes running after `npm test`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Keyring } from '../../../server/src/keys/keyring';
import { TEST_KDF_POLICY } from '../../../server/src/keys/kdf';
import { Method } from '../../../server/src/protocol';
import { WorkerProcess } from '../../faults/workerProcess';

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

describe('WorkerProcess', () => {
  it('stop() ends the capture tool a SIGKILLed worker left behind', async t => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-orphan-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const keyfile = path.join(dir, 'keyfile.json');
    (await Keyring.init(keyfile, 'orphan test passphrase', { kdf: TEST_KDF_POLICY })).keyring.lock();
    // A capture tool that writes a little audio, then goes quiet: it never meets EPIPE, so it never notices its reader died.
    const pidFile = path.join(dir, 'tool.pid');
    const tool = path.join(dir, 'quiet-capture');
    fs.writeFileSync(tool, `#!${process.execPath}\nrequire('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));\nprocess.stdout.write(Buffer.alloc(64000));\nsetInterval(() => {}, 1000);\n`);
    fs.chmodSync(tool, 0o755);
    const worker = await WorkerProcess.start({ keyfile });
    let toolPid = 0;
    t.after(() => { if (toolPid && alive(toolPid)) process.kill(toolPid, 'SIGKILL'); });
    try {
      await worker.request(Method.vaultUnlock, { passphrase: 'orphan test passphrase', remember: false });
      await worker.request(Method.recordingStart, { folder: path.join(dir, 'meetings'), title: 'orphan', captureCommand: tool });
      for (let i = 0; i < 100 && !fs.existsSync(pidFile); i++) await sleep(50);
      toolPid = Number(fs.readFileSync(pidFile, 'utf8'));
      worker.kill();
      await worker.exited;
      await sleep(200);
      assert.ok(alive(toolPid), 'the SIGKILL of the worker alone orphaned the tool (the case this test is about)');
    } finally {
      await worker.stop();
    }
    for (let i = 0; i < 40 && alive(toolPid); i++) await sleep(50);
    assert.equal(alive(toolPid), false, `the capture tool (pid ${toolPid}) still runs after stop()`);
  });
});
