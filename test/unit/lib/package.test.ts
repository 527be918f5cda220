// @noteseal/core as a program gets it (issue 29): packed by `npm run pack:lib`, installed from the tarball into a
// temporary project with no registry (`npm install --offline`), then used by real Node programs, ESM and CommonJS,
// with the keys a program has: a passphrase file, an age identity that is a member of the folder
// (NOTESEAL_IDENTITY, NOTESEAL_IDENTITY_FILE), and the agent. What the library writes, `noteseal decrypt` reads,
// and back. A TypeScript consumer compiles against the package's `exports` and `types`.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { collectOutput, ROOT, type Run } from '../agent/cliRunner';
import { errors, makePerson, type Person } from '../sharing/people';

let root: string;
let app: string;
let alice: Person;
let ciKeyFile: string;
let ciKey: string;
let ciRecipient: string;
const CANARY = 'DB_PASSWORD=lib-canary-7f3a';

/** Runs `code` as a program of the temporary project (file name `name`: .mjs or .cjs) as Alice, with `env` on top. */
async function program(name: string, code: string, env: Record<string, string> = {}): Promise<Run> {
  const file = path.join(app, name);
  await fs.writeFile(file, code);
  const child = spawn(process.execPath, [file], {
    cwd: app, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', NOTESEAL_TEST_FAST_KDF: '1', ...alice.env, ...env },
  });
  return collectOutput(child);
}

const withPass = () => ({ NOTESEAL_PASSPHRASE_FILE: path.join(alice.home, 'pass') });
/** A CI job: no keyfile, no agent, no passphrase; only the identity. */
const ciOnly = (env: Record<string, string>) => ({ NOTESEAL_KEYFILE: path.join(root, 'no-keyfile.json'), NOTESEAL_AGENT_SOCK: path.join(root, 'no-agent.sock'), ...env });

before(async () => {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'pipe' });
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'pack-lib.mjs')], { cwd: ROOT, stdio: 'pipe' });
  const version = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')).version as string;
  const tgz = path.join(ROOT, 'dist', `noteseal-core-${version}.tgz`);
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-lib-'));
  app = path.join(root, 'app');
  await fs.mkdir(app);
  await fs.writeFile(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  // No registry: the tarball carries everything it runs.
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tgz], {
    cwd: app, stdio: 'pipe', env: { ...process.env, npm_config_cache: path.join(root, 'npm-cache'), npm_config_registry: 'http://127.0.0.1:9/' },
  });
  // A repository: the folder's recipients list governs the files below it (outside one, only a file's own folder).
  execFileSync('git', ['init', '-q', app]);
  alice = await makePerson(root, 'alice');
  ciKeyFile = path.join(root, 'ci.key');
  execFileSync('age-keygen', ['-o', ciKeyFile], { stdio: 'pipe' });
  ciKey = (await fs.readFile(ciKeyFile, 'utf8')).split('\n').find(l => l.startsWith('AGE-SECRET-KEY-'))!;
  ciRecipient = execFileSync('age-keygen', ['-y', ciKeyFile], { encoding: 'utf8' }).trim();
  const add = await alice.cli(['recipients', 'add', ciRecipient, '--name', 'ci'], { cwd: app });
  assert.equal(add.code, 0, add.stderr);
  // The folder's config, written by Alice (signed, encrypted to her and to the CI key). Made here, not in a
  // suite's before(): node:test may start a suite's hooks before this one has finished.
  await fs.mkdir(path.join(app, 'config'), { recursive: true });
  await fs.writeFile(path.join(root, 'env'), `${CANARY}\n`);
  const enc = await alice.cli(['encrypt', path.join(root, 'env'), '-o', path.join(app, 'config', '.env.enc')], { cwd: app });
  assert.equal(enc.code, 0, enc.stderr);
});

after(async () => {
  await alice?.cli(['agent', 'stop']);
  if (!process.env.KEEP) await fs.rm(root, { recursive: true, force: true }); else console.log('ROOT', root);
});

