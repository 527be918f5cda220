// Kill loops (issue 15, item 3): SIGKILL the real worker (dist/worker.js, standalone) or the CLI (dist/cli.js)
// at a random moment of an operation, then check everything it touched: every file opens, authentic, with
// its old or its new content (never torn), the keyfile opens with the old or the new passphrase, no master
// key or detached key is lost, and no file anywhere holds the plaintext being written (each run writes a
// fresh canary). Used by test/unit/faults/killLoops.test.ts (a few runs) and test/bench/soak.ts (the counts
// of the issue). The random moments come from a seeded PRNG, printed with the results.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decryptFileToBuffer, encryptBufferToFile, isNoteSealError, readHeaderFromFile, recoverFile } from '../../server/src/crypto/format';
import { Keyring, detachedKeyIdsOf } from '../../server/src/keys/keyring';
import { TEST_KDF_POLICY } from '../../server/src/keys/kdf';
import { keystoreDirFor } from '../../server/src/keys/keystore';
import { Method } from '../../server/src/protocol';
import { distDir } from './workerProcess';
import { WorkerProcess } from './workerProcess';
import { prng } from '../unit/crypto/helpers';

export interface KillStats {
  scenario: string;
  runs: number;
  /** SIGKILLs delivered while the operation was still running (the others found it done). */
  kills: number;
  filesChecked: number;
  failures: string[];
  seconds: number;
}

export function formatKillStats(s: KillStats): string {
  return `${s.scenario.padEnd(28)} ${String(s.runs).padStart(4)} runs  ${String(s.kills).padStart(4)} kills mid-operation  `
    + `${String(s.filesChecked).padStart(6)} files checked  ${s.failures.length} failures  ${s.seconds.toFixed(1)} s`;
}


const PASS_A = 'kill loop passphrase A';
const PASS_B = 'kill loop passphrase B';
const CLI = () => path.join(distDir(), 'cli.js');
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

interface Fixture { dir: string; keyfile: string; passFile: string; newPassFile: string; cleanup(): void }

async function fixture(name: string): Promise<Fixture & { keyring: Keyring }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `noteseal-kill-${name}-`));
  const keyfile = path.join(dir, 'keys', 'keyfile.json');
  const { keyring } = await Keyring.init(keyfile, PASS_A, { kdf: TEST_KDF_POLICY });
  const passFile = path.join(dir, 'pass');
  const newPassFile = path.join(dir, 'newpass');
  return { dir, keyfile, passFile, newPassFile, keyring, cleanup: () => { keyring.lock(); fs.rmSync(dir, { recursive: true, force: true }); } };
}

async function openKeyring(keyfile: string, passphrase = PASS_A): Promise<Keyring> {
  const k = new Keyring(keyfile, { kdf: TEST_KDF_POLICY });
  await k.unlock(passphrase);
  return k;
}

/** Every file below `dir` (recursively) that holds `canary`: plaintext on disk. */
function filesHolding(dir: string, canary: string): string[] {
  const needle = Buffer.from(canary);
  const out: string[] = [];
  for (const rel of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const p = path.join(dir, rel);
    let st: fs.Stats;
    try { st = fs.lstatSync(p); } catch { continue; }
    if (st.isFile() && fs.readFileSync(p).includes(needle)) out.push(p);
  }
  return out;
}

/** Kills `victim` after `delayMs`; resolves whether the operation was still running then. */
function killDuring(op: Promise<unknown>, kill: () => void, delayMs: number): Promise<{ midOperation: boolean }> {
  let done = false;
  op.then(() => { done = true; }, () => { done = true; });
  return new Promise(resolve => setTimeout(() => { const mid = !done; kill(); resolve({ midOperation: mid }); }, delayMs));
}

async function startWorker(keyfile: string, passphrase = PASS_A): Promise<WorkerProcess> {
  const w = await WorkerProcess.start({ keyfile });
  await w.request(Method.vaultUnlock, { passphrase, remember: false });
  return w;
}

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

