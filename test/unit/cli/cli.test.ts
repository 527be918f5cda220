// Spawns the built CLI (dist/cli.js) the way a user or a script would.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { AppendWriter, encryptBuffer, readHeaderFromFile } from '../../../server/src/crypto/format';
import { TEST_KDF_POLICY } from '../../../server/src/keys/kdf';
import { Keyring } from '../../../server/src/keys/keyring';
import { assertUnixMode } from '../platformModes';

// out/test/unit/cli/cli.test.js -> repository root
const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const PASSPHRASE = 'tr0ub4dor & 3';
const RECOVERY_KEY = /^([0-9A-HJKMNP-TV-Z]{4}-){13}[0-9A-HJKMNP-TV-Z]{4}$/;

interface Run { code: number | null; stdout: Buffer; stderr: string }
interface RunOptions { env?: Record<string, string>; stdin?: Buffer | string; fd3?: string; cwd?: string }

let dir: string;
let keyfile: string;
let passFile: string;
let recoveryKey: string;

function run(args: string[], opts: RunOptions = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd ?? dir,
      // No controlling terminal (setsid): a missing passphrase source must fail, not hang on a prompt.
      detached: true,
      env: { PATH: process.env.PATH ?? '', HOME: dir, NOTESEAL_TEST_FAST_KDF: '1', NOTESEAL_KEYFILE: keyfile, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe', ...(opts.fd3 !== undefined ? ['pipe' as const] : [])],
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
    child.on('error', reject);
    child.on('close', code => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
    if (opts.fd3 !== undefined) (child.stdio[3] as NodeJS.WritableStream).end(opts.fd3);
    child.stdin!.end(opts.stdin ?? '');
  });
}

const withPass = (file = passFile) => ({ env: { NOTESEAL_PASSPHRASE_FILE: file } });
/** The stderr lines that are not the fast-KDF test warning. */
const errorLines = (r: Run) => r.stderr.split('\n').filter(l => l && !l.includes('NOTESEAL_TEST_FAST_KDF'));

before(async () => {
  // The Windows lane runs after the build, with Windows Node under Wine: the Linux build is the one to test.
  if (process.env.NOTESEAL_WINE !== '1') execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'pipe' });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-cli-'));
  keyfile = path.join(dir, 'config', 'keyfile.json');
  passFile = path.join(dir, 'pass.txt');
  await fs.writeFile(passFile, PASSPHRASE + '\n', { mode: 0o600 });
  const init = await run(['init'], withPass());
  assert.equal(init.code, 0, init.stderr);
  recoveryKey = init.stdout.toString().trim();
});
after(() => fs.rm(dir, { recursive: true, force: true }));

describe('noteseal CLI: basics', () => {
  it('help, --help and no arguments print usage; --version prints the version', async () => {
    for (const args of [['help'], ['--help'], [], ['decrypt', '--help']]) {
      const r = await run(args);
      assert.equal(r.code, 0);
      assert.match(r.stdout.toString(), /Usage: noteseal <command>/);
      assert.match(r.stdout.toString(), /Exit status/);
    }
    assert.match((await run(['--version'])).stdout.toString(), /^noteseal \d+\.\d+\.\d+/);
  });

  it('help fits 80 columns and points to nothing a user does not have (no repository paths)', async () => {
    const text = (await run(['--help'])).stdout.toString();
    const wide = text.split('\n').filter(l => [...l].length > 80);
    assert.deepEqual(wide, []);
    assert.doesNotMatch(text, /docs\/|\.md\b/);
  });

  it('usage errors exit 1 with one clear line', async () => {
    for (const args of [['frobnicate'], ['decrypt'], ['decrypt', 'a', 'b'], ['verify', '--bogus', 'x'], ['verify', '-o', 'x', 'y']]) {
      const r = await run(args, withPass());
      assert.equal(r.code, 1, args.join(' '));
      assert.match(errorLines(r)[0], /^noteseal: /);
      assert.equal(r.stdout.length, 0);
    }
  });

  it('init printed the recovery key once on stdout; keyfile is 0600 in a 0700 folder; a second init is refused', async () => {
    assert.match(recoveryKey, RECOVERY_KEY);
    assertUnixMode((await fs.stat(keyfile)).mode, 0o600);
    assertUnixMode((await fs.stat(path.dirname(keyfile))).mode, 0o700);
    const again = await run(['init'], withPass());
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);
  });

  it('warns on stderr whenever the fast test KDF is on', async () => {
    const r = await run(['verify', 'missing.enc'], withPass());
    assert.equal(r.code, 7);
    assert.match(r.stderr, /NOTESEAL_TEST_FAST_KDF=1 makes key derivation weak/);
  });
});