describe('@noteseal/core, installed from its tarball', () => {
  it('is one package with no dependencies: CommonJS, ESM and types', async () => {
    const pkg = JSON.parse(await fs.readFile(path.join(app, 'node_modules', '@noteseal', 'core', 'package.json'), 'utf8'));
    assert.equal(pkg.name, '@noteseal/core');
    assert.equal(pkg.dependencies, undefined, 'everything it runs is bundled');
    assert.deepEqual(Object.keys(pkg.exports['.']), ['types', 'import', 'require']);
    assert.deepEqual(readdirSync(path.join(app, 'node_modules')).sort(), ['.package-lock.json', '@noteseal']);
  });

  it('ESM: writes, reads, ranges, streams and appends; the CLI decrypts what it wrote, and it reads what the CLI wrote', async () => {
    const plain = path.join(root, 'from-cli.txt');
    await fs.writeFile(plain, 'written by the CLI\n');
    const enc = await alice.cli(['encrypt', plain, '-o', path.join(app, 'from-cli.txt.enc')]);
    assert.equal(enc.code, 0, enc.stderr);
    const r = await program('esm.mjs', `
      import { writeFile, readFile, open, createReadStream, createWriteStream, recover, TruncatedError, UnfinishedError } from '@noteseal/core';
      import { copyFileSync, rmSync } from 'node:fs';
      import { pipeline } from 'node:stream/promises';
      import { Readable } from 'node:stream';
      const out = {};
      await writeFile('note.txt.enc', 'héllo from a program\\n');
      out.text = await readFile('note.txt.enc', 'utf8');
      const w = await open('data.bin.enc', 'w', { chunkSize: 4096 });
      for (let i = 0; i < 50; i++) await w.write(Buffer.alloc(1000, i));
      await w.close();
      const h = await open('data.bin.enc');
      out.size = await h.size();
      out.range = (await h.readRange(4999, 5001)).toString('hex');
      out.whole = (await h.read()).length;
      await h.close();
      await pipeline(Readable.from(['a', 'b', 'c']), createWriteStream('stream.enc'));
      let s = '';
      for await (const c of createReadStream('stream.enc', { encoding: 'utf8' })) s += c;
      out.stream = s;
      const a = await open('app.log.enc', 'a', { chunkSize: 1024 });
      await a.write('line 1\\n'); await a.appendFile('line 2\\n'); await a.close();
      out.log = await readFile('app.log.enc', 'utf8');
      const crash = await open('crash.log.enc', 'a', { chunkSize: 1024 });
      await crash.write('x'.repeat(2500)); await crash.abort();
      // Left unfinished (as a crash): readFile gives what was sealed and says so; open('r') refuses it.
      const warned = [];
      out.crashRead = await readFile('crash.log.enc', { encoding: 'utf8', onWarning: m => warned.push(m) });
      out.crashWarning = warned.filter(w => !w.includes('NOTESEAL_TEST_FAST_KDF')).join(' | ');
      try { await open('crash.log.enc'); } catch (e) { out.unfinished = e instanceof UnfinishedError && e.code; }
      // The same bytes without the lock a crash leaves: a log cut short, refused.
      copyFileSync('crash.log.enc', 'cut.log.enc');
      try { out.cut = await readFile('cut.log.enc', 'utf8'); } catch (e) { out.cut = e instanceof TruncatedError && e.code; }
      out.recovered = await recover('crash.log.enc');
      out.fromCli = await readFile('from-cli.txt.enc', 'utf8');
      rmSync('cut.log.enc');
      console.log(JSON.stringify(out));
    `, withPass());
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.text, 'héllo from a program\n');
    assert.equal(out.size, 50_000);
    assert.equal(out.range, '0405');
    assert.equal(out.whole, 50_000);
    assert.equal(out.stream, 'abc');
    assert.equal(out.log, 'line 1\nline 2\n');
    assert.equal(out.crashRead, 'x'.repeat(2048), 'the two sealed chunks; the 452 bytes not sealed are lost');
    assert.match(out.crashWarning, /crash\.log\.enc was not closed cleanly.*2048 bytes it had sealed; whatever it had not sealed yet is lost/);
    assert.equal(out.unfinished, 'UNFINISHED');
    assert.equal(out.cut, 'TRUNCATED');
    assert.deepEqual(out.recovered, { plaintextBytes: 2048, droppedBytes: out.recovered.droppedBytes });
    assert.equal(out.fromCli, 'written by the CLI\n');
    const dec = await alice.cli(['decrypt', 'note.txt.enc'], { cwd: app });
    assert.equal(dec.code, 0, dec.stderr);
    assert.equal(dec.stdout, 'héllo from a program\n');
    assert.equal(errors(dec), '', 'signed by Alice, as the CLI signs: no writer warning');
    const verified = await alice.cli(["verify", "data.bin.enc", "stream.enc", "app.log.enc"], { cwd: app });
    assert.equal(verified.code, 0, verified.stderr + verified.stdout);
    // Nothing in plaintext in the project folder (temporary siblings included).
    for (const f of readdirSync(app).filter(f => f.endsWith('.enc'))) {
      assert.ok(!(await fs.readFile(path.join(app, f))).includes('program'), `${f} holds no plaintext`);
    }
    assert.deepEqual(readdirSync(app).filter(f => f.includes('.tmp')), [], 'no temporary file left');
  });

  it("ESM 'a': continues a log the CLI wrote and one a crash left open (said through onWarning); flushMs seals without close; one writer at a time", async () => {
    const r = await program('logs.mjs', `
      import { open, readFile } from '@noteseal/core';
      import { execFileSync } from 'node:child_process';
      const cli = (args, input) => execFileSync(process.execPath, [process.env.NOTESEAL_CLI, ...args], { input, stdio: ['pipe', 'pipe', 'ignore'] }).toString();
      const out = { warnings: [] };
      const onWarning = m => out.warnings.push(m);
      cli(['append', 'cli.log.enc'], 'from the cli\\n');
      const a = await open('cli.log.enc', 'a', { onWarning });
      await a.write('from the library\\n');
      await a.close();
      out.continued = cli(['cat', 'cli.log.enc']);
      const live = await open('live.log.enc', 'a', { flushMs: 100, onWarning });
      await live.write('sealed before close\\n');
      try { await open('live.log.enc', 'a'); } catch (e) { out.second = e.code; }
      for (let i = 0; i < 300 && !out.live; i++) {
        out.live = cli(['cat', 'live.log.enc']);
        if (!out.live) await new Promise(r => setTimeout(r, 100));
      }
      await live.write('never sealed');
      await live.abort(); // as a crash: the last write was not sealed yet
      const again = await open('live.log.enc', 'a', { onWarning });
      await again.write('after the crash\\n');
      await again.close();
      out.after = await readFile('live.log.enc', 'utf8');
      console.log(JSON.stringify(out));
    `, { ...withPass(), NOTESEAL_CLI: path.join(ROOT, 'dist', 'cli.js') });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.continued, 'from the cli\nfrom the library\n');
    assert.equal(out.second, 'INVALID_ARGUMENT');
    assert.equal(out.live, 'sealed before close\n');
    assert.equal(out.after, 'sealed before close\nafter the crash\n');
    const warnings = out.warnings.filter((w: string) => !w.includes('NOTESEAL_TEST_FAST_KDF'));
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /live\.log\.enc was not closed .*recovered 20 bytes/);
  });

  it('CommonJS: the same package through require(), with typed errors', async () => {
    const r = await program('cjs.cjs', `
      const core = require('@noteseal/core');
      (async () => {
        const out = {};
        await core.writeFile('cjs.txt.enc', Buffer.from('from require'));
        out.text = await core.readFile('cjs.txt.enc', 'utf8');
        const bad = require('fs').readFileSync('cjs.txt.enc'); bad[bad.length - 3] ^= 1;
        require('fs').writeFileSync('bad.enc', bad);
        try { await core.readFile('bad.enc'); } catch (e) { out.bad = [e instanceof core.CorruptedError, e instanceof core.NoteSealError, e.code]; }
        try { await core.readFile('missing.enc'); } catch (e) { out.missing = e.code; }
        try { await core.open('x.enc', 'rw'); } catch (e) { out.flags = e.code; }
        console.log(JSON.stringify(out));
      })().catch(e => { console.error(e); process.exit(1); });
    `, withPass());
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.text, 'from require');
    assert.deepEqual(out.bad, [true, true, 'CORRUPTED']);
    assert.equal(out.missing, 'ENOENT');
    assert.equal(out.flags, 'USAGE');
    const dec = await alice.cli(['decrypt', 'cjs.txt.enc'], { cwd: app });
    assert.equal(dec.stdout, 'from require');
  });

  it('a failed write leaves the old file and no temporary file', async () => {
    const r = await program('abort.mjs', `
      import { writeFile, createWriteStream, readFile } from '@noteseal/core';
      await writeFile('keep.enc', 'old version');
      const s = createWriteStream('keep.enc');
      s.write('new version, never finished');
      await new Promise(r => setTimeout(r, 50));
      s.on('error', () => {});
      s.destroy(new Error('the producer failed'));
      await new Promise(r => s.on('close', r));
      console.log(await readFile('keep.enc', 'utf8'));
    `, withPass());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'old version');
    assert.deepEqual(readdirSync(app).filter(f => f.includes('.tmp')), []);
  });
});