function content(size: number, canary: string): Buffer {
  const b = Buffer.concat([Buffer.from(`${canary}\n`), randomBytes(Math.max(0, size - canary.length - 1))]);
  // The canary repeats through the file, so even a torn piece of plaintext would be found.
  for (let at = 4096; at + canary.length < b.length; at += 65_536) b.write(canary, at);
  return b.subarray(0, size);
}

// ---- 1. saves through the worker ---------------------------------------------------------------------

export async function saveKills(runs: number, seed: number): Promise<KillStats> {
  const stats: KillStats = { scenario: 'worker: note saves', runs: 0, kills: 0, filesChecked: 0, failures: [], seconds: 0 };
  const t0 = performance.now();
  const random = prng(seed);
  const fx = await fixture('save');
  const sizes = [200, 20_000, 300_000, 2_000_000, 6_000_000];
  const notes = sizes.map((_, i) => path.join(fx.dir, `note-${i}.md`));
  const current = new Map<string, Buffer>();
  let worker = await startWorker(fx.keyfile);
  try {
    const estimate = new Map<number, number>();
    for (const [i, size] of sizes.entries()) {
      const data = content(size, `CANARY-init-${i}`);
      estimate.set(size, await timed(() => worker.request(Method.fsWriteFile, { path: notes[i]!, data, create: true, overwrite: true })));
      current.set(notes[i]!, data);
    }
    for (let run = 0; run < runs; run++) {
      const i = Math.floor(random() * sizes.length);
      const note = notes[i]!;
      const canary = `CANARY-${randomBytes(8).toString('hex')}`;
      const next = content(sizes[i]!, canary);
      const op = worker.request(Method.fsWriteFile, { path: note, data: next, create: true, overwrite: true });
      let acknowledged = false;
      op.then(() => { acknowledged = true; }, () => undefined);
      const { midOperation } = await killDuring(op, () => worker.kill(), random() * 1.3 * (estimate.get(sizes[i]!)! + 5));
      await worker.exited;
      await worker.stop();
      stats.runs++;
      if (midOperation) stats.kills++;
      // The note: old or new, authentic; acknowledged means new.
      try {
        const got = await decryptFileToBuffer(note + '.enc', fx.keyring.unwrap);
        if (got.equals(next)) current.set(note, next);
        else if (acknowledged || !got.equals(current.get(note)!)) stats.failures.push(`save run ${run}: ${path.basename(note)} has neither its old nor its new content`);
      } catch (e) {
        stats.failures.push(`save run ${run}: ${path.basename(note)} does not open: ${(e as Error).message}`);
      }
      stats.filesChecked++;
      for (const f of filesHolding(fx.dir, canary)) stats.failures.push(`save run ${run}: plaintext on disk in ${path.basename(f)}`);
      worker = await startWorker(fx.keyfile);
      // The restarted worker reads every note (what VS Code would reopen).
      for (const n of notes) {
        const data = (await worker.request(Method.fsReadFile, { path: n })).data;
        if (!Buffer.from(data).equals(current.get(n)!)) stats.failures.push(`save run ${run}: the worker reads ${path.basename(n)} wrong`);
        stats.filesChecked++;
      }
    }
  } finally {
    await worker.stop();
    fx.cleanup();
  }
  stats.seconds = (performance.now() - t0) / 1000;
  return stats;
}

// ---- 2. Encrypt Folder through the worker --------------------------------------------------------------

