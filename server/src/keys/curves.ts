// X25519 and Ed25519 on raw 32-byte keys, through node:crypto (constant-time, OpenSSL). One place, so the
// recovery store, the X25519 recipient stanza and the signing code cannot differ in how they call it.
import { createPrivateKey, createPublicKey, diffieHellman, randomBytes, sign, verify, type KeyObject } from 'node:crypto';

export interface RawKeyPair { publicKey: Uint8Array; secretKey: Uint8Array }

const b64url = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
const raw = (s: string) => new Uint8Array(Buffer.from(s, 'base64url'));

/**
 * 32 random bytes are an X25519 or an Ed25519 secret key (RFC 7748 clamps them, RFC 8032 hashes the seed),
 * which is all OpenSSL's own generator does. Not generateKeyPairSync: in Node 20 it was seen to deadlock (a
 * KeyGenJob freed by the garbage collector while its key was being exported as a JWK; gdb showed the main
 * thread waiting on the job's mutex), which hung `noteseal init` for good.
 */
function generate(crv: 'X25519' | 'Ed25519'): RawKeyPair {
  const drawn = randomBytes(32);
  const secretKey = new Uint8Array(drawn); // its own memory, not a slice of Node's shared Buffer pool
  drawn.fill(0);
  return { publicKey: publicOf(crv, secretKey), secretKey };
}

function privateKeyObject(crv: 'X25519' | 'Ed25519', secretKey: Uint8Array, publicKey?: Uint8Array): KeyObject {
  const x = publicKey ?? publicOf(crv, secretKey);
  return createPrivateKey({ key: { kty: 'OKP', crv, x: b64url(x), d: b64url(secretKey) }, format: 'jwk' });
}

function publicOf(crv: 'X25519' | 'Ed25519', secretKey: Uint8Array): Uint8Array {
  // A JWK private key needs its x; derive it from d through a PKCS#8 import.
  const prefix = crv === 'X25519' ? '302e020100300506032b656e04220420' : '302e020100300506032b657004220420';
  const key = createPrivateKey({ key: Buffer.concat([Buffer.from(prefix, 'hex'), secretKey]), format: 'der', type: 'pkcs8' });
  return raw((createPublicKey(key).export({ format: 'jwk' }) as { x: string }).x);
}

export const x25519 = {
  generate: () => generate('X25519'),
  publicOf: (secretKey: Uint8Array) => publicOf('X25519', secretKey),
  /** The shared secret, or null for a malformed or low-order peer key (an all-zero result is refused, as age does). */
  shared(secretKey: Uint8Array, peerPublic: Uint8Array, ownPublic?: Uint8Array): Uint8Array | null {
    if (peerPublic.length !== 32 || secretKey.length !== 32) return null;
    try {
      const out = new Uint8Array(diffieHellman({
        privateKey: privateKeyObject('X25519', secretKey, ownPublic),
        publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64url(peerPublic) }, format: 'jwk' }),
      }));
      return out.some(b => b !== 0) ? out : null;
    } catch {
      return null;
    }
  },
};

export const ed25519 = {
  generate: () => generate('Ed25519'),
  publicOf: (secretKey: Uint8Array) => publicOf('Ed25519', secretKey),
  sign(secretKey: Uint8Array, publicKey: Uint8Array, message: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, message, privateKeyObject('Ed25519', secretKey, publicKey)));
  },
  /** False for a bad signature and for a malformed key or signature: never throws. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    try {
      return verify(null, message, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(publicKey) }, format: 'jwk' }), signature);
    } catch {
      return false;
    }
  },
};
