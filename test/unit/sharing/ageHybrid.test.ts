// age's post-quantum strings (age v1.3, c2sp.org/age "MLKEM768-X25519"): `age1pq1…` recipients and
// `AGE-SECRET-KEY-PQ-1…` identities are NoteSeal X-Wing keys (docs/KEYS.md, "Identities"). Proven against a
// second implementation, age-encryption (typage, the TypeScript age by age's author, on its own
// @noble/post-quantum 0.5), and against the pairs age's Go code publishes (test/vectors/age-hybrid-v1.json).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gcm } from '@noble/ciphers/aes.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ml_kem768_x25519 } from '@noble/post-quantum/hybrid.js';
import { bech32 } from '@scure/base';
import { Decrypter, Encrypter, generateHybridIdentity, identityToRecipient } from 'age-encryption';
import { isNoteSealError } from '../../../server/src/crypto/format';
import { encodeAgeHybridRecipient, parseAgeIdentityFile, parsePublicIdentity } from '../../../server/src/keys/identity-strings';
import { STANZA_XWING, unwrapWithReceivingKeys, wrapToRecipient } from '../../../server/src/keys/recipients';
import { ROOT } from '../agent/cliRunner';
import { errors, makePerson, type Person } from './people';

const V = JSON.parse(readFileSync(path.join(ROOT, 'test/vectors/age-hybrid-v1.json'), 'utf8')) as {
  published: { source: string; identity: string; recipient: string }[];
  noteseal: { identityFile: string; seedHex: string; recipient: string; dataKeyHex: string; stanza5BodyHex: string };
};
const enc = new TextEncoder();
const u8 = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');
const cat = (...p: Uint8Array[]) => Uint8Array.from(Buffer.concat(p));
const identityLine = (file: string) => file.split('\n').find(l => l.startsWith('AGE-SECRET-KEY-PQ-1'))!;
/** NoteSeal's own reading of an identity: the key pair, and the recipient string it derives. */
function noteSealRecipientOf(identity: string): string {
  const [key] = parseAgeIdentityFile(`${identity}\n`);
  assert.equal(key!.kind, 'xwing');
  return encodeAgeHybridRecipient(key!.publicKey);
}
/** One character changed to another of the bech32 alphabet, in the same case. */
const flip = (s: string, at: number) => {
  const c = s[at]!.toLowerCase() === 'q' ? 'p' : 'q';
  return s.slice(0, at) + (s === s.toUpperCase() ? c.toUpperCase() : c) + s.slice(at + 1);
};
const invalidArgument = (pattern: RegExp) => (e: unknown) => isNoteSealError(e) && e.code === 'INVALID_ARGUMENT' && pattern.test(e.message);

describe('age post-quantum strings, second implementations', () => {
  it('the pairs age publishes (C2SP spec, age\'s test data): NoteSeal and typage derive the same age1pq1 recipient', async () => {
    assert.equal(V.published.length, 2);
    for (const p of V.published) {
      assert.equal(noteSealRecipientOf(p.identity), p.recipient, p.source);
      assert.equal(await identityToRecipient(p.identity), p.recipient, p.source);
      const parsed = parsePublicIdentity(p.recipient);
      assert.equal(parsed.kind, 'xwing');
      assert.equal(parsed.signingKey, undefined, 'an age recipient reads, never signs');
      assert.equal(parsed.publicKey.length, 1216);
      assert.equal(parsed.text, p.recipient);
    }
  });

  it('vectors: typage and noble (no NoteSeal code) agree with test/vectors/age-hybrid-v1.json; NoteSeal opens its stanza', async () => {
    const n = V.noteseal;
    const line = identityLine(n.identityFile);
    assert.equal(await identityToRecipient(line), n.recipient);
    assert.ok(n.identityFile.includes(`# public key: ${n.recipient}\n`));
    // The identity is bech32 of the 32-byte X-Wing seed; the recipient is bech32 of its 1,216-byte public key.
    const seed = bech32.fromWords(bech32.decode(line.toLowerCase() as `${string}1${string}`, false).words);
    assert.equal(hexOf(seed), n.seedHex);
    const P = ml_kem768_x25519.keygen(seed).publicKey;
    assert.equal(bech32.encode('age1pq', bech32.toWords(P), false), n.recipient);
    // Stanza 5 to it opens as docs/KEYS.md says (the same construction as a noteseal1 X-Wing member's).
    const b = u8(n.stanza5BodyHex);
    assert.equal(b.length, 1188);
    assert.deepEqual(b.subarray(0, 8), sha256(cat(enc.encode('noteseal/v1/recipient-id\0'), Uint8Array.of(2), P)).subarray(0, 8));
    const C = b.subarray(8, 1128);
    const key = hkdf(sha256, ml_kem768_x25519.decapsulate(C, seed), cat(C, P), enc.encode('noteseal/v1/xwing-wrap'), 32);
    assert.equal(hexOf(gcm(key, b.subarray(1128, 1140), cat(enc.encode('noteseal/v1/stanza-5\0'), P)).decrypt(b.subarray(1140))), n.dataKeyHex);
    // NoteSeal's own code reads the identity file (comments and all) and opens the same stanza.
    assert.equal(hexOf(unwrapWithReceivingKeys([{ type: STANZA_XWING, body: b }], parseAgeIdentityFile(n.identityFile))!), n.dataKeyHex);
  });

  it('an identity typage generates: same recipient both ways; typage encrypts to the string NoteSeal encodes and decrypts', async () => {
    const identity = await generateHybridIdentity();
    assert.match(identity, /^AGE-SECRET-KEY-PQ-1[0-9A-Z]+$/);
    const recipient = await identityToRecipient(identity);
    assert.equal(noteSealRecipientOf(identity), recipient);
    const e = new Encrypter();
    e.addRecipient(noteSealRecipientOf(identity));
    const d = new Decrypter();
    d.addIdentity(identity);
    assert.equal(await d.decrypt(await e.encrypt('typage round trip'), 'text'), 'typage round trip');
    // And NoteSeal's stanza to the recipient typage derived opens with the keys NoteSeal read from the identity.
    const dataKey = new Uint8Array(32).fill(4);
    const stanza = wrapToRecipient(parsePublicIdentity(recipient), dataKey);
    assert.deepEqual(unwrapWithReceivingKeys([stanza], parseAgeIdentityFile(identity)), dataKey);
  });
});