describe('loadEnv in a real program, with each key a program can have', () => {
  const loader = (opts = '') => `
    const { loadEnv } = require('@noteseal/core');
    loadEnv('config/.env.enc'${opts}).then(r => console.log(JSON.stringify({ env: process.env.DB_PASSWORD, parsed: r.parsed })),
      e => { console.log(JSON.stringify({ error: e.code, name: e.name, message: e.message })); });
  `;

  it('through a passphrase file', async () => {
    const r = await program('env-pass.cjs', loader(), withPass());
    assert.deepEqual(JSON.parse(r.stdout), { env: 'lib-canary-7f3a', parsed: { DB_PASSWORD: 'lib-canary-7f3a' } });
  });

  it('through NOTESEAL_IDENTITY and NOTESEAL_IDENTITY_FILE (an age-keygen key that is a member of the folder), with no keyfile', async () => {
    // A machine with no keyfile has accepted no recipients list: it cannot tell Alice's write from anyone's, and says so.
    const refused = JSON.parse((await program('env-ci.cjs', loader(), ciOnly({ NOTESEAL_IDENTITY: ciKey }))).stdout);
    assert.equal(refused.error, 'UNVERIFIED_WRITER', refused.message);
    assert.equal(refused.name, 'UnverifiedWriterError');
    assert.match(refused.message, /^loadEnv: .*Nothing was loaded\. .*\{ allowUnverifiedWriter: true \}/);
    for (const env of [{ NOTESEAL_IDENTITY: ciKey }, { NOTESEAL_IDENTITY_FILE: ciKeyFile }] as Record<string, string>[]) {
      const r = await program('env-ci.cjs', loader(', { allowUnverifiedWriter: true, onWarning: () => {} }'), ciOnly(env));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).env, 'lib-canary-7f3a', r.stdout);
    }
    const other = path.join(root, 'other.key');
    execFileSync('age-keygen', ['-o', other], { stdio: 'pipe' });
    const wrong = JSON.parse((await program('env-ci.cjs', loader(), ciOnly({ NOTESEAL_IDENTITY_FILE: other }))).stdout);
    assert.equal(wrong.error, 'WRONG_KEY');
    assert.equal(wrong.name, 'WrongKeyError');
    const none = JSON.parse((await program('env-none.cjs', loader(), ciOnly({}))).stdout);
    assert.equal(none.error, 'NO_KEY', none.message);
  });

  it('an identity only reads: writing needs the keyfile, and says so', async () => {
    const r = await program('ci-write.mjs', `
      import { writeFile } from '@noteseal/core';
      try { await writeFile('ci-wrote.enc', 'x'); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }
    `, ciOnly({ NOTESEAL_IDENTITY: ciKey }));
    const out = JSON.parse(r.stdout);
    assert.equal(out.code, 'USAGE');
    assert.match(out.message, /NOTESEAL_IDENTITY only reads/);
    assert.ok(!out.message.includes(ciKey));
    assert.deepEqual(readdirSync(app).filter(f => f.startsWith('ci-wrote')), []);
  });

  it('an identity writes to recipients named on purpose (the recipients option, NOTESEAL_RECIPIENTS), and to no list', async () => {
    const r = await program('ci-write2.mjs', `
      import { writeFile, readFile } from '@noteseal/core';
      await writeFile('ci-report.txt.enc', 'report from ci', { recipients: [${JSON.stringify(ciRecipient)}] });
      await writeFile('ci-for-alice.txt.enc', 'for alice from ci');
      console.log(await readFile('ci-report.txt.enc', 'utf8'));
    `, ciOnly({ NOTESEAL_IDENTITY: ciKey, NOTESEAL_RECIPIENTS: alice.identity }));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'report from ci');
    const mine = await alice.cli(['decrypt', 'ci-for-alice.txt.enc'], { cwd: app });
    assert.equal(mine.code, 0, mine.stderr);
    assert.equal(mine.stdout, 'for alice from ci');
    assert.match(errors(mine), /not signed/, 'an identity cannot sign: the reader is told');
    assert.equal((await alice.cli(['decrypt', 'ci-report.txt.enc'], { cwd: app })).code, 2, "the folder's list was not used: Alice was not named");
  });

  it('refuses a loader variable as exec does, and loads nothing', async () => {
    await fs.writeFile(path.join(root, 'env2'), `${CANARY}\nNODE_OPTIONS=--require ./evil.js\n`);
    assert.equal((await alice.cli(['encrypt', path.join(root, 'env2'), '-o', path.join(app, 'config', 'loader.env.enc')], { cwd: app })).code, 0);
    const r = JSON.parse((await program('env-loader.cjs', loader().replace('config/.env.enc', 'config/loader.env.enc'), withPass())).stdout);
    assert.equal(r.error, 'USAGE');
    assert.match(r.message, /^loadEnv: config\/loader\.env\.enc sets NODE_OPTIONS, .*nothing was loaded\. .*\{ allowEnv: \['NODE_OPTIONS'\] \}/);
    const allowed = JSON.parse((await program('env-loader2.cjs', loader(", { allowEnv: ['NODE_OPTIONS'] }").replace('config/.env.enc', 'config/loader.env.enc'), withPass())).stdout);
    assert.equal(allowed.parsed.NODE_OPTIONS, '--require ./evil.js');
  });

  it('through the agent (no passphrase, no identity), and the environment wins unless override', async () => {
    const start = await alice.cli(['agent', 'start']);
    assert.equal(start.code, 0, start.stderr);
    try {
      const r = await program('env-agent.cjs', loader(), {});
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).env, 'lib-canary-7f3a');
      const kept = JSON.parse((await program('env-agent2.cjs', loader(), { DB_PASSWORD: 'already set' })).stdout);
      assert.equal(kept.env, 'already set');
      const over = JSON.parse((await program('env-agent3.cjs', loader(', { override: true }'), { DB_PASSWORD: 'already set' })).stdout);
      assert.equal(over.env, 'lib-canary-7f3a');
    } finally {
      await alice.cli(['agent', 'stop']);
    }
  });
});

