// The worker alone (issue 11): notes written and read through the real worker bundle over IPC, as the
// extension's provider sends them, against a plain crash-safe write (temp file, fsync, rename, fsync of the
// folder) and a plain read of the same bytes, in the same run. What VS Code adds on top (workspace.fs, the
// editor's save) is `node scripts/bench.mjs provider`; the difference between the two is VS Code's share.
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TEST_KDF_POLICY } from '../../server/src/keys/kdf';
import { Keyring } from '../../server/src/keys/keyring';
import { createMessageConnection, IPCMessageReader, IPCMessageWriter } from 'vscode-jsonrpc/node';
import { Method } from '../../server/src/protocol';
import { WorkerProcess } from '../faults/workerProcess';
import { median, timed } from './stats';

const ROUNDS = 7;
const SIZES = [1024, 1 << 20, 8 << 20, 20 << 20];

/**
 * The plain crash-safe write, with synchronous calls (test/integration/bench's is asynchronous, as an
 * extension's would be; the synchronous one is about 0.6 ms faster at 1 KiB here, so the two figures differ).
 */
function plainWrite(file: string, data: Buffer): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try { fs.writeSync(fd, data); fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
  fs.renameSync(tmp, file);
  const dir = fs.openSync(path.dirname(file), 'r');
  try { fs.fsyncSync(dir); } finally { fs.closeSync(dir); }
}

/** A child on the worker's channel that does nothing with the bytes (ipcEcho.ts): the floor of any separate process. */
function startEcho(): { request: (method: string, params: unknown) => Promise<unknown>; stop: () => void } {
  const child = fork(path.join(__dirname, 'ipcEcho.js'), ['--node-ipc'], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const connection = createMessageConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
  connection.listen();
  return { request: (method, params) => connection.sendRequest(method, params), stop: () => { connection.dispose(); child.kill(); } };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-bench-worker-'));
  const keyfile = path.join(dir, 'keyfile.json');
  (await Keyring.init(keyfile, 'worker bench passphrase', { kdf: TEST_KDF_POLICY })).keyring.lock();
  const worker = await WorkerProcess.start({ keyfile });
  const echo = startEcho();
  try {
    await worker.request(Method.vaultUnlock, { passphrase: 'worker bench passphrase', remember: false });
    console.log(`Notes through the worker (IPC, encrypt, sign, temp file, fsync, rename) vs plain files; medians of ${ROUNDS}; load average ${os.loadavg()[0]!.toFixed(1)}\n`);
    console.log('| size | worker write | plain crash-safe write | ratio | worker read | plain read | ratio | IPC alone: write | read |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const size of SIZES) {
      const data = Buffer.alloc(size, 0x61);
      const note = path.join(dir, `note-${size}.md`);
      const plain = path.join(dir, `plain-${size}.md`);
      const w: number[] = [], pw: number[] = [], r: number[] = [], pr: number[] = [], ew: number[] = [], er: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        w.push(await timed(() => worker.request(Method.fsWriteFile, { path: note, data, create: true, overwrite: true })));
        pw.push(await timed(() => plainWrite(plain, data)));
        r.push(await timed(() => worker.request(Method.fsReadFile, { path: note })));
        pr.push(await timed(() => fs.readFileSync(plain)));
        ew.push(await timed(() => echo.request('echo/write', { data })));
        er.push(await timed(() => echo.request('echo/read', { size })));
      }
      const label = size >= 1 << 20 ? `${size >> 20} MiB` : `${size >> 10} KiB`;
      console.log(`| ${label} | ${median(w).toFixed(1)} ms | ${median(pw).toFixed(1)} ms | ${(median(w) / median(pw)).toFixed(1)}x | ${median(r).toFixed(1)} ms | ${median(pr).toFixed(1)} ms | ${(median(r) / median(pr)).toFixed(1)}x | ${median(ew).toFixed(1)} ms | ${median(er).toFixed(1)} ms |`);
    }
    console.log('\n"IPC alone": the same request to a child that does nothing with the bytes (test/bench/ipcEcho.ts), the floor of a separate process.');
  } finally {
    echo.stop();
    await worker.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch(e => { console.error(e); process.exit(1); });