describe('malformed age post-quantum strings', () => {
  const recipient = V.noteseal.recipient;
  const identity = identityLine(V.noteseal.identityFile);

  it('recipients: wrong type (HRP), bad checksum, wrong length, invalid ML-KEM key, case: INVALID_ARGUMENT saying which', () => {
    const words = bech32.decode(recipient as `${string}1${string}`, false).words;
    const cases: [string, RegExp][] = [
      [bech32.encode('age1pqx', words, false), /age1pqx1… is an age recipient type NoteSeal does not take/],
      [bech32.encode('age1tag', words, false), /age1tag1… is an age recipient type/],
      [flip(recipient, 500), /checksum or encoding is wrong/],
      [recipient.slice(0, -1), /checksum or encoding is wrong/],
      [bech32.encode('age1pq', bech32.toWords(new Uint8Array(32).fill(1)), false), /post-quantum recipient \(age1pq1…\) holds 1216 bytes, not 32/],
      [bech32.encode('age1pq', bech32.toWords(new Uint8Array(1217)), false), /holds 1216 bytes, not 1217/],
      [bech32.encode('age1pq', bech32.toWords(new Uint8Array(1216).fill(0xff)), false), /ML-KEM-768 key is not valid/],
      [recipient.toUpperCase(), /lower case/],
    ];
    for (const [bad, why] of cases) assert.throws(() => parsePublicIdentity(bad), invalidArgument(why), bad.slice(0, 20));
  });

  it('keys noble cannot encapsulate to are refused when parsed: an ML-KEM-768 coefficient at q (FIPS 203), a low-order X25519 point', () => {
    const P = parsePublicIdentity(recipient).publicKey.slice();
    P[0] = 0x01; P[1] = (P[1]! & 0xf0) | 0x0d; // first coefficient = 0xd01 = 3329 = q
    assert.throws(() => ml_kem768_x25519.encapsulate(P));
    assert.throws(() => parsePublicIdentity(encodeAgeHybridRecipient(P)), invalidArgument(/ML-KEM-768 key is not valid/));
    P[0] = 0x00; // 3328: valid
    assert.ok(ml_kem768_x25519.encapsulate(P));
    assert.equal(parsePublicIdentity(encodeAgeHybridRecipient(P)).kind, 'xwing');
    // The X25519 half at a low-order point (here 0): noble would refuse it at the first save; the parser says so now.
    P.fill(0, 1184);
    assert.throws(() => ml_kem768_x25519.encapsulate(P));
    assert.throws(() => parsePublicIdentity(encodeAgeHybridRecipient(P)), invalidArgument(/X25519 key is a low-order point/));
  });

  it('identity files: wrong type, bad checksum, wrong length, lower case, a plugin: the line is named, the key never shown', () => {
    const words = bech32.decode(identity.toLowerCase() as `${string}1${string}`, false).words;
    const cases: [string, RegExp][] = [
      [bech32.encode('AGE-SECRET-KEY-PQX-', words, false).toUpperCase(), /line 2 has the age identity type AGE-SECRET-KEY-PQX-1…, which NoteSeal does not take/],
      [flip(identity, 30), /line 2 is not an age identity: its checksum or encoding is wrong/],
      [bech32.encode('AGE-SECRET-KEY-PQ-', bech32.toWords(new Uint8Array(31)), false).toUpperCase(), /line 2 holds 31 bytes, not the 32/],
      [identity.toLowerCase(), /line 2 is not an AGE-SECRET-KEY-1… or AGE-SECRET-KEY-PQ-1…/],
      [identity.slice(0, 19) + identity.slice(19).toLowerCase(), /line 2 is not all upper case/],
      ['AGE-PLUGIN-YUBIKEY-1QSPSYQVZ0DJFDPGWQ2RKZ', /line 2 is an age plugin identity/],
    ];
    for (const [bad, why] of cases) {
      assert.throws(() => parseAgeIdentityFile(`# comment\n${bad}\n`), (e: unknown) => invalidArgument(why)(e) && !(e as Error).message.includes(bad.slice(19, 40)), bad.slice(0, 20));
    }
  });

  it('an identity file may hold X25519 and post-quantum keys together', () => {
    const x25519Line = bech32.encode('AGE-SECRET-KEY-', bech32.toWords(new Uint8Array(32).fill(3)), false).toUpperCase();
    assert.deepEqual(parseAgeIdentityFile(`${x25519Line}\n\n${identity}\r\n`).map(k => k.kind), ['x25519', 'xwing']);
  });
});