describe('the CLI with an identity from the environment (servers, CI)', () => {
  it('exec, verify and grep take NOTESEAL_IDENTITY / --identity; encrypt with only an identity is refused', async () => {
    const env = ciOnly({ NOTESEAL_IDENTITY: ciKey });
    const exec = await alice.cli(['exec', '--allow-unverified-writer', 'config/.env.enc', '--', process.execPath, '-e', 'console.log(process.env.DB_PASSWORD)'], { cwd: app, noPass: true, env });
    assert.equal(exec.code, 0, exec.stderr);
    assert.equal(exec.stdout.trim(), 'lib-canary-7f3a');
    const verify = await alice.cli(['verify', '--identity', ciKeyFile, 'config/.env.enc'], { cwd: app, noPass: true, env: ciOnly({}) });
    assert.equal(verify.code, 0, verify.stderr);
    const grep = await alice.cli(['grep', '--identity', ciKeyFile, 'lib-canary', 'config'], { cwd: app, noPass: true, env: ciOnly({}) });
    assert.equal(grep.code, 0, grep.stderr);
    assert.match(grep.stdout, /config\/\.env\.enc:1:DB_PASSWORD=lib-canary-7f3a/);
    const decrypt = await alice.cli(['decrypt', 'config/.env.enc'], { cwd: app, noPass: true, env: ciOnly({ NOTESEAL_IDENTITY_FILE: ciKeyFile }) });
    assert.equal(decrypt.stdout, `${CANARY}\n`);
    // Outside the repository (no list to refuse first): the identity itself says it cannot write.
    const enc = await alice.cli(['encrypt', path.join(root, 'env'), '-o', path.join(root, 'ci-wrote.enc')], { cwd: app, noPass: true, env });
    assert.equal(enc.code, 1);
    assert.match(errors(enc), /NOTESEAL_IDENTITY only reads/);
    const both = await alice.cli(['decrypt', 'config/.env.enc'], { cwd: app, noPass: true, env: ciOnly({ NOTESEAL_IDENTITY: ciKey, NOTESEAL_IDENTITY_FILE: ciKeyFile }) });
    assert.equal(both.code, 1);
    assert.match(errors(both), /only one of NOTESEAL_IDENTITY and NOTESEAL_IDENTITY_FILE/);
  });
});

