// `node scripts/bench.mjs age`: NoteSeal's age implementation against Debian's age in the same run.
//   1. 256 MiB through the CLI: `noteseal encrypt --age -r` vs `age -r`, `noteseal decrypt --identity` vs
//      `age -d -i` (X25519, whole processes, rounds interleaved, median of 3; target: no slower than age,
//      issue 26: printed met / NOT met), each with its CPU time (user+sys) and peak RSS (/usr/bin/time, max
//      over rounds), and the load average around the rows: on a shared machine the wall-time ratio moves
//      with the load, the CPU ratio much less. NoteSeal fsyncs what it writes (age does not), so the rows
//      that write a file also show age followed by an fsync of its output. NoteSeal streams age files, so
//      its peak stays flat whatever the file size (decrypt to stdout keeps at most 16 MiB, see docs/CLI.md).
//      Beside each NoteSeal row, in the same rounds, the runtime's ceiling (test/bench/ceiling.ts): the fastest
//      Node program we could write with no NoteSeal code (start, two threads, 256 KiB positioned reads,
//      ChaCha20-Poly1305 per 64 KiB chunk, pwritev, fsync where NoteSeal fsyncs; to stdout it verifies every
//      chunk before writing any, as NoteSeal must). A NOT met row whose target is above it says so.
//   2. Opening a 1 MiB note through the format interface: an age file (your identity, age1pq1) vs a .enc one.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encryptBuffer } from '../../server/src/crypto/format';
import { formatNamed, type KeysAtHand } from '../../server/src/formats';
import { hybridRecipient, sealAge } from '../../server/src/formats/age';
import { ageFileKeyFrom } from '../../server/src/formats/age-format';
import { generateIdentity } from '../../server/src/keys/identity';
import { randomKey } from '../../server/src/keys/bytes';
import { beyondCeiling, perRound, writeCeilingProgram } from './ceiling';
import { median, timed } from './stats';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-bench-age-'));
const f = (n: string) => path.join(dir, n);

const TIME = '/usr/bin/time';
const peaks: Record<string, number> = {};
const cpus: Record<string, number[]> = {};

/**
 * Wall ms of one whole process (plus an fsync of `fsyncAfter`, for age's output); its CPU time (user+sys, ms)
 * and peak RSS (KiB) kept per row when /usr/bin/time exists.
 */
