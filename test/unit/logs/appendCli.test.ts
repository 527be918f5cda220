// Not in the Windows lane (test/unit/logs/): Unix signals, setsid and a pipe between two real processes.
// `noteseal append` and `noteseal cat [--follow]` (issue 29), through the built CLI: a real server process
// piped into `append` and killed with SIGKILL mid-stream, read back (every sealed line, in order, nothing
// torn, nothing in plaintext on disk), continued after the crash; one writer at a time; foreign logs refused.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const canary = `canary-${randomBytes(8).toString('hex')}`;
const control = `control-${randomBytes(8).toString('hex')}`;
const started = Date.now();

let dir: string;

interface Run { code: number | null; stdout: string; stderr: string }

function env(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '', HOME: home, NOTESEAL_TEST_FAST_KDF: '1',
    NOTESEAL_KEYFILE: path.join(home, 'config', 'keyfile.json'), NOTESEAL_PASSPHRASE_FILE: path.join(home, 'pass.txt'),
  };
}

function cli(args: string[], opts: { home?: string; stdin?: string } = {}): ChildProcess {
  // setsid (detached): no terminal to prompt on.
  return spawn(process.execPath, [CLI, ...args], { cwd: dir, detached: true, env: env(opts.home ?? dir), stdio: ['pipe', 'pipe', 'pipe'] });
}

function finish(child: ChildProcess, stdin?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr?.on('data', (b: Buffer) => { err += b.toString(); });
    child.on('error', reject);
    child.on('close', code => resolve({ code, stdout: out, stderr: err.split('\n').filter(l => l && !l.includes('NOTESEAL_TEST_FAST_KDF')).join('\n') }));
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

const run = (args: string[], opts: { home?: string; stdin?: string } = {}) => finish(cli(args, opts), opts.stdin ?? '');

const waitFor = async (what: string, cond: () => boolean | Promise<boolean>, ms = 30_000) => {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 50));
  }
};

async function makeHome(name: string): Promise<string> {
  const home = path.join(dir, name);
  fs.mkdirSync(home, { recursive: true });
  fs.writeFileSync(path.join(home, 'pass.txt'), `passphrase of ${name}\n`, { mode: 0o600 });
  const init = await run(['init'], { home });
  assert.equal(init.code, 0, init.stderr);
  return home;
}

/** Every file under `roots` (only those modified since the test began, for shared folders) holding `needle` raw, as UTF-16 or base64. */
function filesHolding(needle: string, roots: { dir: string; since?: number }[]): string[] {
  const raw = Buffer.from(needle);
  const forms = [raw, Buffer.from(needle, 'utf16le'), ...[0, 1, 2].map(j => Buffer.from(raw.subarray(j, j + Math.floor((raw.length - j) / 3) * 3).toString('base64')))];
  const hits: string[] = [];
  const walk = (d: string, since?: number) => {
    let entries: fs.Dirent[];
    try { entries = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) { walk(p, since); continue; }
      if (!e.isFile()) continue;
      try {
        const st = fs.statSync(p);
        if ((since !== undefined && st.mtimeMs < since) || st.size > 64 * 1024 * 1024) continue;
        const buf = fs.readFileSync(p);
        if (forms.some(f => buf.includes(f))) hits.push(p);
      } catch { /* gone meanwhile */ }
    }
  };
  for (const r of roots) walk(r.dir, r.since);
  return hits;
}

