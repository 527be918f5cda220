// Load (issue 15, item 4): a workspace of many .enc notes against the real worker bundle. Throughout, a probe
// sends `workerStatus` every 50 ms and records its latency: the worker must answer within 200 ms while it
// encrypts a folder (with progress, then Cancel, then the rest), reads every note, watches while thousands of
// .enc files change underneath (a git checkout), and while the CLI rotates all of them. Then two writers (two
// workers, and the CLI) on the same notes and keyfile: no torn or lost file, every write seen by the other
// worker's watcher (so the editor surfaces the conflict), no master key lost.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decryptFileToBuffer, encryptBufferToFile } from '../../server/src/crypto/format';
import { Keyring } from '../../server/src/keys/keyring';
import { TEST_KDF_POLICY } from '../../server/src/keys/kdf';
import { Method, type FileChange } from '../../server/src/protocol';
import { distDir } from './workerProcess';
import { WorkerProcess } from './workerProcess';

const PASS = 'load test passphrase';

export interface LoadFigures { lines: string[]; failures: string[] }

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Polls workerStatus every 50 ms until stopped; reports the latency distribution and the worker's peak RSS. */
function statusProbe(w: WorkerProcess) {
  const latencies: number[] = [];
  let peakRss = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      await w.request(Method.workerStatus, undefined);
      latencies.push(performance.now() - t0);
      peakRss = Math.max(peakRss, rssMiB(w.child.pid!));
      await new Promise(r => setTimeout(r, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const sorted = [...latencies].sort((a, b) => a - b);
      const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
      return { probes: sorted.length, median: q(0.5), p99: q(0.99), max: sorted.at(-1) ?? NaN, over200: sorted.filter(x => x > 200).length, peakRss };
    },
  };
}

type ProbeResult = Awaited<ReturnType<ReturnType<typeof statusProbe>['stop']>>;
const fmt = (r: ProbeResult) => `status ${r.probes} probes: median ${r.median.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(1)} ms, ${r.over200} over 200 ms; worker RSS peak ${r.peakRss.toFixed(0)} MiB`;

async function phase<T>(figures: LoadFigures, w: WorkerProcess, name: string, fn: () => Promise<T>): Promise<T> {
  const probe = statusProbe(w);
  const t0 = performance.now();
  const out = await fn();
  const r = await probe.stop();
  figures.lines.push(`${name.padEnd(44)} ${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s  ${fmt(r)}`);
  if (r.over200 > 0) figures.failures.push(`${name}: ${r.over200} status requests took over 200 ms (max ${r.max.toFixed(0)} ms)`);
  return out;
}

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<number | null> {
  const child = spawn(process.execPath, [path.join(distDir(), 'cli.js'), ...args], {
    stdio: ['ignore', 'ignore', 'ignore'], env: { PATH: process.env.PATH, HOME: process.env.HOME, NOTESEAL_TEST_FAST_KDF: '1', ...env },
  });
  return new Promise(resolve => child.once('exit', resolve));
}

