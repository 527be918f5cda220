// test/vectors/keys-v1.json checked by a second implementation written from docs/KEYS.md alone: noble
// (@noble/hashes, @noble/curves, @noble/ciphers, @noble/post-quantum) and @scure/base, no NoteSeal key
// code. Then NoteSeal's own code opens the same vectors.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { gcm } from '@noble/ciphers/aes.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { argon2id } from '@noble/hashes/argon2.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ml_kem768_x25519 } from '@noble/post-quantum/hybrid.js';
import { bech32, bech32m } from '@scure/base';
import { decryptBuffer } from '../../../server/src/crypto/format';
import { parseAgeIdentityFile } from '../../../server/src/keys/identity-strings';
import { unwrapWithReceivingKeys } from '../../../server/src/keys/recipients';
import { parseRecipientsText, verifyChain } from '../../../server/src/keys/recipients-file';

const root = path.resolve(__dirname, '../../../..');
const V = JSON.parse(readFileSync(path.join(root, 'test/vectors/keys-v1.json'), 'utf8'));
const enc = new TextEncoder();
const u8 = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const b64 = (s: string) => Uint8Array.from(Buffer.from(s, 'base64'));
const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');
const cat = (...p: Uint8Array[]) => Uint8Array.from(Buffer.concat(p));
const subkey = (k: Uint8Array, purpose: string, context: string) => hkdf(sha256, k, new Uint8Array(0), enc.encode(`noteseal/v1/${purpose}\0${context}`), 32);
const openGcm = (key: Uint8Array, nonce: Uint8Array, ct: Uint8Array, aad: Uint8Array) => gcm(key, nonce, aad).decrypt(ct);

