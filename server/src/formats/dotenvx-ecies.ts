// ECIES on secp256k1 exactly as eciesjs (the library dotenvx uses) does it with its default settings, so a
// value NoteSeal encrypts is one `dotenvx get` decrypts and the other way round:
//   ephemeral key pair e; shared = the uncompressed point e·P (65 bytes);
//   key = HKDF-SHA256(ikm = E_uncompressed(65) ‖ shared, no salt, no info, 32 bytes);
//   out = E_uncompressed(65) ‖ nonce(16) ‖ AES-256-GCM tag(16) ‖ ciphertext.
// secp256k1 from @noble/curves (audited, constant-time scalar multiplication) and, to decrypt, OpenSSL's ECDH
// (node:crypto); AES-GCM and HKDF from node:crypto.
import { createCipheriv, createDecipheriv, createECDH, hkdfSync, randomBytes, type ECDH } from 'node:crypto';
import { secp256k1 } from '../keys/noble-lazy';
import { wipe } from '../keys/bytes';

const POINT = 65, NONCE = 16, TAG = 16;

function keyFrom(ephemeralPublic: Uint8Array, shared: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.concat([ephemeralPublic, shared]), Buffer.alloc(0), Buffer.alloc(0), 32));
}

/** Whether `publicKey` is a valid secp256k1 point (33-byte compressed or 65-byte uncompressed). */
export function isSecp256k1PublicKey(publicKey: Uint8Array): boolean {
  try { secp256k1().Point.fromBytes(publicKey); return true; } catch { return false; }
}

/** Encrypts to `publicKey`. `fixed` (tests only): the ephemeral secret and nonce, to compare bytes with eciesjs. */
export function eciesEncrypt(publicKey: Uint8Array, plaintext: Uint8Array, fixed?: { ephemeralSecret: Uint8Array; nonce: Uint8Array }): Buffer {
  const ephemeralSecret = fixed ? new Uint8Array(fixed.ephemeralSecret) : secp256k1().utils.randomSecretKey();
  const ephemeralPublic = secp256k1().getPublicKey(ephemeralSecret, false);
  const shared = secp256k1().getSharedSecret(ephemeralSecret, publicKey, false);
  const key = keyFrom(ephemeralPublic, shared);
  const nonce = fixed ? Buffer.from(fixed.nonce) : randomBytes(NONCE);
  try {
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([ephemeralPublic, nonce, cipher.getAuthTag(), body]);
  } finally { wipe(ephemeralSecret); wipe(shared); key.fill(0); }
}

/**
 * The two points whose x-coordinate is `x` (even y first), uncompressed: OpenSSL's ECDH (native, ~100× faster
 * than a scalar multiplication in JavaScript) gives only the shared point's x, and eciesjs's key derivation
 * takes the whole point. The AES-GCM tag tells which of the two it was (the other fails it).
 */
function pointsWithX(x: Uint8Array): Uint8Array[] {
  const even = secp256k1().Point.fromBytes(Buffer.concat([Buffer.from([2]), x]));
  return [even.toBytes(false), even.negate().toBytes(false)];
}

/** The plaintext, or null when the bytes are malformed or `secretKey` does not open them (no partial output). */
export function eciesDecrypt(secretKey: Uint8Array, sealed: Uint8Array): Buffer | null {
  return eciesDecryptor(secretKey)(sealed);
}

/**
 * eciesDecrypt for many values under one key: the key is set up once (OpenSSL's ECDH on secp256k1, which
 * derives its public half on setup); each value then costs one scalar multiplication.
 */
export function eciesDecryptor(secretKey: Uint8Array): (sealed: Uint8Array) => Buffer | null {
  let ecdh: ECDH | null;
  try { ecdh = createECDH('secp256k1'); ecdh.setPrivateKey(secretKey); } catch { ecdh = null; }
  return sealed => ecdh ? decryptWith(ecdh, sealed) : null;
}

function decryptWith(ecdh: ECDH, sealed: Uint8Array): Buffer | null {
  if (sealed.length < POINT + NONCE + TAG) return null;
  const ephemeralPublic = sealed.subarray(0, POINT);
  let x: Buffer;
  try { x = ecdh.computeSecret(ephemeralPublic); } catch { return null; }
  try {
    for (const shared of pointsWithX(x)) {
      const key = keyFrom(ephemeralPublic, shared);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(POINT, POINT + NONCE));
        decipher.setAuthTag(sealed.subarray(POINT + NONCE, POINT + NONCE + TAG));
        const out = decipher.update(sealed.subarray(POINT + NONCE + TAG));
        try { decipher.final(); } catch { out.fill(0); continue; }
        return out;
      } finally { wipe(shared); key.fill(0); }
    }
    return null;
  } finally { x.fill(0); }
}
