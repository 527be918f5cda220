// The CLI streams age files (issue 26): decrypt and encrypt --age read and write 64 KiB chunks in bounded
// memory, with Debian's age and typage on the other side; a damaged or truncated file releases nothing, to
// a file (-o: no file, no temporary sibling left) or to stdout (no byte).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { armor, Decrypter, Encrypter } from 'age-encryption';
import { CLI } from '../agent/cliRunner';

const CHUNK = 64 * 1024;
const SEALED = CHUNK + 16;
let dir: string;
let key: string;
let pub: string;
let secret: string;
const f = (n: string) => path.join(dir, n);

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-age-stream-'));
  key = f('key.txt');
  execFileSync('age-keygen', ['-o', key], { stdio: 'ignore' });
  pub = execFileSync('age-keygen', ['-y', key], { encoding: 'utf8' }).trim();
  secret = fs.readFileSync(key, 'utf8').split('\n').find(l => l.startsWith('AGE-SECRET-KEY-1'))!;
  // Reports the CLI's peak RSS (KiB) into the file NOTESEAL_TEST_PEAK_FILE names, as it exits: VmHWM, this
  // process image's own high-water mark (getrusage's maxrss also counts the parent's at the fork).
  fs.writeFileSync(f('peak.js'), "process.on('exit', () => require('fs').writeFileSync(process.env.NOTESEAL_TEST_PEAK_FILE, /VmHWM:\\s*(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]));\n");
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The built CLI (no keyfile: --identity and -r need none); its stdout as bytes and its peak RSS in MiB. */
function cli(args: string[], input?: Buffer): { code: number | null; stdout: Buffer; stderr: string; peakMiB: number } {
  const peakFile = f('peak.txt');
  const r = spawnSync(process.execPath, ['--require', f('peak.js'), CLI, ...args], {
    cwd: dir, input, maxBuffer: 512 * 1024 * 1024,
    env: { PATH: process.env.PATH ?? '', HOME: dir, NOTESEAL_KEYFILE: f('none.json'), NOTESEAL_TEST_PEAK_FILE: peakFile },
  });
  const peakMiB = fs.existsSync(peakFile) ? Number(fs.readFileSync(peakFile, 'utf8')) / 1024 : NaN;
  fs.rmSync(peakFile, { force: true });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString(), peakMiB };
}

function ageWrites(name: string, plain: Buffer, armor = false): string {
  fs.writeFileSync(f(`${name}.plain`), plain);
  execFileSync('age', ['-r', pub, ...(armor ? ['-a'] : []), '-o', f(`${name}.age`), f(`${name}.plain`)]);
  return f(`${name}.age`);
}

const tempSiblings = () => fs.readdirSync(dir).filter(n => n.includes('.tmp-'));