before(async () => {
  if (process.env.NOTESEAL_WINE !== '1') execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'pipe' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-logs-'));
  fs.mkdirSync(path.join(dir, 'config'));
  fs.writeFileSync(path.join(dir, 'pass.txt'), 'passphrase of the server\n', { mode: 0o600 });
  const init = await run(['init']);
  assert.equal(init.code, 0, init.stderr);
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A small server: numbered lines as fast as the pipe takes them; every 50 ms its progress (time, last line number; no canary) to a side file. */
const SERVER = `
const fs = require('node:fs');
const [progress, canary] = [process.argv[2], process.env.CANARY];
let n = 0;
function burst() {
  let ok = true;
  for (let k = 0; k < 200 && ok; k++) ok = process.stdout.write('line ' + (++n) + ' ' + canary + ' ' + 'x'.repeat(n % 50) + '\\n');
  if (ok) setTimeout(burst, 2); else process.stdout.once('drain', burst);
}
setInterval(() => fs.appendFileSync(progress, Date.now() + ' ' + n + '\\n'), 50);
burst();
`;

const lineFor = (i: number) => `line ${i} ${canary} ${'x'.repeat(i % 50)}`;

describe('noteseal append: a server killed mid-stream', () => {
  it('SIGKILL: every line sealed before the kill reads back in order, nothing torn, no plaintext on disk; the next append recovers it', async () => {
    const server = path.join(dir, 'server.js');
    fs.writeFileSync(server, SERVER);
    const progress = path.join(dir, 'progress.txt');
    const log = path.join(dir, 'logs', 'server.log.enc');
    fs.mkdirSync(path.dirname(log));
    // `./server 2>&1 | noteseal append logs/server.log.enc`, as two real processes joined by a real pipe.
    const srv = spawn(process.execPath, [server, progress], { cwd: dir, env: { ...env(dir), CANARY: canary }, stdio: ['ignore', 'pipe', 'inherit'] });
    const app = spawn(process.execPath, [CLI, 'append', 'logs/server.log.enc'], { cwd: dir, env: env(dir), stdio: [srv.stdout!, 'ignore', 'pipe'] });
    let appErr = '';
    app.stderr!.on('data', (b: Buffer) => { appErr += b.toString(); });
    const exited = (c: ChildProcess) => new Promise<void>(resolve => { if (c.exitCode !== null || c.signalCode !== null) resolve(); else c.once('exit', () => resolve()); });
    // Running for a while, and readable while it runs (`cat` of a log being written: what is sealed, exit 0).
    let during = 0;
    await waitFor('sealed lines while the server runs', async () => {
      if (!fs.existsSync(log)) return false;
      const r = await run(['cat', 'logs/server.log.enc']);
      assert.equal(r.code, 0, r.stderr);
      during = r.stdout.split('\n').length - 1;
      return during >= 3000;
    });
    await new Promise(r => setTimeout(r, 2500)); // a few more seconds of flushes
    const killedAt = Date.now();
    app.kill('SIGKILL');
    srv.kill('SIGKILL');
    await Promise.all([exited(app), exited(srv)]);
    assert.equal(app.signalCode, 'SIGKILL', appErr);

    // Read back: no final chunk and nobody writing: what was sealed, and exit 4 with the reason.
    const r = await run(['cat', 'logs/server.log.enc']);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /was not closed cleanly.*whatever it had not sealed yet is lost/);
    const text = r.stdout;
    const lines = text.split('\n');
    const last = lines.pop()!; // after the last newline: a line cut where the last chunk was sealed (a prefix), or ''
    assert.ok(lines.length >= during, `${lines.length} lines after the kill, ${during} seen before it`);
    lines.forEach((l, i) => { if (l !== lineFor(i + 1)) assert.fail(`line ${i + 1} is ${JSON.stringify(l.slice(0, 80))}`); });
    assert.ok(lineFor(lines.length + 1).startsWith(last), 'the text after the last newline is the start of the next line');
    // A crash loses at most the last second: every line the server had written 2.5 s before the kill is there
    // (1 s is the promise; the margin is for a loaded machine's scheduling, not for the appender).
    const progressLines = fs.readFileSync(progress, 'utf8').trim().split('\n').map(l => l.split(' ').map(Number) as [number, number]);
    const before = progressLines.filter(([t]) => t <= killedAt - 2500).pop();
    assert.ok(before, 'progress recorded');
    assert.ok(lines.length >= before[1], `line ${before[1]} was written 2.5 s before the kill; the log has ${lines.length}`);

    // No plaintext line anywhere on disk: the test folder and whatever changed in the temp folder since the
    // test began. The planted control (in both) proves the search finds what is there.
    fs.writeFileSync(path.join(dir, 'control.txt'), `${control}\n`);
    const tmpControl = path.join(os.tmpdir(), `noteseal-logs-control-${process.pid}`);
    fs.writeFileSync(tmpControl, Buffer.from(control, 'utf16le'));
    try {
      const roots = [{ dir }, { dir: os.tmpdir(), since: started }];
      const found = filesHolding(control, roots);
      assert.ok(found.includes(path.join(dir, 'control.txt')) && found.includes(tmpControl), `the control is found: ${found.join(', ')}`);
      assert.deepEqual(filesHolding(canary, roots), []);
    } finally {
      fs.rmSync(tmpControl, { force: true });
    }

    // decrypt gives the same sealed text and says the log was not closed cleanly (exit 4), to stdout and to -o.
    const dec = await run(['decrypt', 'logs/server.log.enc']);
    assert.equal(dec.code, 4, dec.stderr);
    assert.match(dec.stderr, /server\.log\.enc was not closed cleanly.*whatever it had not sealed yet is lost/);
    assert.equal(dec.stdout, text);
    const decOut = await run(['decrypt', 'logs/server.log.enc', '-o', 'sealed.txt']);
    assert.equal(decOut.code, 4, decOut.stderr);
    assert.equal(fs.readFileSync(path.join(dir, 'sealed.txt'), 'utf8'), text);
    fs.rmSync(path.join(dir, 'sealed.txt'));
    // The same bytes without the crashed writer's lock: cut short, not a crash. decrypt shows nothing.
    fs.copyFileSync(path.join(dir, 'logs', 'server.log.enc'), path.join(dir, 'logs', 'cut.log.enc'));
    const cut = await run(['decrypt', 'logs/cut.log.enc']);
    assert.equal(cut.code, 4);
    assert.match(cut.stderr, /cut short/);
    assert.equal(cut.stdout, '');
    const cutCat = await run(['cat', 'logs/cut.log.enc']);
    assert.equal(cutCat.code, 4);
    assert.match(cutCat.stderr, /cut short/);
    fs.rmSync(path.join(dir, 'logs', 'cut.log.enc'));

    // The next run recovers it (and says so), then appends after it.
    const next = await run(['append', 'logs/server.log.enc'], { stdin: 'after the crash\n' });
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stderr, /server\.log\.enc was not closed .*recovered \d+ bytes.*appending after it/);
    const again = await run(['cat', 'logs/server.log.enc']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, text + 'after the crash\n');
    assert.equal((await run(['verify', 'logs/server.log.enc'])).code, 0);
  });
});