describe('noteseal CLI: encrypt, decrypt, inspect, verify', () => {
  it('encrypt then decrypt to stdout and to a file; default output name; no overwrite without --force', async () => {
    const plain = path.join(dir, 'notes.md');
    await fs.writeFile(plain, '# Secret notes\n');
    const enc = await run(['encrypt', plain], withPass());
    assert.equal(enc.code, 0, enc.stderr);
    assert.equal(enc.stdout.length, 0);
    const dec = await run(['decrypt', 'notes.md.enc'], withPass());
    assert.equal(dec.code, 0, dec.stderr);
    assert.equal(dec.stdout.toString(), '# Secret notes\n');
    const toFile = await run(['decrypt', 'notes.md.enc', '-o', 'copy.md'], withPass());
    assert.equal(toFile.code, 0, toFile.stderr);
    assert.equal(await fs.readFile(path.join(dir, 'copy.md'), 'utf8'), '# Secret notes\n');
    assertUnixMode((await fs.stat(path.join(dir, 'copy.md'))).mode, 0o600);
    assert.equal((await run(['encrypt', plain], withPass())).code, 1, 'refuses to overwrite notes.md.enc');
    assert.equal((await run(['decrypt', 'notes.md.enc', '-o', 'copy.md'], withPass())).code, 1);
    assert.equal((await run(['encrypt', plain, '--force'], withPass())).code, 0);
  });

  it('reads the passphrase from a file descriptor (NOTESEAL_PASSPHRASE_FD)', async () => {
    await fs.writeFile(path.join(dir, 'fd.txt'), 'via fd');
    assert.equal((await run(['encrypt', 'fd.txt'], { env: { NOTESEAL_PASSPHRASE_FD: '3' }, fd3: PASSPHRASE })).code, 0);
    const r = await run(['decrypt', 'fd.txt.enc'], { env: { NOTESEAL_PASSPHRASE_FD: '3' }, fd3: `${PASSPHRASE}\n` });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString(), 'via fd');
  });

  it('encrypts stdin with -o; without a passphrase source or terminal it exits 1 and says how', async () => {
    const r = await run(['encrypt', '-', '-o', 'stdin.enc'], { ...withPass(), stdin: 'from a pipe' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await run(['decrypt', 'stdin.enc'], withPass())).stdout.toString(), 'from a pipe');
    const noSource = await run(['decrypt', 'stdin.enc']);
    assert.equal(noSource.code, 1);
    assert.match(noSource.stderr, /NOTESEAL_PASSPHRASE_FILE/);
  });

  it('a config decrypts into a shell: source <(noteseal decrypt .env.enc)', { skip: process.platform === 'win32' && 'bash process substitution: Unix by nature' }, async () => {
    await fs.writeFile(path.join(dir, '.env'), 'export API_TOKEN=abc123\n');
    assert.equal((await run(['encrypt', '.env'], withPass())).code, 0);
    const out = execFileSync('bash', ['-c', `source <("${process.execPath}" "${CLI}" decrypt .env.enc) && echo "token=$API_TOKEN"`], {
      cwd: dir, env: { PATH: process.env.PATH, NOTESEAL_TEST_FAST_KDF: '1', NOTESEAL_KEYFILE: keyfile, NOTESEAL_PASSPHRASE_FILE: passFile },
      stdio: ['ignore', 'pipe', 'ignore'],
    }).toString();
    assert.equal(out, 'token=abc123\n');
  });

  it('inspect shows header facts without a passphrase; --json too; nothing secret', async () => {
    const r = await run(['inspect', 'notes.md.enc']);
    assert.equal(r.code, 0, r.stderr);
    const text = r.stdout.toString();
    assert.match(text, /format version\s+1/);
    assert.match(text, /suite\s+1 \(AES-256-GCM/);
    assert.match(text, /chunk size\s+65536 bytes/);
    assert.match(text, /type 1: master-key wrapped, master key [0-9a-f]{16}/);
    assert.ok(!text.includes('Secret notes'));
    const json = JSON.parse((await run(['inspect', '--json', 'notes.md.enc'])).stdout.toString());
    assert.equal(json.version, 1);
    assert.equal(json.stanzas[0].type, 1);
    assert.match(json.stanzas[0].masterKeyId, /^[0-9a-f]{16}$/);
    assert.equal(json.fileSize, (await fs.stat(path.join(dir, 'notes.md.enc'))).size);
    assert.equal((await run(['inspect', 'notes.md'])).code, 3, 'not a NoteSeal file');
    assert.equal((await run(['inspect', 'missing.enc'])).code, 7, 'I/O error');
  });

  it('verify prints OK per file and exits 0', async () => {
    const r = await run(['verify', 'notes.md.enc', 'fd.txt.enc'], withPass());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.toString(), /^OK\s+notes\.md\.enc\nOK\s+fd\.txt\.enc\n$/);
  });
});