export async function encryptFolderKills(runs: number, seed: number, files = 40): Promise<KillStats> {
  const stats: KillStats = { scenario: 'worker: Encrypt Folder', runs: 0, kills: 0, filesChecked: 0, failures: [], seconds: 0 };
  const t0 = performance.now();
  const random = prng(seed);
  const fx = await fixture('folder');
  const folder = path.join(fx.dir, 'plain');
  let worker = await startWorker(fx.keyfile);
  try {
    const originals = new Map<string, Buffer>();
    const reset = (run: number) => {
      fs.rmSync(folder, { recursive: true, force: true });
      fs.mkdirSync(path.join(folder, 'sub'), { recursive: true });
      originals.clear();
      for (let i = 0; i < files; i++) {
        const p = path.join(folder, i % 3 ? `f${i}.txt` : `sub/f${i}.env`);
        const data = content(500 + ((i * 7919) % 120_000), `CANARY-folder-${run}-${i}`);
        fs.writeFileSync(p, data);
        originals.set(p, data);
      }
    };
    reset(-1);
    const estimate = await timed(() => worker.request(Method.folderEncrypt, { path: folder, token: 'warmup', deletePlaintext: false }));
    for (let run = 0; run < runs; run++) {
      reset(run);
      const deletePlaintext = run % 2 === 1;
      const op = worker.request(Method.folderEncrypt, { path: folder, token: `run-${run}`, deletePlaintext });
      const { midOperation } = await killDuring(op, () => worker.kill(), random() * 1.2 * estimate);
      await worker.exited;
      await worker.stop();
      stats.runs++;
      if (midOperation) stats.kills++;
      for (const [p, data] of originals) {
        stats.filesChecked++;
        const hasPlain = fs.existsSync(p);
        const hasEnc = fs.existsSync(p + '.enc');
        if (hasPlain && !fs.readFileSync(p).equals(data)) stats.failures.push(`folder run ${run}: ${p} changed`);
        if (!hasPlain && !hasEnc) stats.failures.push(`folder run ${run}: ${p} is lost (neither plaintext nor .enc)`);
        if (!hasPlain && !deletePlaintext) stats.failures.push(`folder run ${run}: ${p} was deleted though not asked`);
        if (hasEnc) {
          try {
            if (!(await decryptFileToBuffer(p + '.enc', fx.keyring.unwrap)).equals(data)) stats.failures.push(`folder run ${run}: ${p}.enc is not its plaintext`);
          } catch (e) {
            stats.failures.push(`folder run ${run}: ${p}.enc does not open: ${(e as Error).message}`);
          }
        }
      }
      // The only plaintext on disk is the originals themselves (temp siblings are ciphertext).
      for (const [p] of originals) {
        const canary = fs.existsSync(p) ? null : `CANARY-folder-${run}-${[...originals.keys()].indexOf(p)}\n`;
        if (canary) for (const f of filesHolding(folder, canary)) stats.failures.push(`folder run ${run}: plaintext of a deleted original in ${f}`);
      }
      for (const f of fs.readdirSync(folder, { recursive: true }) as string[]) {
        if (/\.tmp-[0-9a-f]{12}$/.test(f) && fs.readFileSync(path.join(folder, f)).includes(Buffer.from('CANARY-'))) stats.failures.push(`folder run ${run}: plaintext in temp ${f}`);
      }
      worker = await startWorker(fx.keyfile);
    }
  } finally {
    await worker.stop();
    fx.cleanup();
  }
  stats.seconds = (performance.now() - t0) / 1000;
  return stats;
}

// ---- 3. recordings through the worker ------------------------------------------------------------------

/** A capture tool writing the ramp (sample n = n mod 32768) as fast as it is read; exits quietly on EPIPE. */
function rampTool(dir: string): string {
  const file = path.join(dir, 'ramp-capture');
  fs.writeFileSync(file, `#!${process.execPath}
process.stdout.on('error', () => process.exit(0));
process.on('SIGINT', () => process.exit(0)); process.on('SIGTERM', () => process.exit(0));
let n = 0;
const block = () => { const b = Buffer.alloc(8192); for (let i = 0; i < b.length; i += 2) b.writeInt16LE(n++ % 32768, i); return b; };
const pump = () => { while (process.stdout.write(block())) { if (n > 16000 * 600) return; } process.stdout.once('drain', pump); };
setTimeout(pump, 0);
setInterval(() => {}, 1000);
`);
  fs.chmodSync(file, 0o755);
  return file;
}