describe('noteseal append and cat: one writer, foreign logs, follow', () => {
  it('a second appender, and recover, are refused while the first runs; the log stays whole', async () => {
    const first = cli(['append', 'two.log.enc']);
    const done = finish(first);
    first.stdin!.write('from the first\n');
    await waitFor('the lock of the first', () => fs.existsSync(path.join(dir, '.two.log.enc.lock')));
    const second = await run(['append', 'two.log.enc'], { stdin: 'from the second\n' });
    assert.equal(second.code, 1);
    assert.match(second.stderr, /two\.log\.enc is in use by another NoteSeal process \(pid \d+/);
    const recover = await run(['recover', 'two.log.enc']); // nor is it recovered (replaced) under its writer
    assert.equal(recover.code, 1);
    assert.match(recover.stderr, /is being written \(by pid \d+/);
    first.stdin!.end('still the first\n');
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await run(['cat', 'two.log.enc'])).stdout, 'from the first\nstill the first\n');
    assert.match((await run(['inspect', 'two.log.enc'])).stdout, /append mode +yes \(a log: noteseal append\)/);
  });

  it('a log of another key, a sealed file and a log with bytes after its end are refused and left byte for byte', async () => {
    const other = await makeHome('other');
    const theirs = await run(['append', path.join(dir, 'theirs.log.enc')], { home: other, stdin: 'their line\n' });
    assert.equal(theirs.code, 0, theirs.stderr);
    const notes = await run(['encrypt', '-', '-o', 'notes.enc'], { stdin: 'a note\n' });
    assert.equal(notes.code, 0, notes.stderr);
    assert.equal((await run(['append', 'grown.log.enc'], { stdin: 'ours\n' })).code, 0);
    fs.appendFileSync(path.join(dir, 'grown.log.enc'), 'written by something else\n');
    for (const [file, code, why] of [['theirs.log.enc', 2, /key/], ['notes.enc', 1, /not a log/], ['grown.log.enc', 4, /bytes follow the final chunk/]] as const) {
      const before = fs.readFileSync(path.join(dir, file));
      const r = await run(['append', file], { stdin: 'must not land\n' });
      assert.equal(r.code, code, `${file}: ${r.stderr}`);
      assert.match(r.stderr, why);
      assert.deepEqual(fs.readFileSync(path.join(dir, file)), before, file);
    }
    assert.equal((await run(['cat', 'notes.enc'])).stdout, 'a note\n'); // cat of a sealed file: as decrypt
    const follow = await run(['cat', '--follow', 'notes.enc']);
    assert.equal(follow.code, 1);
    assert.match(follow.stderr, /not a log/);
  });

  it('cat --follow shows each line once it is sealed (within a second), across a new append, and ends cleanly on SIGTERM', async () => {
    const writer = cli(['append', 'live.log.enc']);
    const written = finish(writer);
    writer.stdin!.write('first\n');
    await waitFor('the log', () => fs.existsSync(path.join(dir, 'live.log.enc')));
    const follower = cli(['cat', '--follow', 'live.log.enc']);
    const followed = finish(follower);
    let shown = '';
    follower.stdout!.on('data', (b: Buffer) => { shown += b.toString(); });
    await waitFor('the first line', () => shown === 'first\n'); // sealed by the 1 s timer, the writer still open
    writer.stdin!.write('second, in two ');
    writer.stdin!.write('pieces\n');
    await waitFor('the second line', () => shown === 'first\nsecond, in two pieces\n');
    writer.stdin!.end();
    assert.equal((await written).code, 0);
    assert.equal((await run(['append', 'live.log.enc'], { stdin: 'third, by the next run\n' })).code, 0);
    await waitFor('the next run', () => shown === 'first\nsecond, in two pieces\nthird, by the next run\n');
    follower.kill('SIGTERM');
    const r = await followed;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'first\nsecond, in two pieces\nthird, by the next run\n');
  });
});