describe('noteseal CLI: damage never releases plaintext', () => {
  let big: Buffer;
  before(async () => {
    big = Buffer.alloc(300_000);
    for (let i = 0; i < big.length; i++) big[i] = 0x41 + (i % 26);
    await fs.writeFile(path.join(dir, 'big.txt'), big);
    assert.equal((await run(['encrypt', 'big.txt'], withPass())).code, 0);
  });

  const damages: [string, (b: Buffer) => Buffer, number][] = [
    ['a flipped bit in the last chunk', b => { const c = Buffer.from(b); c[c.length - 20] ^= 1; return c; }, 4],
    ['a flipped bit in the first chunk', b => { const c = Buffer.from(b); c[400] ^= 0x10; return c; }, 4], // past the header (274 bytes with its write signature)
    ['truncation', b => b.subarray(0, b.length - 1000), 4],
    ['trailing data', b => Buffer.concat([b, Buffer.from('junk')]), 4],
    ['a missing magic', b => Buffer.concat([Buffer.from('x'), b.subarray(1)]), 3],
  ];
  for (const [what, damage, code] of damages) {
    it(`${what}: decrypt exits ${code} with empty stdout; verify fails the same way`, async () => {
      const name = `damaged-${what.replace(/\W+/g, '-')}.enc`;
      await fs.writeFile(path.join(dir, name), damage(await fs.readFile(path.join(dir, 'big.txt.enc'))));
      const dec = await run(['decrypt', name], withPass());
      assert.equal(dec.code, code, dec.stderr);
      assert.equal(dec.stdout.length, 0, 'no plaintext released');
      assert.equal(errorLines(dec).length, 1, dec.stderr);
      assert.ok(errorLines(dec)[0].includes(name));
      const ver = await run(['verify', name], withPass());
      assert.equal(ver.code, code);
      assert.equal(ver.stdout.length, 0);
      const toFile = await run(['decrypt', name, '-o', 'out-damaged.txt'], withPass());
      assert.equal(toFile.code, code);
      await assert.rejects(fs.access(path.join(dir, 'out-damaged.txt')), 'no partial output file');
    });
  }

  it('the intact file still decrypts in full', async () => {
    const r = await run(['decrypt', 'big.txt.enc'], withPass());
    assert.equal(r.code, 0);
    assert.ok(r.stdout.equals(big));
  });
});