export async function loadRun(notes: number): Promise<LoadFigures> {
  const figures: LoadFigures = { lines: [], failures: [] };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-load-'));
  const keyfile = path.join(dir, 'keys', 'keyfile.json');
  const passFile = path.join(dir, 'pass');
  fs.writeFileSync(passFile, PASS + '\n');
  const { keyring } = await Keyring.init(keyfile, PASS, { kdf: TEST_KDF_POLICY });
  const folder = path.join(dir, 'ws');
  const plain = (i: number) => path.join(folder, `d${i % 100}`, `note-${i}.md`);
  const text = (i: number, v = 0) => Buffer.from(`# note ${i} version ${v}\n${'some text of a note. '.repeat(20 + (i % 40))}\n`);
  let w: WorkerProcess | undefined;
  let other: WorkerProcess | undefined;
  try {
    for (let i = 0; i < notes; i++) {
      if (i % 100 === i) fs.mkdirSync(path.dirname(plain(i)), { recursive: true });
      fs.writeFileSync(plain(i), text(i));
    }
    const t0 = performance.now();
    w = await WorkerProcess.start({ keyfile });
    await w.request(Method.vaultUnlock, { passphrase: PASS, remember: false });
    figures.lines.push(`worker start + unlock: ${(performance.now() - t0).toFixed(0)} ms, RSS ${rssMiB(w.child.pid!).toFixed(0)} MiB`);

    // Encrypt Folder with progress; Cancel at a fifth; then the rest (the done ones are skipped as existing).
    const first = await phase(figures, w, `Encrypt Folder of ${notes}, cancelled at 1/5`, async () => {
      const running = w!.request(Method.folderEncrypt, { path: folder, token: 'load-1', deletePlaintext: true });
      while ((w!.progressOf('load-1').at(-1)?.done ?? 0) < notes / 5) await new Promise(r => setTimeout(r, 20));
      await w!.request(Method.folderCancel, { token: 'load-1' });
      return running;
    });
    if (first.stopped?.reason !== 'cancelled' || first.encrypted + first.stopped.notAttempted !== notes) figures.failures.push(`cancel: ${JSON.stringify({ ...first, failed: first.failed.length })}`);
    const rest = await phase(figures, w, `Encrypt Folder of the other ${notes - first.encrypted}`, () => w!.request(Method.folderEncrypt, { path: folder, token: 'load-2', deletePlaintext: true }));
    const progress = w.progressOf('load-1').length + w.progressOf('load-2').length;
    figures.lines.push(`  encrypted ${first.encrypted} + ${rest.encrypted}, ${rest.failed.length + first.failed.length} failed, ${progress} progress notifications`);
    if (first.encrypted + rest.encrypted !== notes || rest.failed.length) figures.failures.push('Encrypt Folder did not encrypt every note');

    // Read every note through the worker: memory must stay flat (nothing kept per file).
    const rssBefore = rssMiB(w.child.pid!);
    await phase(figures, w, `read all ${notes} notes`, async () => {
      for (let i = 0; i < notes; i++) {
        const data = Buffer.from((await w!.request(Method.fsReadFile, { path: plain(i) })).data);
        if (!data.equals(text(i))) { figures.failures.push(`note ${i} reads wrong`); break; }
      }
    });
    figures.lines.push(`  worker RSS before the reads ${rssBefore.toFixed(0)} MiB, after ${rssMiB(w.child.pid!).toFixed(0)} MiB`);

    // A git checkout changing half of them under recursive watchers (one per top folder, as VS Code asks).
    const events: FileChange[] = [];
    w.connection.onNotification(Method.fsDidChange, p => { events.push(...(p as { events: FileChange[] }).events); });
    for (let d = 0; d < 100; d++) await w.request(Method.fsWatch, { id: d, path: path.join(folder, `d${d}`), recursive: true });
    const changed = Math.floor(notes / 2);
    await phase(figures, w, `${changed} .enc files changed under watchers`, async () => {
      for (let i = 0; i < changed; i++) {
        const { dataKey, stanzas } = await keyring.newFileStanzas();
        await encryptBufferToFile(text(i, 1), plain(i) + '.enc', dataKey, stanzas);
        dataKey.fill(0);
      }
      const until = Date.now() + 20_000;
      while (new Set(events.map(e => e.path)).size < changed && Date.now() < until) await new Promise(r => setTimeout(r, 100));
    });
    const seen = new Set(events.map(e => e.path)).size;
    figures.lines.push(`  the watchers reported ${seen} of ${changed} changed notes (${events.length} events)`);
    if (seen < changed) figures.failures.push(`the watchers missed ${changed - seen} changed notes`);

    // The CLI rotates all of them while the worker keeps serving (and reading through the rotation).
    const code = await phase(figures, w, `CLI rotate of ${notes} files`, async () => {
      const rotating = cli(['rotate', folder], { NOTESEAL_KEYFILE: keyfile, NOTESEAL_PASSPHRASE_FILE: passFile });
      let reads = 0;
      let finished = false;
      void rotating.then(() => { finished = true; });
      while (!finished) {
        const i = reads++ % notes;
        const data = Buffer.from((await w!.request(Method.fsReadFile, { path: plain(i) })).data);
        if (!data.equals(text(i, i < changed ? 1 : 0))) figures.failures.push(`note ${i} read wrong during the rotation`);
      }
      figures.lines.push(`  the worker read ${reads} notes during the rotation`);
      return rotating;
    });
    if (code !== 0) figures.failures.push(`rotate exited ${code}`);

    // Two writers: a second worker and the CLI on the same notes and keyfile.
    other = await WorkerProcess.start({ keyfile });
    await other.request(Method.vaultUnlock, { passphrase: PASS, remember: false });
    const seenByOther: string[] = [];
    other.connection.onNotification(Method.fsDidChange, p => { seenByOther.push(...(p as { events: FileChange[] }).events.map(e => e.path)); });
    await other.request(Method.fsWatch, { id: 1, path: path.join(folder, 'd0'), recursive: true });
    const shared = [0, 100, 200, 300].map(plain);
    await phase(figures, w, 'two workers and the CLI on the same notes', async () => {
      // Each window saves one note at a time, as VS Code does; both at once, on the same notes.
      const writer = async (x: WorkerProcess, tag: string) => {
        for (let round = 0; round < 50; round++) {
          for (const p of shared) await x.request(Method.fsWriteFile, { path: p, data: Buffer.from(`${tag} ${round} ${p}`), create: true, overwrite: true });
        }
      };
      const passwd = cli(['passwd'], { NOTESEAL_KEYFILE: keyfile, NOTESEAL_PASSPHRASE_FILE: passFile, NOTESEAL_NEW_PASSPHRASE_FILE: passFile });
      await Promise.all([writer(w!, 'A'), writer(other!, 'B')]);
      if (await passwd !== 0) figures.failures.push('passwd during the writes failed');
      // While both write, a write superseded by the other window's is rightly not reported to it. Once the
      // second is idle, the first's next write must reach it (a dirty editor there then gets the conflict).
      seenByOther.length = 0;
      for (const p of shared) await w!.request(Method.fsWriteFile, { path: p, data: Buffer.from(`A last ${p}`), create: true, overwrite: true });
      await new Promise(r => setTimeout(r, 1000));
    });
    const fresh = new Keyring(keyfile, { kdf: TEST_KDF_POLICY });
    await fresh.unlock(PASS);
    for (const p of shared) {
      const got = (await decryptFileToBuffer(p + '.enc', fresh.unwrap)).toString();
      if (got !== `A last ${p}`) figures.failures.push(`${p}: torn or lost content`);
      if (!seenByOther.includes(p)) figures.failures.push(`${p}: the other worker's watcher never saw the first worker's writes`);
    }
    let opened = 0;
    for (let i = 0; i < notes; i += 97) { await decryptFileToBuffer(plain(i) + '.enc', fresh.unwrap); opened++; }
    fresh.lock();
    figures.lines.push(`  after the two writers: shared notes intact, each write seen by the other worker's watcher; the keyfile opens and ${opened} sampled notes open`);
  } finally {
    await w?.stop();
    await other?.stop();
    keyring.lock();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}