export async function recordingKills(runs: number, seed: number): Promise<KillStats> {
  const stats: KillStats = { scenario: 'worker: recordings', runs: 0, kills: 0, filesChecked: 0, failures: [], seconds: 0 };
  const t0 = performance.now();
  const random = prng(seed);
  const fx = await fixture('rec');
  const tool = rampTool(fx.dir);
  const keystore = keystoreDirFor(fx.keyfile);
  let worker = await startWorker(fx.keyfile);
  try {
    for (let run = 0; run < runs; run++) {
      const folder = path.join(fx.dir, `meetings-${run}`);
      const op = worker.request(Method.recordingStart, { folder, title: `run ${run}`, captureCommand: tool });
      // A third of the kills land while it starts, the rest while it records.
      if (run % 3 !== 0) await op.catch(() => undefined);
      const { midOperation } = await killDuring(op.then(() => sleep(5000)), () => worker.kill(), random() * (run % 3 ? 800 : 150));
      await worker.exited;
      await worker.stop();
      stats.runs++;
      if (midOperation) stats.kills++;
      const recs = fs.existsSync(folder) ? fs.readdirSync(folder).filter(n => n.endsWith('.wav.enc')) : [];
      for (const name of recs) {
        const p = path.join(folder, name);
        stats.filesChecked++;
        try {
          // A crash left it unfinished (or with its header only): recovery keeps every complete chunk.
          const ids = detachedKeyIdsOf((await readHeaderFromFile(p)).stanzas);
          for (const id of ids) if (!fs.existsSync(path.join(keystore, `${id}.key`))) stats.failures.push(`recording run ${run}: its detached key ${id} is lost`);
          await recoverFile(p, fx.keyring.unwrap);
          const wav = await decryptFileToBuffer(p, fx.keyring.unwrap);
          for (let i = 44; i + 1 < wav.length; i += 2) {
            if (wav.readInt16LE(i) !== ((i - 44) / 2) % 32768) { stats.failures.push(`recording run ${run}: sample at ${i} is not the ramp`); break; }
          }
        } catch (e) {
          // A kill between creating the file and writing its header leaves a file too short to be one.
          if (!(isNoteSealError(e, 'TRUNCATED') || isNoteSealError(e, 'NOT_NOTESEAL')) || fs.statSync(p).size > 2048) {
            stats.failures.push(`recording run ${run}: ${name}: ${(e as Error).message}`);
          }
        }
      }
      worker = await startWorker(fx.keyfile);
    }
  } finally {
    await worker.stop();
    fx.cleanup();
  }
  stats.seconds = (performance.now() - t0) / 1000;
  return stats;
}

// ---- 4 and 5. the CLI: rotate, passwd -------------------------------------------------------------------

function runCli(args: string[], env: NodeJS.ProcessEnv): { done: Promise<number | null>; kill(): void } {
  const child = spawn(process.execPath, [CLI(), ...args], {
    stdio: ['ignore', 'ignore', 'ignore'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NOTESEAL_TEST_FAST_KDF: '1', ...env },
  });
  return { done: new Promise(resolve => child.once('exit', code => resolve(code))), kill: () => child.kill('SIGKILL') };
}

export async function rotateKills(runs: number, seed: number, files = 200): Promise<KillStats> {
  const stats: KillStats = { scenario: 'CLI: rotate', runs: 0, kills: 0, filesChecked: 0, failures: [], seconds: 0 };
  const t0 = performance.now();
  const random = prng(seed);
  const fx = await fixture('rotate');
  fs.writeFileSync(fx.passFile, PASS_A + '\n');
  const folder = path.join(fx.dir, 'notes');
  fs.mkdirSync(folder);
  const expected = new Map<string, Buffer>();
  try {
    for (let i = 0; i < files; i++) {
      const { dataKey, stanzas } = await fx.keyring.newFileStanzas({ detached: i % 20 === 0 });
      const p = path.join(folder, `n${i}.md.enc`);
      const data = Buffer.from(`note ${i} `.repeat(1 + (i % 50) * 20));
      await encryptBufferToFile(data, p, dataKey, stanzas);
      dataKey.fill(0);
      expected.set(p, data);
    }
    const env = { NOTESEAL_KEYFILE: fx.keyfile, NOTESEAL_PASSPHRASE_FILE: fx.passFile };
    const first = runCli(['rotate', folder], env);
    const t = performance.now();
    if (await first.done !== 0) stats.failures.push('the first (uncut) rotate failed');
    const estimate = performance.now() - t;
    for (let run = 0; run < runs; run++) {
      const cli = runCli(['rotate', folder], env);
      const { midOperation } = await killDuring(cli.done, cli.kill, random() * 1.2 * estimate);
      await cli.done;
      stats.runs++;
      if (midOperation) stats.kills++;
      let keyring: Keyring | undefined;
      try {
        keyring = await openKeyring(fx.keyfile);
      } catch (e) {
        stats.failures.push(`rotate run ${run}: the keyfile does not open: ${(e as Error).message}`);
        continue;
      }
      await checkUnchanged(stats, `rotate run ${run}`, keyring, expected);
      keyring.lock();
    }
  } finally {
    fx.cleanup();
  }
  stats.seconds = (performance.now() - t0) / 1000;
  return stats;
}