describe('the CLI with a typage post-quantum key (a sops/age user)', () => {
  let root: string;
  let repo: string;
  let alice: Person;
  const SECRET = 'DB_PASSWORD=pq-canary-7d1e\n';
  before(async () => {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'pipe' });
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-agepq-'));
    repo = path.join(root, 'repo');
    await fs.mkdir(path.join(repo, 'config'), { recursive: true });
    execFileSync('git', ['init', '-q', repo]);   // the list at its top governs config/ (a search stops at the repository's top)
    alice = await makePerson(root, 'alice');
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  it('age1pq1 is a member of .noteseal/recipients; noteseal encrypt shares to it; decrypt --identity opens it', async () => {
    const identity = await generateHybridIdentity();
    const recipient = await identityToRecipient(identity);
    const keyFile = path.join(root, 'pq.key');
    await fs.writeFile(keyFile, `# created by age-encryption (typage)\n# public key: ${recipient}\n${identity}\n`, { mode: 0o600 });
    const add = await alice.cli(['recipients', 'add', recipient, '--name', 'sops-ci'], { cwd: repo });
    assert.equal(add.code, 0, add.stderr);
    const list = JSON.parse((await alice.cli(['recipients', 'list', '--json'], { cwd: repo })).stdout) as { members: { name: string; identity: string; kind: string }[] };
    assert.deepEqual(list.members.map(m => [m.name, m.kind]), [['alice', 'xwing'], ['sops-ci', 'xwing']]);
    assert.equal(list.members[1]!.identity, recipient);
    await fs.writeFile(path.join(repo, 'config', '.env'), SECRET);
    const encrypt = await alice.cli(['encrypt', 'config/.env'], { cwd: repo });
    assert.equal(encrypt.code, 0, encrypt.stderr);
    const noKeyfile = { NOTESEAL_KEYFILE: path.join(root, 'none.json'), NOTESEAL_AGENT_SOCK: path.join(root, 'none.sock') };
    const ci = await alice.cli(['decrypt', '--identity', keyFile, 'config/.env.enc'], { cwd: repo, noPass: true, env: noKeyfile });
    assert.equal(ci.code, 0, ci.stderr);
    assert.equal(ci.stdout, SECRET);
    // A CI job holding only an identity has accepted no list: alice's signature is shown, not vouched for.
    assert.match(errors(ci), /written by signing key [0-9a-f]{16}…, who is not you, and the recipients list that governs it is not trusted here/);
    // Another post-quantum key is not a member: WRONG_KEY, nothing on stdout.
    const other = path.join(root, 'other.key');
    await fs.writeFile(other, `${await generateHybridIdentity()}\n`, { mode: 0o600 });
    const wrong = await alice.cli(['decrypt', '--identity', other, 'config/.env.enc'], { cwd: repo, noPass: true, env: noKeyfile });
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.match(wrong.stderr, /No key in the identity file/);
    assert.equal(wrong.stdout, '');
    // A damaged key file says which line, and never prints the key.
    await fs.writeFile(other, `# x\n${flip(identity, 40)}\n`);
    const damaged = await alice.cli(['decrypt', '--identity', other, 'config/.env.enc'], { cwd: repo, noPass: true, env: noKeyfile });
    assert.equal(damaged.code, 1);
    assert.match(damaged.stderr, /line 2 is not an age identity: its checksum or encoding is wrong/);
    assert.ok(!damaged.stderr.includes(identity.slice(19, 40)));
  });
});