describe('key vectors, second implementation (docs/KEYS.md)', () => {
  it('keyfile: checksum, Argon2id KEK, wrapped master key, mac, master key id; recovery key', () => {
    const kf = JSON.parse(V.keyfile.json);
    const { checksum, ...rest } = kf;
    assert.equal(hexOf(sha256(enc.encode(JSON.stringify(rest)))), checksum);
    const kek = argon2id(enc.encode(V.keyfile.passphrase.normalize('NFC')), b64(kf.kdf.salt), { m: kf.kdf.m, t: kf.kdf.t, p: kf.kdf.p, dkLen: 32, version: 0x13 });
    const aad = JSON.stringify(['noteseal-keyfile', 1, 'argon2id', kf.kdf.m, kf.kdf.t, kf.kdf.p, kf.kdf.salt, kf.masterKeyId]);
    const master = openGcm(kek, b64(kf.wrappedMasterKey.nonce), b64(kf.wrappedMasterKey.ciphertext), enc.encode(aad));
    assert.equal(hexOf(master), V.keyfile.masterKeyHex);
    assert.equal(hexOf(subkey(master, 'key-id', '').subarray(0, 8)), kf.masterKeyId);
    const macInput = JSON.stringify([aad, [kf.wrappedMasterKey.nonce, kf.wrappedMasterKey.ciphertext], kf.retired.map((r: { masterKeyId: string; nonce: string; ciphertext: string }) => [r.masterKeyId, r.nonce, r.ciphertext])]);
    assert.equal(Buffer.from(hmac(sha256, subkey(master, 'keyfile-mac', kf.masterKeyId), enc.encode(macInput))).toString('base64'), kf.mac);
    // Recovery key: 52 Crockford characters of the key (4 zero bits of padding), 4 of SHA-256 over a tag.
    const A = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    const bits = (b: Uint8Array, n: number) => { let s = ''; for (const x of b) s += x.toString(2).padStart(8, '0'); s = s.padEnd(n * 5, '0'); return Array.from({ length: n }, (_, i) => A[parseInt(s.slice(i * 5, i * 5 + 5), 2)]).join(''); };
    const chars = bits(master, 52) + bits(sha256(cat(enc.encode('noteseal-recovery-key-v1\0'), master)), 4);
    assert.equal(chars.match(/.{4}/g)!.join('-'), V.keyfile.recoveryKey);
  });

  it('stanza 1, the key store entry and the identity entry open under the master key', () => {
    const master = u8(V.keyfile.masterKeyHex);
    const id = JSON.parse(V.keyfile.json).masterKeyId as string;
    const b = u8(V.stanza1.bodyHex);
    assert.equal(hexOf(b.subarray(0, 8)), id);
    assert.equal(hexOf(openGcm(subkey(master, 'file-key-wrap', id), b.subarray(8, 20), b.subarray(20), enc.encode(`noteseal/v1/stanza-1\0${id}`))), V.dataKeyHex);
    const e = JSON.parse(V.keyStoreEntry.json);
    assert.equal(hexOf(openGcm(subkey(master, 'detached-key-wrap', e.masterKeyId), b64(e.nonce), b64(e.ciphertext), enc.encode(`noteseal/v1/detached-key\0${e.keyId}`))), V.keyStoreEntry.dataKeyHex);
    const ie = JSON.parse(V.identity.json);
    const secret = openGcm(subkey(master, 'identity-wrap', ie.masterKeyId), b64(ie.nonce), b64(ie.ciphertext), enc.encode(`noteseal/v1/identity\0${ie.identity}`));
    assert.equal(secret[0], 1, 'kind 1: X-Wing');
    const xwingPub = ml_kem768_x25519.keygen(secret.subarray(1, 33)).publicKey;
    const edPub = ed25519.getPublicKey(secret.subarray(33, 65));
    const text = bech32m.encode('noteseal', bech32m.toWords(cat(Uint8Array.of(1), edPub, xwingPub)), false);
    assert.equal(text, ie.identity);
    assert.equal(text, V.identity.text);
  });

  it('stanza 4 opens with the age identity, stanza 5 with the X-Wing seed', () => {
    const dec = bech32.decode(V.stanza4.ageIdentity, false);
    const r = bech32.fromWords(dec.words);
    const R = x25519.getPublicKey(r);
    assert.equal(bech32.encode('age', bech32.toWords(R)), V.stanza4.ageRecipient);
    const rid = (k: number, pub: Uint8Array) => sha256(cat(enc.encode('noteseal/v1/recipient-id\0'), Uint8Array.of(k), pub)).subarray(0, 8);
    const b4 = u8(V.stanza4.bodyHex);
    assert.equal(b4.length, 100);
    assert.deepEqual(b4.subarray(0, 8), rid(1, R));
    const E = b4.subarray(8, 40);
    const k4 = hkdf(sha256, x25519.getSharedSecret(r, E), cat(E, R), enc.encode('noteseal/v1/x25519-wrap'), 32);
    assert.equal(hexOf(openGcm(k4, b4.subarray(40, 52), b4.subarray(52), cat(enc.encode('noteseal/v1/stanza-4\0'), R))), V.dataKeyHex);
    const seed = u8(V.stanza5.seedHex);
    const P = ml_kem768_x25519.keygen(seed).publicKey;
    const b5 = u8(V.stanza5.bodyHex);
    assert.equal(b5.length, 1188);
    assert.deepEqual(b5.subarray(0, 8), rid(2, P));
    const C = b5.subarray(8, 1128);
    const k5 = hkdf(sha256, ml_kem768_x25519.decapsulate(C, seed), cat(C, P), enc.encode('noteseal/v1/xwing-wrap'), 32);
    assert.equal(hexOf(openGcm(k5, b5.subarray(1128, 1140), b5.subarray(1140), cat(enc.encode('noteseal/v1/stanza-5\0'), P))), V.dataKeyHex);
  });

  it('recipients file: every entry is signed by a member, hash-linked; the members at the end', () => {
    const lines = (V.recipientsFile.text as string).split('\n').filter(l => l && !l.startsWith('#'));
    assert.equal(lines[0], 'noteseal-recipients 1');
    let prev = '0'.repeat(64);
    const members: { name: string; identity: string; signing?: string }[] = [];
    for (const [i, line] of lines.slice(1).entries()) {
      const e = JSON.parse(line);
      const signed = enc.encode(`noteseal/v1/recipients-entry\0${JSON.stringify([1, e.op, e.name, e.identity, e.prev, e.by, e.at])}`);
      assert.equal(e.prev, prev);
      assert.ok(ed25519.verify(b64(e.sig), signed, u8(e.by)));
      const signingKeyOf = (idText: string) => idText.startsWith('noteseal1') ? hexOf(bech32m.fromWords(bech32m.decode(idText as `${string}1${string}`, false).words).subarray(1, 33)) : undefined;
      if (i === 0) assert.equal(signingKeyOf(e.identity), e.by); else assert.ok(members.some(m => m.signing === e.by));
      if (e.op === 'add') members.push({ name: e.name, identity: e.identity, signing: signingKeyOf(e.identity) });
      else members.splice(members.findIndex(m => m.identity === e.identity), 1);
      prev = hexOf(sha256(cat(signed, enc.encode(e.sig))));
      assert.equal(prev, V.recipientsFile.ids[i]);
    }
    assert.deepEqual(members.map(m => m.name), V.recipientsFile.members);
  });

  it('write signature: over the prefix, the key commitment and the payload hash', () => {
    const file = u8(V.writeSignature.fileHex);
    // Walk the header (FORMAT.md): prefix 31, count, stanzas, MAC 32.
    let at = 32;
    let sig: Uint8Array | undefined;
    for (let i = 0; i < file[31]!; i++) {
      const type = file[at]!; const len = (file[at + 1]! << 8) | file[at + 2]!;
      if (type === 6) sig = file.subarray(at + 3, at + 3 + len);
      at += 3 + len;
    }
    const headerLength = at + 32;
    assert.ok(sig && sig.length === 136);
    const signer = sig.subarray(0, 32); const when = sig.subarray(32, 40); const commitment = sig.subarray(40, 72);
    assert.equal(hexOf(signer), V.writeSignature.signerHex);
    assert.equal(new Date(Number(Buffer.from(when).readBigUInt64BE())).toISOString(), V.writeSignature.at);
    assert.deepEqual(commitment, hkdf(sha256, u8(V.dataKeyHex), file.subarray(15, 31), enc.encode('NoteSeal v1 write key commitment'), 32));
    const message = cat(enc.encode('noteseal/v1/write-signature\0'), file.subarray(0, 31), commitment, sha256(file.subarray(headerLength)), signer, when);
    assert.ok(ed25519.verify(sig.subarray(72), message, signer));
    const tampered = file.slice(); tampered[tampered.length - 1]! ^= 1;
    assert.ok(!ed25519.verify(sig.subarray(72), cat(enc.encode('noteseal/v1/write-signature\0'), file.subarray(0, 31), commitment, sha256(tampered.subarray(headerLength)), signer, when), signer));
  });

  it('NoteSeal\'s own code agrees: the age identity opens stanza 4, the chain verifies, the signed file decrypts', async () => {
    const keys = parseAgeIdentityFile(`# comment\n${V.stanza4.ageIdentity}\n`);
    assert.equal(hexOf(unwrapWithReceivingKeys([{ type: 4, body: u8(V.stanza4.bodyHex) }], keys)!), V.dataKeyHex);
    assert.deepEqual(verifyChain(parseRecipientsText(V.recipientsFile.text)).members.map(m => m.name), V.recipientsFile.members);
    const plain = await decryptBuffer(u8(V.writeSignature.fileHex), async () => u8(V.dataKeyHex));
    assert.equal(plain.length, V.writeSignature.plaintextLength);
  });
});