export async function passwdKills(runs: number, seed: number): Promise<KillStats> {
  const stats: KillStats = { scenario: 'CLI: passphrase changes', runs: 0, kills: 0, filesChecked: 0, failures: [], seconds: 0 };
  const t0 = performance.now();
  const random = prng(seed);
  const fx = await fixture('passwd');
  const masterKeyId = fx.keyring.masterKeyId;
  const notes: [string, Buffer][] = [];
  try {
    for (let i = 0; i < 5; i++) {
      const { dataKey, stanzas } = await fx.keyring.newFileStanzas({ detached: i === 0 });
      const p = path.join(fx.dir, `n${i}.md.enc`);
      await encryptBufferToFile(Buffer.from(`note ${i}`), p, dataKey, stanzas);
      notes.push([p, Buffer.from(`note ${i}`)]);
    }
    let current = PASS_A;
    const change = (to: string) => {
      fs.writeFileSync(fx.passFile, current + '\n');
      fs.writeFileSync(fx.newPassFile, to + '\n');
      return runCli(['passwd'], { NOTESEAL_KEYFILE: fx.keyfile, NOTESEAL_PASSPHRASE_FILE: fx.passFile, NOTESEAL_NEW_PASSPHRASE_FILE: fx.newPassFile });
    };
    const t = performance.now();
    if (await change(PASS_B).done !== 0) stats.failures.push('the first (uncut) passwd failed');
    const estimate = performance.now() - t;
    current = PASS_B;
    for (let run = 0; run < runs; run++) {
      const next = current === PASS_A ? PASS_B : PASS_A;
      const cli = change(next);
      const { midOperation } = await killDuring(cli.done, cli.kill, random() * 1.2 * estimate);
      await cli.done;
      stats.runs++;
      if (midOperation) stats.kills++;
      let keyring: Keyring | undefined;
      for (const p of [next, current]) {
        try { keyring = await openKeyring(fx.keyfile, p); current = p; break; } catch { /* try the other */ }
      }
      stats.filesChecked++;
      if (!keyring) { stats.failures.push(`passwd run ${run}: the keyfile opens with neither passphrase`); continue; }
      if (keyring.masterKeyId !== masterKeyId) stats.failures.push(`passwd run ${run}: the master key changed`);
      await checkUnchanged(stats, `passwd run ${run}`, keyring, notes);
      keyring.lock();
    }
  } finally {
    fx.cleanup();
  }
  stats.seconds = (performance.now() - t0) / 1000;
  return stats;
}

/** Every file still opens with this keyring and holds exactly what it held before the run. */
async function checkUnchanged(stats: { filesChecked: number; failures: string[] }, label: string, keyring: Keyring, files: Iterable<[string, Buffer]>): Promise<void> {
  for (const [p, data] of files) {
    stats.filesChecked++;
    try {
      if (!(await decryptFileToBuffer(p, keyring.unwrap)).equals(data)) stats.failures.push(`${label}: ${p} changed`);
    } catch (e) {
      stats.failures.push(`${label}: ${path.basename(p)} does not open: ${(e as Error).message}`);
    }
  }
}