describe('noteseal CLI: keys', () => {
  it('wrong passphrase exits 2; damaged keyfile exits 5; missing keyfile exits 1 with a hint', async () => {
    const wrong = path.join(dir, 'wrong.txt');
    await fs.writeFile(wrong, 'not it');
    const r = await run(['decrypt', 'notes.md.enc'], withPass(wrong));
    assert.equal(r.code, 2);
    assert.equal(r.stdout.length, 0);
    assert.match(errorLines(r)[0], /passphrase is wrong/);

    const broken = path.join(dir, 'broken.json');
    await fs.writeFile(broken, '{"format":"noteseal-keyfile"');
    const d = await run(['decrypt', 'notes.md.enc', '--keyfile', broken], withPass());
    assert.equal(d.code, 5);
    assert.match(d.stderr, /keyfile is damaged/);

    const none = await run(['decrypt', 'notes.md.enc', `--keyfile=${path.join(dir, 'nope.json')}`], withPass());
    assert.equal(none.code, 1);
    assert.match(none.stderr, /noteseal init/);
  });

  it('a file from another keyfile exits 2 (wrong key)', async () => {
    const otherKeyfile = path.join(dir, 'other', 'keyfile.json');
    assert.equal((await run(['init', '--keyfile', otherKeyfile], withPass())).code, 0);
    const r = await run(['decrypt', 'notes.md.enc', '--keyfile', otherKeyfile], withPass());
    assert.equal(r.code, 2);
    assert.match(r.stderr, /master key [0-9a-f]{16}/);
  });

  it('passwd changes the passphrase (files untouched); passwd --recovery sets one from the recovery key', async () => {
    const next = path.join(dir, 'next.txt');
    await fs.writeFile(next, 'the next passphrase\n');
    const before = await fs.readFile(path.join(dir, 'notes.md.enc'));
    const r = await run(['passwd'], { env: { NOTESEAL_PASSPHRASE_FILE: passFile, NOTESEAL_NEW_PASSPHRASE_FILE: next } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await run(['verify', 'notes.md.enc'], withPass())).code, 2, 'old passphrase no longer works');
    assert.equal((await run(['verify', 'notes.md.enc'], withPass(next))).code, 0);
    assert.ok(before.equals(await fs.readFile(path.join(dir, 'notes.md.enc'))));

    const recoveryFile = path.join(dir, 'recovery.txt');
    await fs.writeFile(recoveryFile, recoveryKey.toLowerCase().replace(/-/g, ' ') + '\n');
    const rec = await run(['passwd', '--recovery'], { env: { NOTESEAL_RECOVERY_KEY_FILE: recoveryFile, NOTESEAL_NEW_PASSPHRASE_FILE: passFile } });
    assert.equal(rec.code, 0, rec.stderr);
    assert.equal((await run(['verify', 'notes.md.enc'], withPass())).code, 0, 'back to the first passphrase');

    await fs.writeFile(recoveryFile, recoveryKey.replace(/^./, c => (c === 'A' ? 'B' : 'A')));
    const typo = await run(['passwd', '--recovery'], { env: { NOTESEAL_RECOVERY_KEY_FILE: recoveryFile, NOTESEAL_NEW_PASSPHRASE_FILE: next } });
    assert.equal(typo.code, 1);
    assert.match(typo.stderr, /checksum/);
  });

  it('rotate rewraps a folder (content unchanged), prints progress and a new recovery key', async () => {
    const folder = path.join(dir, 'vault');
    await fs.mkdir(path.join(folder, 'sub'), { recursive: true });
    for (const name of ['a.txt', 'sub/b.txt']) {
      await fs.writeFile(path.join(folder, name), `content ${name}`);
      assert.equal((await run(['encrypt', path.join(folder, name)], withPass())).code, 0);
    }
    const files = ['a.txt.enc', 'sub/b.txt.enc'].map(f => path.join(folder, f));
    const content = async (f: string) => (await fs.readFile(f)).subarray((await readHeaderFromFile(f)).headerLength);
    const before = await Promise.all(files.map(content));
    const r = await run(['rotate', folder], withPass());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\[1\/2\] rewrapped .*a\.txt\.enc/);
    assert.match(r.stderr, /\[2\/2\] rewrapped .*b\.txt\.enc/);
    const newRecovery = r.stdout.toString().trim();
    assert.match(newRecovery, RECOVERY_KEY);
    assert.notEqual(newRecovery, recoveryKey);
    for (const [i, f] of files.entries()) assert.ok(before[i].equals(await content(f)));
    const dec = await run(['decrypt', files[1]], withPass());
    assert.equal(dec.stdout.toString(), 'content sub/b.txt');
    // Files outside the folder still open through the retired key.
    assert.equal((await run(['verify', 'notes.md.enc'], withPass())).code, 0);
    assert.equal((await run(['rotate', path.join(dir, 'notes.md')], withPass())).code, 1, 'not a folder');
  });

  it('encrypt --detached, then shred --yes: decrypt exits 6 (key not found)', async () => {
    await fs.writeFile(path.join(dir, 'call.webm'), 'pretend audio');
    assert.equal((await run(['encrypt', 'call.webm', '--detached'], withPass())).code, 0);
    const inspect = (await run(['inspect', 'call.webm.enc'])).stdout.toString();
    assert.match(inspect, /type 2: detached \(key store\), key id [0-9a-f]{32}/);
    assert.equal((await run(['decrypt', 'call.webm.enc'], withPass())).stdout.toString(), 'pretend audio');
    assert.equal((await run(['shred', 'call.webm.enc'])).code, 1, '--yes is required');
    assert.equal((await run(['shred', 'notes.md.enc', '--yes'])).code, 1, 'no detached key to shred');
    assert.equal((await run(['shred', 'call.webm.enc', '--yes'])).code, 1, 'shredding needs the passphrase (no source: usage)');
    const s = await run(['shred', 'call.webm.enc', '--yes'], withPass());
    assert.equal(s.code, 0, s.stderr);
    const r = await run(['decrypt', 'call.webm.enc'], withPass());
    assert.equal(r.code, 6);
    assert.equal(r.stdout.length, 0);
    assert.match(r.stderr, /shredded/);
  });

  it('shred of a crafted header naming another file\'s key id destroys nothing (exit 2)', async () => {
    await fs.writeFile(path.join(dir, 'victim.webm'), 'victim audio');
    assert.equal((await run(['encrypt', 'victim.webm', '--detached'], withPass())).code, 0);
    const { stanzas } = await readHeaderFromFile(path.join(dir, 'victim.webm.enc'));
    // Anyone can copy the public key id into a header of their own, MACed under a key they made up.
    await fs.writeFile(path.join(dir, 'x.wav.enc'), encryptBuffer(Buffer.from('x'), randomBytes(32), stanzas));
    const s = await run(['shred', 'x.wav.enc', '--yes'], withPass());
    assert.equal(s.code, 2, s.stderr);
    assert.match(s.stderr, /nothing was shredded/);
    assert.equal((await run(['decrypt', 'victim.webm.enc'], withPass())).stdout.toString(), 'victim audio');
  });

  it('recover seals an unfinished recording', async () => {
    const keyring = new Keyring(keyfile, { kdf: TEST_KDF_POLICY });
    await keyring.unlock(PASSPHRASE);
    const { dataKey, stanzas } = await keyring.newFileStanzas();
    const file = path.join(dir, 'crashed.webm.enc');
    const writer = await AppendWriter.create(file, dataKey, stanzas, { chunkSize: 1024 });
    await writer.append(Buffer.alloc(3000, 0x61));
    await writer.abandon();
    keyring.lock();
    const before = await run(['decrypt', 'crashed.webm.enc'], withPass());
    assert.equal(before.code, 4);
    assert.match(before.stderr, /recover/i);
    assert.equal(before.stdout.length, 0);
    const r = await run(['recover', 'crashed.webm.enc'], withPass());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /2048 bytes kept/);
    const after = await run(['decrypt', 'crashed.webm.enc'], withPass());
    assert.equal(after.code, 0, after.stderr);
    assert.equal(after.stdout.toString(), 'a'.repeat(2048));
  });
});
