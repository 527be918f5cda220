// Identities per keyfile and the recipient stanzas (types 4 and 5): wrap, open, refuse, survive rotation.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bech32, bech32m } from '@scure/base';
import { decryptBuffer, encryptBuffer } from '../../../server/src/crypto/format';
import { isNoteSealError } from '../../../server/src/crypto/errors';
import { identityPath, readPublicIdentity } from '../../../server/src/keys/identity';
import {
  encodeAgeRecipient, encodeIdentity, parseAgeIdentityFile, parsePublicIdentity,
} from '../../../server/src/keys/identity-strings';
import { x25519 } from '../../../server/src/keys/curves';
import {
  RECIPIENT_KINDS, STANZA_X25519, STANZA_XWING, recipientStanzaId, unwrapWithReceivingKeys, wrapToRecipient,
} from '../../../server/src/keys/recipients';
import { newKeyring, openKeyring, PASSPHRASE, rejectsWith } from '../keys/helpers';

const TEXT = Buffer.from('DATABASE_URL=postgres://secret');

describe('identity of a keyfile', () => {
  it('setup creates an X-Wing + Ed25519 identity whose secrets are wrapped under the master key', async () => {
    const { keyring, keyfile } = await newKeyring();
    const { identity, created } = await keyring.ensureIdentity();
    assert.equal(created, false, 'init already made it');
    assert.equal(identity.public.kind, 'xwing');
    assert.match(identity.public.text, /^noteseal1[02-9ac-hj-np-z]+$/);
    assert.equal(identity.public.text.length, 2014);
    const stored = await fs.readFile(identityPath(keyring.keystoreDir), 'utf8');
    for (const secret of [identity.receiving.secretKey, identity.signing.secretKey]) {
      for (const enc of ['hex', 'base64', 'base64url'] as const) assert.ok(!stored.includes(Buffer.from(secret).toString(enc)), 'no secret in plaintext');
    }
    assert.equal((await readPublicIdentity(keyring.keystoreDir))?.text, identity.public.text);
    // Another keyring on the same keyfile opens the same identity; rotation rewraps it; recovery opens it.
    const again = openKeyring(keyfile);
    await again.unlock(PASSPHRASE);
    assert.equal((await again.identity())?.public.text, identity.public.text);
    const rotated = await again.rotate();
    const entry = JSON.parse(await fs.readFile(identityPath(keyring.keystoreDir), 'utf8')) as { masterKeyId: string };
    assert.equal(entry.masterKeyId, rotated.masterKeyId);
    const recovered = openKeyring(keyfile);
    await recovered.unlockWithRecoveryKey(rotated.recoveryKey);
    assert.equal((await recovered.identity())?.public.text, identity.public.text);
    recovered.lock();
    await assert.rejects(() => recovered.identity(), /locked/);
  });

  it('an identity entry that was altered is DAMAGED_KEYFILE, never a different key', async () => {
    const { keyring } = await newKeyring();
    const file = identityPath(keyring.keystoreDir);
    const json = JSON.parse(await fs.readFile(file, 'utf8')) as { identity: string };
    const other = (await newKeyring()).keyring;
    json.identity = (await other.identity())!.public.text;
    await fs.writeFile(file, JSON.stringify(json));
    keyring.lock();
    await keyring.unlock(PASSPHRASE);
    await rejectsWith(keyring.identity(), 'DAMAGED_KEYFILE');
  });

  it('a keyfile made before identities gets one from ensureIdentity, once', async () => {
    const { keyring, keyfile } = await newKeyring();
    await fs.rm(identityPath(keyring.keystoreDir));
    const k = openKeyring(keyfile);
    await k.unlock(PASSPHRASE);
    assert.equal(await k.identity(), null);
    const [a, b] = await Promise.all([k.ensureIdentity(), openKeyring(keyfile).unlock(PASSPHRASE).then(() => null)]);
    assert.equal(a.created, true);
    void b;
    assert.equal((await k.ensureIdentity()).created, false);
  });
});

