// `node scripts/bench.mjs logs` (issue 29): programs' files and logs.
//   1. `noteseal append` of a fast producer (100 MB of log lines through a pipe) vs `cat > file`, whole
//      processes, median of 3, with the appender's peak RSS.
//   2. The library's streams (createWriteStream / createReadStream, in this process) vs plain fs streams and
//      vs the CLI (`encrypt` / `decrypt -o`), NOTESEAL_BENCH_LIB_MIB of random bytes (default 1024 = 1 GiB);
//      target: the library at least 70 % of the CLI's throughput, memory flat (peak RSS growth printed).
//      Temp files live under os.tmpdir() (here /tmp, on disk: 1 GiB needs ~5 GiB free; not /dev/shm).
//   3. `loadEnv` of a 1 KiB .env.enc through the agent (`noteseal agent start`, production KDF) vs dotenvx's
//      own `config()` (the pinned @dotenvx/dotenvx) on the same variables in a .env that `dotenvx encrypt`
//      wrote (its .env.keys beside it); both in this process into a fresh object, the first call of each
//      (cold) and the median of NOTESEAL_BENCH_ROUNDS (default 11) interleaved calls after it.
//   4. The editor's live view of a sealed log (EncFileSystem.readFile, as VS Code calls it at each change)
//      of NOTESEAL_BENCH_VIEW_MIB (default 100) MiB of log lines: the first open, then an update after one
//      new line is sealed (median of 11), against reading and authenticating the whole log again (what each
//      update cost before the view kept its place: logs/reader.ts readLog from the start). In-process,
//      its own keyfile with the fast test KDF (no unlock in the figures).
//      NOTESEAL_BENCH_LOGS=view runs this part alone.
// Keys: a keyfile made for the run, unlocked from a passphrase file with the production KDF (unlock time is
// part of the CLI rows, once per process; the library unlocks once per stream, also counted).
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { median, timed } from './stats';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-bench-logs-'));
const f = (n: string) => path.join(dir, n);
const MiB = 1024 * 1024;

process.env.NOTESEAL_KEYFILE = f('keyfile.json');
process.env.NOTESEAL_PASSPHRASE_FILE = f('pass.txt');
process.env.NOTESEAL_AGENT_SOCK = f('no-agent.sock');
fs.writeFileSync(f('pass.txt'), 'benchmark passphrase\n', { mode: 0o600 });
execFileSync(process.execPath, [CLI, 'init'], { stdio: 'ignore' });

