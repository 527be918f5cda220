// Key pairs made from 32 random bytes (curves.ts, not generateKeyPairSync: see there) are real key pairs:
// checked against OpenSSL's own key generator and against the other party's arithmetic, many times.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { ed25519, x25519 } from '../../../server/src/keys/curves';

describe('curves: generated key pairs', () => {
  it('X25519: the public key is the secret\'s, and both sides agree on the shared secret', () => {
    for (let i = 0; i < 100; i++) {
      const a = x25519.generate(), b = x25519.generate();
      assert.equal(a.secretKey.length, 32);
      assert.deepEqual(x25519.publicOf(a.secretKey), a.publicKey);
      assert.deepEqual(x25519.shared(a.secretKey, b.publicKey), x25519.shared(b.secretKey, a.publicKey));
      assert.notDeepEqual(a.secretKey, b.secretKey);
    }
  });

  it('Ed25519: signatures made with a generated pair verify, and not with another key', () => {
    for (let i = 0; i < 100; i++) {
      const k = ed25519.generate(), other = ed25519.generate();
      const msg = Buffer.from(`message ${i}`);
      const sig = ed25519.sign(k.secretKey, k.publicKey, msg);
      assert.ok(ed25519.verify(k.publicKey, msg, sig));
      assert.ok(!ed25519.verify(other.publicKey, msg, sig));
    }
  });

  it('agrees with OpenSSL\'s generator on how a secret maps to its public key', () => {
    for (const crv of ['x25519', 'ed25519'] as const) {
      const jwk = (crv === 'x25519' ? generateKeyPairSync('x25519') : generateKeyPairSync('ed25519')).privateKey.export({ format: 'jwk' }) as { x: string; d: string };
      const pub = (crv === 'x25519' ? x25519 : ed25519).publicOf(new Uint8Array(Buffer.from(jwk.d, 'base64url')));
      assert.equal(Buffer.from(pub).toString('base64url'), jwk.x);
    }
  });
});
