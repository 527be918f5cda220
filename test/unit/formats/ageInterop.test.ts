// The age format against real tools, both ways: Debian's `age` 1.1.1 (X25519, armor) and typage
// (`age-encryption`, by age's author) for mlkem768x25519 (age1pq1) and scrypt, which age 1.1.1 lacks or
// only takes from a terminal.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Decrypter, Encrypter, generateHybridIdentity, generateX25519Identity, identityToRecipient } from 'age-encryption';
import {
  hybridIdentity, hybridRecipient, isAgeError, openAge, scryptIdentity, scryptRecipient, sealAge, x25519Identity, x25519Recipient,
} from '../../../server/src/formats/age';
import { parseAgeIdentityFile, parsePublicIdentity } from '../../../server/src/keys/identity-strings';
import { generateIdentity } from '../../../server/src/keys/identity';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-age-interop-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const text = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => `line ${i} of a secret config: ünïcödé\n`).join(''));

function ageKeygen(): { file: string; recipient: string; secret: Uint8Array } {
  const file = path.join(dir, `key-${Math.random().toString(36).slice(2)}.txt`);
  execFileSync('age-keygen', ['-o', file], { stdio: 'ignore' });
  const recipient = execFileSync('age-keygen', ['-y', file], { encoding: 'utf8' }).trim();
  const [key] = parseAgeIdentityFile(fs.readFileSync(file, 'utf8'));
  return { file, recipient, secret: key!.secretKey };
}

describe('age format: Debian age 1.1.1 reads what NoteSeal writes, and the other way', () => {
  for (const armored of [false, true]) {
    for (const size of [0, 1000, 64 * 1024, 200_000]) {
      it(`NoteSeal -> age -d: ${size} bytes${armored ? ', armored' : ''}`, () => {
        const k = ageKeygen();
        const plaintext = text(size).subarray(0, size);
        const out = path.join(dir, 'n.age');
        const pub = parsePublicIdentity(k.recipient).publicKey;
        fs.writeFileSync(out, sealAge(plaintext, [x25519Recipient(pub)], { armor: armored }));
        assert.deepEqual(execFileSync('age', ['-d', '-i', k.file, out], { maxBuffer: 1 << 26 }), plaintext);
      });
      it(`age -r -> NoteSeal: ${size} bytes${armored ? ', armored' : ''}`, () => {
        const k = ageKeygen();
        const plaintext = text(size).subarray(0, size);
        const inFile = path.join(dir, 'plain.txt');
        fs.writeFileSync(inFile, plaintext);
        const sealed = execFileSync('age', ['-r', k.recipient, ...(armored ? ['-a'] : []), inFile], { maxBuffer: 1 << 26 });
        const opened = openAge(sealed, [x25519Identity(k.secret)]);
        assert.deepEqual(opened.plaintext, plaintext);
        assert.equal(opened.armored, armored);
      });
    }
  }
  it('a file age wrote to two recipients opens with either; a third key is "no match" naming the stanza types', () => {
    const a = ageKeygen(), b = ageKeygen(), c = ageKeygen();
    const inFile = path.join(dir, 'plain2.txt');
    fs.writeFileSync(inFile, 'two readers\n');
    const sealed = execFileSync('age', ['-r', a.recipient, '-r', b.recipient, inFile]);
    assert.equal(openAge(sealed, [x25519Identity(b.secret)]).plaintext.toString(), 'two readers\n');
    assert.throws(() => openAge(sealed, [x25519Identity(c.secret)]), e => isAgeError(e, 'no match') && /X25519 ×2/.test(e.message));
  });
  it('a flipped bit in what age wrote is a typed failure and no plaintext', () => {
    const k = ageKeygen();
    const inFile = path.join(dir, 'plain3.txt');
    fs.writeFileSync(inFile, text(3000));
    const sealed = execFileSync('age', ['-r', k.recipient, inFile]);
    sealed[sealed.length - 40]! ^= 1;
    assert.throws(() => openAge(sealed, [x25519Identity(k.secret)]), e => isAgeError(e, 'payload'));
  });
});

describe('age format: typage (age-encryption) for age1pq1 and scrypt, both ways', () => {
  it('typage encrypts to a NoteSeal identity\'s age1pq1 recipient; NoteSeal opens it with the identity\'s X-Wing key', async () => {
    const mine = generateIdentity('xwing');
    const { encodeAgeHybridRecipient } = await import('../../../server/src/keys/identity-strings');
    const e = new Encrypter();
    e.addRecipient(encodeAgeHybridRecipient(mine.receiving.publicKey));
    const sealed = await e.encrypt(text(500));
    assert.deepEqual(openAge(sealed, [hybridIdentity(new Uint8Array(mine.receiving.secretKey))]).plaintext, text(500));
  });
  it('NoteSeal encrypts to typage\'s age1pq1 recipient (and an X25519 one beside it); typage decrypts', async () => {
    const pq = await generateHybridIdentity();
    const x = await generateX25519Identity();
    const pqKey = parseAgeIdentityFile(pq)[0]!;
    const xKey = parseAgeIdentityFile(x)[0]!;
    for (const armored of [false, true]) {
      const sealed = sealAge(text(70_000), [hybridRecipient(pqKey.publicKey), x25519Recipient(xKey.publicKey)], { armor: armored });
      for (const id of [pq, x]) {
        const d = new Decrypter();
        d.addIdentity(id);
        const input = armored ? (await import('age-encryption')).armor.decode(sealed.toString('latin1')) : sealed;
        assert.deepEqual(Buffer.from(await d.decrypt(input)), text(70_000));
      }
    }
    assert.equal(parsePublicIdentity(await identityToRecipient(pq)).kind, 'xwing');
  });
  it('scrypt: typage opens what NoteSeal writes, NoteSeal opens what typage writes; a wrong passphrase is "no match"', async () => {
    const sealed = sealAge(Buffer.from('passphrase file\n'), [scryptRecipient(Buffer.from('correct horse'), 10)]);
    const d = new Decrypter();
    d.addPassphrase('correct horse');
    assert.equal(await d.decrypt(sealed, 'text'), 'passphrase file\n');
    const e = new Encrypter();
    e.setPassphrase('battery staple');
    e.setScryptWorkFactor(10);
    const theirs = await e.encrypt('from typage\n');
    assert.equal(openAge(theirs, [scryptIdentity(Buffer.from('battery staple'))]).plaintext.toString(), 'from typage\n');
    assert.throws(() => openAge(theirs, [scryptIdentity(Buffer.from('wrong'))]), e2 => isAgeError(e2, 'no match'));
  });
});