function run(row: string, cmd: string, args: string[], fsyncAfter?: string): number {
  const timeFile = f('time.txt');
  const timing = fs.existsSync(TIME);
  const t0 = performance.now();
  const r = timing
    ? spawnSync(TIME, ['-f', '%M %U %S', '-o', timeFile, cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 20 })
    : spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 20 });
  if (fsyncAfter && r.status === 0) {
    const fd = fs.openSync(fsyncAfter, 'r');
    try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
  }
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.toString()}`);
  if (timing) {
    const [peak, user, sys] = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    peaks[row] = Math.max(peaks[row] ?? 0, peak!);
    (cpus[row] ??= []).push((user! + sys!) * 1000);
  }
  return ms;
}

const load = () => os.loadavg().map(x => x.toFixed(1)).join(' ');

/** The ceiling row that bounds each verdict row. */
const CEILING: Record<string, string> = {
  encrypt: 'encrypt: ceiling, Node with no NoteSeal code',
  decrypt: 'decrypt: ceiling, Node with no NoteSeal code',
  'decrypt to stdout': 'decrypt to stdout: ceiling, verify first',
};

async function cliRows(): Promise<void> {
  const size = 256 * 1024 * 1024;
  const plain = f('plain.bin');
  fs.writeFileSync(plain, randomBytes(size));
  execFileSync('age-keygen', ['-o', f('key.txt')], { stdio: 'ignore' });
  const pub = execFileSync('age-keygen', ['-y', f('key.txt')], { encoding: 'utf8' }).trim();
  const t: Record<string, number[]> = {};
  const rec = (k: string, cmd: string, args: string[], fsyncAfter?: string) => { (t[k] ??= []).push(run(k, cmd, args, fsyncAfter)); };
  const ceil = writeCeilingProgram(dir);
  const CHACHA = 'chacha20-poly1305';
  const loadBefore = load();
  for (let i = 0; i < 3; i++) {
    for (const p of ['n.age', 'a.age', 'c.age', 'c.out']) fs.rmSync(f(p), { force: true });
    rec('encrypt: noteseal encrypt --age', process.execPath, [CLI, 'encrypt', '--age', '-r', pub, plain, '-o', f('n.age')]);
    rec(CEILING.encrypt, process.execPath, [ceil, 'enc', CHACHA, plain, f('c.age')]);
    rec('encrypt: age -r', 'age', ['-r', pub, '-o', f('a.age'), plain]);
    fs.rmSync(f('a.age'));
    rec('encrypt: age -r, then fsync', 'age', ['-r', pub, '-o', f('a.age'), plain], f('a.age'));
    for (const p of ['n.out', 'a.out']) fs.rmSync(f(p), { force: true });
    rec('decrypt: noteseal decrypt --identity', process.execPath, [CLI, 'decrypt', '--identity', f('key.txt'), f('a.age'), '-o', f('n.out')]);
    rec(CEILING.decrypt, process.execPath, [ceil, 'dec', CHACHA, f('c.age'), f('c.out')]);
    rec('decrypt: age -d -i', 'age', ['-d', '-i', f('key.txt'), '-o', f('a.out'), f('n.age')]);
    fs.rmSync(f('a.out'));
    rec('decrypt: age -d -i, then fsync', 'age', ['-d', '-i', f('key.txt'), '-o', f('a.out'), f('n.age')], f('a.out'));
    rec('decrypt to stdout: noteseal decrypt', process.execPath, [CLI, 'decrypt', '--identity', f('key.txt'), f('a.age')]);
    rec(CEILING['decrypt to stdout'], process.execPath, [ceil, 'dec-stdout', CHACHA, f('c.age')]);
    rec('decrypt to stdout: ceiling, one pass (age\'s way)', process.execPath, [ceil, 'dec-stdout-1pass', CHACHA, f('c.age')]);
    rec('decrypt to stdout: age -d', 'age', ['-d', '-i', f('key.txt'), f('n.age')]);
  }
  const mib = size / 1024 / 1024;
  console.log(`  load average (1, 5, 15 min) before the rows: ${loadBefore}; after: ${load()}`);
  for (const [k, v] of Object.entries(t)) {
    const cpu = cpus[k] ? `  CPU ${median(cpus[k]).toFixed(0).padStart(5)} ms` : '';
    const peak = peaks[k] !== undefined ? `  peak RSS ${(peaks[k] / 1024).toFixed(0).padStart(4)} MiB` : '';
    console.log(`  ${k.padEnd(40)} ${median(v).toFixed(0).padStart(6)} ms  ${(mib / (median(v) / 1000)).toFixed(0).padStart(5)} MiB/s${cpu}${peak}`);
  }
  console.log('\nVerdict (issue 26: NoteSeal no slower than age, wall time, same run):');
  for (const op of ['encrypt', 'decrypt', 'decrypt to stdout']) {
    const row = (who: string) => Object.keys(t).find(k => k.startsWith(`${op}: ${who}`) && !k.endsWith('fsync'))!;
    const ratio = median(t[row('noteseal')]!) / median(t[row('age')]!);
    const synced = Object.keys(t).find(k => k.startsWith(`${op}: age`) && k.endsWith('fsync'));
    const vsSynced = synced ? `; vs age then fsync ${(median(t[row('noteseal')]!) / median(t[synced]!)).toFixed(2)}` : '';
    const cpu = cpus[row('noteseal')] && cpus[row('age')] ? `; CPU ratio ${(median(cpus[row('noteseal')]!) / median(cpus[row('age')]!)).toFixed(2)}` : '';
    // The ceiling's time over age's, per round (perRound gives age / ceiling speed, so invert).
    const speed = perRound(t[CEILING[op]]!, t[row('age')]!);
    const ceil = speed === undefined ? undefined : 1 / speed;
    const beyond = ratio <= 1 ? '' : beyondCeiling(ceil, 1, x => `${x.toFixed(2)}${x === 1 ? '' : ' (ceiling / age, per round)'}`, false);
    console.log(`  ${ratio <= 1 ? 'met    ' : 'NOT met'} ${op}: NoteSeal / age = ${ratio.toFixed(2)} (target <= 1.00${vsSynced}${cpu})${beyond}`);
    if (ceil !== undefined) console.log(`          ceiling (Node, no NoteSeal code) / age = ${ceil.toFixed(2)}; NoteSeal / ceiling = ${(median(t[row('noteseal')]!) / median(t[CEILING[op]]!)).toFixed(2)}`);
  }
}

async function openRows(): Promise<void> {
  const note = Buffer.from('x'.repeat(1024 * 1024));
  const me = generateIdentity('xwing');
  const ageBytes = sealAge(note, [hybridRecipient(me.receiving.publicKey)]);
  const dataKey = randomKey(32);
  const encBytes = encryptBuffer(note, dataKey, [{ type: 1, body: new Uint8Array(60) }]);
  const keys: KeysAtHand = {
    unwrap: () => new Uint8Array(dataKey),
    ageFileKey: async stanzas => ageFileKeyFrom([{ ...me.receiving, secretKey: new Uint8Array(me.receiving.secretKey) }], stanzas),
    filePassphrase: () => Promise.reject(new Error('no passphrase here')),
  };
  const rows: [string, Uint8Array, 'age' | 'enc'][] = [['open 1 MiB .age note (age1pq1)', ageBytes, 'age'], ['open 1 MiB .enc note', encBytes, 'enc']];
  const times: Record<string, number[]> = {};
  for (let i = 0; i < 30; i++) {
    for (const [name, bytes, fmt] of rows) (times[name] ??= []).push(await timed(() => formatNamed(fmt).open(bytes, keys, 'bench')));
  }
  for (const [k, v] of Object.entries(times)) console.log(`  ${k.padEnd(40)} ${median(v).toFixed(2).padStart(7)} ms`);
  console.log(`  .age / .enc open = ${(median(times[rows[0][0]]!) / median(times[rows[1][0]]!)).toFixed(2)} (the age open includes one ML-KEM-768 + X25519 decapsulation)`);
}

(async () => {
  console.log('age: NoteSeal\'s age format vs Debian age (same run)');
  try {
    await openRows();
    await cliRows();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
})().catch(e => { console.error(e); process.exitCode = 1; });