function sh(script: string): { ms: number; peakKiB?: number } {
  const timeFile = f('time.txt');
  const hasTime = fs.existsSync('/usr/bin/time');
  const t0 = performance.now();
  const r = hasTime
    ? spawnSync('/usr/bin/time', ['-f', '%M', '-o', timeFile, 'bash', '-c', script], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawnSync('bash', ['-c', script], { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${script}: ${r.stderr.toString()}`);
  return { ms, ...(hasTime ? { peakKiB: Number(fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop()) } : {}) };
}

function appendRows(): void {
  const size = 100 * 1000 * 1000;
  const lines: string[] = [];
  let n = 0;
  let bytes = 0;
  while (bytes < size) {
    const l = `2026-12-06T17:00:00.000Z INFO request ${++n} GET /api/items/${n % 977} 200 ${n % 113} ms\n`;
    lines.push(l);
    bytes += l.length;
  }
  fs.writeFileSync(f('lines.txt'), lines.join(''));
  const t: Record<string, number[]> = {};
  let peak = 0;
  for (let i = 0; i < 3; i++) {
    for (const p of ['out.log.enc', 'out.txt']) fs.rmSync(f(p), { force: true });
    const a = sh(`cat '${f('lines.txt')}' | '${process.execPath}' '${CLI}' append '${f('out.log.enc')}'`);
    (t['noteseal append'] ??= []).push(a.ms);
    peak = Math.max(peak, a.peakKiB ?? 0);
    (t['cat > file'] ??= []).push(sh(`cat '${f('lines.txt')}' | cat > '${f('out.txt')}'`).ms);
    fs.rmSync(f('empty.log.enc'), { force: true });
    (t['noteseal append of nothing (start, unlock)'] ??= []).push(sh(`'${process.execPath}' '${CLI}' append '${f('empty.log.enc')}' < /dev/null`).ms);
  }
  const mb = bytes / 1e6;
  for (const [k, v] of Object.entries(t)) console.log(`  ${k.padEnd(44)} ${median(v).toFixed(0).padStart(6)} ms${k.includes('nothing') ? '' : `  ${(mb / (median(v) / 1000)).toFixed(0).padStart(5)} MB/s`}`);
  const fixed = median(t['noteseal append of nothing (start, unlock)']!);
  console.log(`  append's own throughput (less start and unlock): ${(mb / ((median(t['noteseal append']!) - fixed) / 1000)).toFixed(0)} MB/s`);
  console.log(`  append / cat > file = ${(median(t['noteseal append']!) / median(t['cat > file']!)).toFixed(2)}${peak ? `; append peak RSS ${(peak / 1024).toFixed(0)} MiB` : ''}`);
}

async function libraryRows(): Promise<void> {
  const { createReadStream, createWriteStream } = await import('../../server/src/lib/index');
  const mib = Number(process.env.NOTESEAL_BENCH_LIB_MIB ?? 1024);
  const plain = f('plain.bin');
  const out = fs.openSync(plain, 'w');
  for (let i = 0; i < mib; i++) fs.writeSync(out, randomBytes(MiB));
  fs.closeSync(out);
  let peak = 0;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
  const t: Record<string, number[]> = {};
  const rec = (k: string, ms: number) => { (t[k] ??= []).push(ms); };
  const rssBefore = process.memoryUsage().rss;
  for (let i = 0; i < 3; i++) {
    for (const p of ['lib.enc', 'cli.enc', 'copy.bin']) fs.rmSync(f(p), { force: true });
    rec('write: fs streams (plain copy)', await timed(() => pipeline(fs.createReadStream(plain), fs.createWriteStream(f('copy.bin')))));
    rec('write: library createWriteStream', await timed(() => pipeline(fs.createReadStream(plain), createWriteStream(f('lib.enc')))));
    rec('write: noteseal encrypt', sh(`'${process.execPath}' '${CLI}' encrypt '${plain}' -o '${f('cli.enc')}'`).ms);
    rec('read: fs streams', await timed(() => pipeline(fs.createReadStream(f('copy.bin')), fs.createWriteStream('/dev/null'))));
    rec('read: library createReadStream', await timed(() => pipeline(createReadStream(f('lib.enc')), fs.createWriteStream('/dev/null'))));
    fs.rmSync(f('cli.out'), { force: true });
    rec('read: noteseal decrypt -o', sh(`'${process.execPath}' '${CLI}' decrypt '${f('cli.enc')}' -o '${f('cli.out')}'`).ms);
  }
  clearInterval(sampler);
  for (const [k, v] of Object.entries(t)) console.log(`  ${k.padEnd(40)} ${median(v).toFixed(0).padStart(6)} ms  ${(mib / (median(v) / 1000)).toFixed(0).padStart(5)} MiB/s`);
  for (const op of ['write', 'read']) {
    const lib = median(Object.entries(t).find(([k]) => k.startsWith(`${op}: library`))![1]);
    const cli = median(Object.entries(t).find(([k]) => k.startsWith(`${op}: noteseal`))![1]);
    const ratio = cli / lib;
    console.log(`  ${op}: library throughput / CLI = ${ratio.toFixed(2)} (target >= 0.70: ${ratio >= 0.7 ? 'met' : 'NOT met'})`);
  }
  console.log(`  library peak RSS growth over ${mib} MiB: ${((peak - rssBefore) / MiB).toFixed(0)} MiB (flat: independent of the size)`);
}

async function loadEnvRows(): Promise<void> {
  const { loadEnv } = await import('../../server/src/lib/index');
  const dotenvx = await import('@dotenvx/dotenvx');
  const text = Array.from({ length: 40 }, (_, i) => `KEY_${String(i).padStart(2, '0')}=${randomBytes(9).toString('hex')}`).join('\n').slice(0, 1023) + '\n';
  const expected = Object.fromEntries(text.trim().split('\n').map(l => l.split('=') as [string, string]));
  fs.mkdirSync(f('env'));
  fs.mkdirSync(f('dx'));
  fs.writeFileSync(f('env/.env'), text);
  execFileSync(process.execPath, [CLI, 'encrypt', f('env/.env')], { stdio: 'ignore' });
  fs.rmSync(f('env/.env'));
  fs.writeFileSync(f('dx/.env'), text);
  const dotenvxCli = path.join(ROOT, 'node_modules', '@dotenvx', 'dotenvx', 'src', 'cli', 'dotenvx.js');
  execFileSync(process.execPath, [dotenvxCli, 'encrypt', '-f', '.env'], { cwd: f('dx'), stdio: 'ignore', env: { PATH: process.env.PATH ?? '', HOME: dir } });
  if (fs.readFileSync(f('dx/.env'), 'utf8').includes(Object.values(expected)[0]!)) throw new Error('dotenvx encrypt left the values in plaintext');
  const agentEnv = { PATH: process.env.PATH ?? '', HOME: dir, NOTESEAL_KEYFILE: f('keyfile.json'), NOTESEAL_AGENT_SOCK: f('agent.sock') };
  execFileSync(process.execPath, [CLI, 'agent', 'start', '--idle-minutes', '0'], { env: { ...agentEnv, NOTESEAL_PASSPHRASE_FILE: f('pass.txt') }, stdio: 'ignore' });
  try {
    // No passphrase in the library's environment: the agent is the only key source.
    const viaAgent = async () => {
      const into: Record<string, string | undefined> = {};
      await loadEnv(f('env/.env.enc'), { env: agentEnv, processEnv: into });
      return into;
    };
    const viaDotenvx = async () => {
      const into: Record<string, string> = {};
      dotenvx.config({ path: f('dx/.env'), envKeysFile: f('dx/.env.keys'), processEnv: into, quiet: true, strict: true });
      return into;
    };
    const check = (what: string, got: Record<string, string | undefined>) => {
      for (const [k, v] of Object.entries(expected)) if (got[k] !== v) throw new Error(`${what} did not load ${k}`);
    };
    const cold = { loadEnv: 0, dotenvx: 0 };
    let got: Record<string, string | undefined> = {};
    cold.loadEnv = await timed(async () => { got = await viaAgent(); });
    check('loadEnv', got);
    cold.dotenvx = await timed(async () => { got = await viaDotenvx(); });
    check('dotenvx config()', got);
    const rounds = Number(process.env.NOTESEAL_BENCH_ROUNDS || 11);
    const t = { loadEnv: [] as number[], dotenvx: [] as number[] };
    for (let i = 0; i < rounds; i++) {
      t.loadEnv.push(await timed(viaAgent));
      t.dotenvx.push(await timed(viaDotenvx));
    }
    const row = (k: string, first: number, v: number[]) => console.log(`  ${k.padEnd(52)} first ${first.toFixed(1).padStart(6)} ms  median ${median(v).toFixed(2).padStart(6)} ms`);
    row(`loadEnv (${text.length}-byte .env.enc, through the agent)`, cold.loadEnv, t.loadEnv);
    row(`dotenvx config() (its own encrypted .env, ${Object.keys(expected).length} values)`, cold.dotenvx, t.dotenvx);
    console.log(`  loadEnv / dotenvx config() = ${(median(t.loadEnv) / median(t.dotenvx)).toFixed(2)} (median; < 1: loadEnv is faster)`);
  } finally {
    spawnSync(process.execPath, [CLI, 'agent', 'stop'], { env: agentEnv, stdio: 'ignore' });
  }
}

async function logViewRows(): Promise<void> {
  const { Keyring } = await import('../../server/src/keys/keyring');
  const { TEST_KDF_POLICY } = await import('../../server/src/keys/kdf');
  const { LogAppender } = await import('../../server/src/logs/appender');
  const { readLog } = await import('../../server/src/logs/reader');
  const { EncFileSystem } = await import('../../server/src/vault/encFileSystem');
  const mib = Number(process.env.NOTESEAL_BENCH_VIEW_MIB ?? 100);
  const { keyring } = await Keyring.init(f('view-keyfile.json'), 'benchmark passphrase', { kdf: TEST_KDF_POLICY });
  const files = new EncFileSystem({ unlocked: () => keyring } as never);
  const real = f('view.log.enc');
  const log = await LogAppender.open(real, { unwrap: keyring.unwrap.bind(keyring), newKeys: () => keyring.newFileStanzas(), flushMs: 60_000 });
  try {
    let n = 0;
    const piece = () => { const l: string[] = []; let b = 0; while (b < MiB) { const x = `2026-12-06T17:00:00.000Z INFO request ${++n} GET /api/items/${n % 977} 200\n`; l.push(x); b += x.length; } return Buffer.from(l.join('')); };
    for (let i = 0; i < mib; i++) await log.write(piece());
    await log.flush();
    const logical = f('view.log');
    const open = await timed(() => files.readFile(logical));
    const updates: number[] = [];
    const whole: number[] = [];
    for (let i = 0; i < 11; i++) {
      await log.write(Buffer.from(`2026-12-06T17:00:01.000Z INFO one more line ${i}\n`));
      await log.flush();
      updates.push(await timed(() => files.readFile(logical)));
      if (i % 4 === 0) whole.push(await timed(async () => { const parts: Buffer[] = []; await readLog(real, keyring.unwrap.bind(keyring), async p => { parts.push(Buffer.from(p)); }); Buffer.concat(parts); }));
    }
    console.log(`  first open of the ${mib} MiB log in the view              ${open.toFixed(0).padStart(6)} ms`);
    console.log(`  an update after one new line (the view, median of 11)     ${median(updates).toFixed(1).padStart(6)} ms (authenticated ${files.lastLogRead?.readBytes} bytes)`);
    console.log(`  reading the whole log again (each update before, median)  ${median(whole).toFixed(0).padStart(6)} ms`);
    console.log(`  update / whole re-read = ${(median(updates) / median(whole)).toFixed(3)}`);
  } finally {
    await log.close();
  }
}

async function main(): Promise<void> {
  try {
    if (process.env.NOTESEAL_BENCH_LOGS === 'view') {
      console.log(`the live view of a sealed log (${process.env.NOTESEAL_BENCH_VIEW_MIB ?? 100} MiB): an update vs reading it all again`);
      await logViewRows();
      return;
    }
    console.log('loadEnv through the agent vs dotenvx config() (1 KiB)');
    await loadEnvRows();
    console.log('noteseal append (100 MB of log lines through a pipe) vs cat > file');
    appendRows();
    console.log(`library streams vs fs streams vs the CLI (${process.env.NOTESEAL_BENCH_LIB_MIB ?? 1024} MiB)`);
    await libraryRows();
    console.log(`the live view of a sealed log (${process.env.NOTESEAL_BENCH_VIEW_MIB ?? 100} MiB): an update vs reading it all again`);
    await logViewRows();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch(e => { console.error(e); process.exit(1); });