describe('TypeScript consumers', () => {
  it('compile against the package\'s exports and types, as ESM and as CommonJS, without skipLibCheck', async () => {
    const consumer = `
      import { open, readFile, writeFile, createReadStream, createWriteStream, loadEnv, NoteSealError, WrongKeyError, type ErrorCode, type NoteSealFile } from '@noteseal/core';
      export async function main(): Promise<void> {
        const h: NoteSealFile = await open('a.enc', 'r', { keyfile: 'k.json' });
        const text: string = await h.read('utf8');
        const bytes: Buffer = await h.readRange(0, 10);
        await h.close();
        const b: Buffer = await readFile('a.enc');
        const s: string = await readFile('a.enc', 'utf8');
        await writeFile('b.enc', s + text + b.length + bytes.length, { chunkSize: 4096 });
        createReadStream('a.enc').pipe(createWriteStream('c.enc', { flags: 'a' }));
        const { parsed }: { parsed: Record<string, string> } = await loadEnv(['.env.enc'], { override: true });
        void parsed;
        try { await readFile('x.enc'); } catch (e) {
          if (e instanceof WrongKeyError) { const c: 'WRONG_KEY' = e.code; void c; }
          if (e instanceof NoteSealError) { const c: ErrorCode = e.code; void c; }
        }
      }
    `;
    await fs.writeFile(path.join(app, 'consumer.mts'), consumer);
    await fs.writeFile(path.join(app, 'consumer.cts'), consumer);
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const typesDir = path.join(ROOT, 'node_modules', '@types');
    // One program holds both: node16 resolution reads consumer.mts as ESM (the "import" condition) and consumer.cts as CommonJS.
    try {
      execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'ES2022',
        '--typeRoots', typesDir, '--types', 'node', 'consumer.mts', 'consumer.cts'], { cwd: app, encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      assert.fail((e as { stdout?: string }).stdout);
    }
  });
});