describe('CLI: age files are streamed', () => {
  it('decrypt opens what age wrote, to a file and to stdout, at every chunk boundary', () => {
    // From 8 MiB the payload goes through the age threads (-o): 9 MiB ends on a job's last chunk.
    for (const size of [0, CHUNK, CHUNK + 1, 16 * CHUNK, 3 * 1024 * 1024 + 123, 8 * 1024 * 1024 + 123, 9 * 1024 * 1024]) {
      const plain = randomBytes(size);
      const file = ageWrites(`s${size}`, plain);
      const out = f(`s${size}.out`);
      const d = cli(['decrypt', '--identity', key, file, '-o', out]);
      assert.equal(d.code, 0, d.stderr);
      assert.ok(fs.readFileSync(out).equals(plain), `-o, ${size} bytes`);
      assert.equal((fs.statSync(out).mode & 0o777), 0o600);
      const s = cli(['decrypt', '--identity', key, file]);
      assert.equal(s.code, 0, s.stderr);
      assert.ok(s.stdout.equals(plain), `stdout, ${size} bytes`);
    }
    const armored = ageWrites('armored', randomBytes(200_000), true);
    const a = cli(['decrypt', '--identity', key, armored]);
    assert.ok(a.stdout.equals(fs.readFileSync(f('armored.plain'))), a.stderr);
  });

  it('encrypt --age streams: age and typage open it, binary and armored, from a file and from stdin', async () => {
    // A file of 8 MiB or more is sealed by the age threads, each chunk written at its place.
    for (const size of [9 * 1024 * 1024, 10 * 1024 * 1024 + 5]) {
      const threaded = randomBytes(size);
      fs.writeFileSync(f('threaded.plain'), threaded);
      const e = cli(['encrypt', '--age', '-r', pub, f('threaded.plain'), '-o', f(`threaded${size}.age`)]);
      assert.equal(e.code, 0, e.stderr);
      assert.ok(execFileSync('age', ['-d', '-i', key, f(`threaded${size}.age`)], { maxBuffer: 64 << 20 }).equals(threaded), `age -d, ${size} bytes`);
    }
    const plain = randomBytes(3 * 1024 * 1024 + 77);
    fs.writeFileSync(f('big.plain'), plain);
    for (const [name, extra] of [['n.age', []], ['n-armored.age', ['--armor']]] as const) {
      const e = cli(['encrypt', '--age', '-r', pub, ...extra, f('big.plain'), '-o', f(name)]);
      assert.equal(e.code, 0, e.stderr);
      assert.ok(execFileSync('age', ['-d', '-i', key, f(name)], { maxBuffer: 64 << 20 }).equals(plain), `age -d ${name}`);
      const d = new Decrypter();
      d.addIdentity(secret);
      const bytes = fs.readFileSync(f(name));
      const binary = extra.length ? armor.decode(bytes.toString('latin1')) : bytes;
      assert.ok(Buffer.from(await d.decrypt(binary)).equals(plain), `typage ${name}`);
    }
    const armoredText = fs.readFileSync(f('n-armored.age'), 'latin1');
    assert.match(armoredText, /^-----BEGIN AGE ENCRYPTED FILE-----\n([A-Za-z0-9+/]{64}\n)+[A-Za-z0-9+/=]{1,64}\n-----END AGE ENCRYPTED FILE-----\n$/);
    const fromStdin = cli(['encrypt', '--age', '-r', pub, '-', '-o', f('stdin.age')], plain);
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.ok(execFileSync('age', ['-d', '-i', key, f('stdin.age')], { maxBuffer: 64 << 20 }).equals(plain));
    // typage writes, NoteSeal reads (streamed).
    const t = new Encrypter();
    t.addRecipient(pub);
    fs.writeFileSync(f('typage.age'), await t.encrypt(plain));
    const back = cli(['decrypt', '--identity', key, f('typage.age'), '-o', f('typage.out')]);
    assert.equal(back.code, 0, back.stderr);
    assert.ok(fs.readFileSync(f('typage.out')).equals(plain));
  });

  it('memory stays bounded: 128 MiB decrypted and encrypted in a bounded amount more than the CLI itself takes', () => {
    const large = ageWrites('m-large', randomBytes(128 * 1024 * 1024));
    const peak = (args: string[]) => { const r = cli(args); assert.equal(r.code, 0, r.stderr); return r.peakMiB; };
    const idle = peak(['--version']);
    const decrypt = peak(['decrypt', '--identity', key, large, '-o', f('m-large.out')]);
    const encrypt = peak(['encrypt', '--age', '-r', pub, f('m-large.plain'), '-o', f('m-large.again.age')]);
    // Reading the file whole (before streaming) cost 128 MiB more at least (decrypt: ciphertext and plaintext,
    // ~256). Streamed, what grows is garbage V8 has not collected yet: it collects once external memory (the
    // chunks' buffers) grew by 64 MiB, so that is about the bound, whatever the file size.
    const say = `peak RSS: the CLI alone ${idle.toFixed(0)} MiB; 128 MiB: decrypt ${decrypt.toFixed(0)} MiB, encrypt ${encrypt.toFixed(0)} MiB`;
    assert.ok(decrypt - idle < 96 && encrypt - idle < 96, say);
    console.log(say);
    for (const n of ['m-large.age', 'm-large.plain', 'm-large.out', 'm-large.again.age']) fs.rmSync(f(n), { force: true });
    // An armored file is read line by line too (read whole before: text, binary and plaintext, ~4x the file).
    const armoredPlain = randomBytes(48 * 1024 * 1024 + 5);
    const armoredFile = ageWrites('m-armored', armoredPlain, true);
    const armoredPeak = peak(['decrypt', '--identity', key, armoredFile, '-o', f('m-armored.out')]);
    assert.ok(fs.readFileSync(f('m-armored.out')).equals(armoredPlain), 'armored -o');
    // Read whole it took ~440 MiB over the CLI alone (measured); streamed ~110 (garbage V8 collects late, see above).
    assert.ok(armoredPeak - idle < 128, `peak RSS: the CLI alone ${idle.toFixed(0)} MiB; a 48 MiB armored file: ${armoredPeak.toFixed(0)} MiB`);
    for (const n of ['m-armored.age', 'm-armored.plain', 'm-armored.out']) fs.rmSync(f(n), { force: true });
  });

  it('past 24 MiB, decrypt to stdout verifies on the age threads first: whole when intact, nothing when damaged', () => {
    const size = 100 * 1024 * 1024 + 321; // 1,601 chunks, the last of 321 bytes
    const plain = randomBytes(size);
    const file = ageWrites('l', plain);
    fs.rmSync(f('l.plain'));
    const s = cli(['decrypt', '--identity', key, file]);
    assert.equal(s.code, 0, s.stderr);
    assert.ok(s.stdout.equals(plain), 'stdout of 100 MiB');
    const good = fs.readFileSync(file);
    const sealedStart = good.length - (size + 1601 * 16);
    const damaged: [string, Buffer, RegExp][] = [
      // Past the first 16 MiB, where the threads verify: chunk 1500 of 1601.
      ['a bit flipped in chunk 1500', (() => { const b = Buffer.from(good); b[sealedStart + 1499 * SEALED + 7]! ^= 1; return b; })(), /chunk 1500 fails authentication/],
      ['cut at a chunk boundary', good.subarray(0, good.length - (321 + 16)), /truncated/],
    ];
    for (const [what, bytes, why] of damaged) {
      fs.writeFileSync(f('l-bad.age'), bytes);
      const d = cli(['decrypt', '--identity', key, f('l-bad.age')]);
      assert.notEqual(d.code, 0, what);
      assert.match(d.stderr, why, what);
      assert.equal(d.stdout.length, 0, `${what}: nothing on stdout`);
      const o = cli(['decrypt', '--identity', key, f('l-bad.age'), '-o', f('l-bad.out')]);
      assert.notEqual(o.code, 0, what);
      assert.match(o.stderr, why, what);
      assert.ok(!fs.existsSync(f('l-bad.out')), `${what}: no output file`);
      assert.deepEqual(tempSiblings(), [], `${what}: no temporary sibling`);
    }
    for (const n of ['l.age', 'l-bad.age']) fs.rmSync(f(n), { force: true });
  });

  it('a truncated or altered file releases nothing: no output file, no temporary sibling, no byte on stdout', () => {
    const plain = randomBytes(3 * CHUNK + 500);
    const good = fs.readFileSync(ageWrites('t', plain));
    const payloadEnd = good.length;
    const damaged: [string, Buffer, RegExp][] = [
      // The last (short) chunk removed: the file now ends after a full chunk that is not the last.
      ['cut at a chunk boundary', good.subarray(0, payloadEnd - (500 + 16)), /truncated/],
      ['a bit flipped in the last chunk', Buffer.concat([good.subarray(0, payloadEnd - 1), Buffer.from([good[payloadEnd - 1]! ^ 1])]), /fails authentication/],
      ['a bit flipped in the first chunk', (() => { const b = Buffer.from(good); b[payloadEnd - 500 - 16 - 3 * SEALED + 5]! ^= 0x40; return b; })(), /chunk 1 fails authentication/],
    ];
    for (const [what, bytes, why] of damaged) {
      fs.writeFileSync(f('t-bad.age'), bytes);
      fs.rmSync(f('t-bad.out'), { force: true });
      const o = cli(['decrypt', '--identity', key, f('t-bad.age'), '-o', f('t-bad.out')]);
      assert.notEqual(o.code, 0, what);
      assert.match(o.stderr, why, what);
      assert.ok(!fs.existsSync(f('t-bad.out')), `${what}: no output file`);
      assert.deepEqual(tempSiblings(), [], `${what}: no temporary sibling`);
      const s = cli(['decrypt', '--identity', key, f('t-bad.age')]);
      assert.notEqual(s.code, 0, what);
      assert.equal(s.stdout.length, 0, `${what}: nothing on stdout`);
      // Debian's age agrees that the file is bad.
      assert.notEqual(spawnSync('age', ['-d', '-i', key, f('t-bad.age')]).status, 0, what);
    }
  });
});