describe('public identity strings', () => {
  it('round trip, and age1 recipients are X25519 recipients without a signing key', () => {
    const x = x25519.generate();
    const age = encodeAgeRecipient(x.publicKey);
    const parsed = parsePublicIdentity(`  ${age}\n`);
    assert.equal(parsed.kind, 'x25519');
    assert.equal(parsed.signingKey, undefined);
    assert.deepEqual(parsed.publicKey, x.publicKey);
    const text = encodeIdentity('x25519', new Uint8Array(32).fill(7), x.publicKey);
    assert.deepEqual(parsePublicIdentity(text).signingKey, new Uint8Array(32).fill(7));
  });

  it('refuse a wrong checksum, case, kind or length with INVALID_ARGUMENT', () => {
    const x = x25519.generate();
    const age = encodeAgeRecipient(x.publicKey);
    const flipped = age.slice(0, 10) + (age[10] === 'q' ? 'p' : 'q') + age.slice(11);
    for (const bad of ['', 'hello', age.toUpperCase(), flipped, age.replace('age1', 'noteseal1'), 'noteseal1qqqqqqq']) {
      assert.throws(() => parsePublicIdentity(bad), (e: unknown) => isNoteSealError(e) && e.code === 'INVALID_ARGUMENT', bad);
    }
  });

  it('property: any text gives an identity or INVALID_ARGUMENT, nothing else', () => {
    const ok = (f: () => unknown) => { try { f(); } catch (e) { if (!isNoteSealError(e) || e.code !== 'INVALID_ARGUMENT') throw e; } };
    fc.assert(fc.property(fc.string({ maxLength: 300 }), s => { ok(() => parsePublicIdentity(s)); ok(() => parseAgeIdentityFile(s)); }), { numRuns: 500 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1300 }), fc.constantFrom('noteseal', 'age'), (bytes, hrp) => {
      const coder = hrp === 'age' ? bech32 : bech32m;
      ok(() => parsePublicIdentity(coder.encode(hrp, coder.toWords(bytes), false)));
    }), { numRuns: 300 });
  });
});

describe('recipient stanzas', () => {
  for (const kind of ['x25519', 'xwing'] as const) {
    it(`${kind}: wraps to the public key, opens only with its key pair, and names its recipient`, () => {
      const me = { kind, ...RECIPIENT_KINDS[kind].generate() };
      const other = { kind, ...RECIPIENT_KINDS[kind].generate() };
      const dataKey = new Uint8Array(32).fill(9);
      const stanza = wrapToRecipient({ kind, publicKey: me.publicKey }, dataKey);
      assert.equal(stanza.type, kind === 'x25519' ? STANZA_X25519 : STANZA_XWING);
      assert.equal(stanza.body.length, RECIPIENT_KINDS[kind].bodyLength);
      assert.equal(recipientStanzaId(stanza)?.kind, kind);
      assert.deepEqual(unwrapWithReceivingKeys([stanza], [other, me]), dataKey);
      assert.equal(unwrapWithReceivingKeys([stanza], [other]), null);
      // Every single-bit flip of the body fails (the id, the ephemeral key or ciphertext, the nonce, the tag).
      for (const at of [0, 9, 40, stanza.body.length - 60, stanza.body.length - 1]) {
        const body = stanza.body.slice();
        body[at]! ^= 1;
        assert.equal(unwrapWithReceivingKeys([{ type: stanza.type, body }], [me]), null, `flip at ${at}`);
      }
    });
  }

  it('property: crafted recipient stanza bodies never throw, they just do not open', () => {
    const me = { kind: 'x25519' as const, ...RECIPIENT_KINDS.x25519.generate() };
    const meX = { kind: 'xwing' as const, ...RECIPIENT_KINDS.xwing.generate() };
    fc.assert(fc.property(fc.constantFrom(STANZA_X25519, STANZA_XWING), fc.uint8Array({ maxLength: 1300 }), (type, body) => {
      assert.equal(unwrapWithReceivingKeys([{ type, body }], [me, meX]), null);
    }), { numRuns: 200 });
  });

  it('a file shared to B opens with B\'s keyring (and the agent, which calls the same unwrap); old files still open', async () => {
    const a = (await newKeyring()).keyring;
    const b = (await newKeyring()).keyring;
    const bPublic = (await b.identity())!.public;
    const aPublic = (await a.identity())!.public;
    const { dataKey, stanzas } = await a.newFileStanzas({ recipients: [bPublic, aPublic, bPublic] });
    assert.deepEqual(stanzas.map(s => s.type), [1, STANZA_XWING], 'the writer keeps type 1; itself and duplicates are skipped');
    const file = encryptBuffer(TEXT, dataKey, stanzas);
    assert.deepEqual(await decryptBuffer(file, b.unwrap), TEXT);
    assert.deepEqual(await decryptBuffer(file, a.unwrap), TEXT);
    const c = (await newKeyring()).keyring;
    await rejectsWith(decryptBuffer(file, c.unwrap), 'WRONG_KEY');
    const single = await a.newFileStanzas();
    assert.deepEqual(await decryptBuffer(encryptBuffer(TEXT, single.dataKey, single.stanzas), a.unwrap), TEXT);
    await assert.rejects(() => a.newFileStanzas({ detached: true, recipients: [bPublic] }), /cannot be shared/);
  });

  it('more members than the header holds is LIMIT_EXCEEDED', async () => {
    const a = (await newKeyring()).keyring;
    const many = Array.from({ length: 15 }, () => ({ kind: 'x25519' as const, publicKey: x25519.generate().publicKey }));
    await rejectsWith(a.newFileStanzas({ recipients: many }), 'LIMIT_EXCEEDED');
  });
});
