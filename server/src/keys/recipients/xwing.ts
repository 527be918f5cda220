// ML-KEM-768 + X25519 hybrid recipients (X-Wing, draft-connolly-cfrg-xwing-kem, as age's `age1pq…` uses):
// a KEM ciphertext per recipient, the wrap key from HKDF over the KEM's shared secret with the ciphertext
// and the recipient's public key as the salt (docs/KEYS.md, "Type 5"). The secret key is X-Wing's 32-byte seed.
import { hkdfSync, randomBytes } from 'node:crypto';
import type { Stanza } from '../../crypto/format';
import { KEY_LENGTH, NONCE_LENGTH, open, seal, TAG_LENGTH } from '../aead';
import { concatBytes, utf8, wipe } from '../bytes';
import { x25519 } from '../curves';
import { xwingKem } from '../noble-lazy';
import { RECIPIENT_ID_BYTES, recipientIdOf, type RecipientKind } from './kind';

export const STANZA_XWING = 5;
export const XWING_PUBLIC_KEY_LENGTH = 1216;
export const XWING_CIPHERTEXT_LENGTH = 1120;
const INFO = 'noteseal/v1/xwing-wrap';
const AAD_PREFIX = 'noteseal/v1/stanza-5\0';

// Loaded on first use (keys/noble-lazy.ts): most commands never meet an X-Wing stanza.
const xwing = xwingKem;

function wrapKeyFor(shared: Uint8Array, cipherText: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', shared, concatBytes(cipherText, publicKey), utf8(INFO), KEY_LENGTH));
}

export const xwingKind: RecipientKind = {
  name: 'xwing',
  stanzaType: STANZA_XWING,
  publicKeyLength: XWING_PUBLIC_KEY_LENGTH,
  bodyLength: RECIPIENT_ID_BYTES + XWING_CIPHERTEXT_LENGTH + NONCE_LENGTH + KEY_LENGTH + TAG_LENGTH,
  wrap(publicKey, dataKey): Stanza {
    const { cipherText, sharedSecret } = xwing().encapsulate(publicKey);
    const key = wrapKeyFor(sharedSecret, cipherText, publicKey);
    try {
      const sealed = seal(key, dataKey, concatBytes(utf8(AAD_PREFIX), publicKey));
      return { type: STANZA_XWING, body: concatBytes(recipientIdOf('xwing', publicKey), cipherText, sealed.nonce, sealed.ciphertext) };
    } finally { wipe(sharedSecret, key); }
  },
  unwrap(body, key) {
    const cipherText = body.subarray(RECIPIENT_ID_BYTES, RECIPIENT_ID_BYTES + XWING_CIPHERTEXT_LENGTH);
    const rest = body.subarray(RECIPIENT_ID_BYTES + XWING_CIPHERTEXT_LENGTH);
    let shared: Uint8Array;
    try { shared = xwing().decapsulate(cipherText, key.secretKey); } catch { return null; }
    const wrapKey = wrapKeyFor(shared, cipherText, key.publicKey);
    try {
      return open(wrapKey, { nonce: rest.subarray(0, NONCE_LENGTH), ciphertext: rest.subarray(NONCE_LENGTH) }, concatBytes(utf8(AAD_PREFIX), key.publicKey));
    } finally { wipe(shared, wrapKey); }
  },
  generate() {
    const seed = new Uint8Array(randomBytes(32));
    return { publicKey: xwing().keygen(seed).publicKey, secretKey: seed };
  },
};

const MLKEM768_Q = 3329;
/** Any clamped scalar (a multiple of 8) maps exactly the low-order X25519 points to zero. */
const PROBE_SCALAR = new Uint8Array(32).fill(0x5a);
const MLKEM768_POLY_BYTES = 1152; // 3 polynomials of 256 coefficients, 12 bits each; then rho (32) and X25519 (32)

/**
 * Why `publicKey` is not an X-Wing public key one can encapsulate to, or undefined. The ML-KEM-768 half must
 * pass FIPS 203's modulus check (every 12-bit coefficient below q), as age checks when it parses `age1pq1…`,
 * and the X25519 half must not be a low-order point; otherwise the error would come only at the first save,
 * from inside the KEM.
 */
export function xwingPublicKeyProblem(publicKey: Uint8Array): string | undefined {
  if (publicKey.length !== XWING_PUBLIC_KEY_LENGTH) return `an X-Wing public key holds ${XWING_PUBLIC_KEY_LENGTH} bytes, not ${publicKey.length}`;
  for (let i = 0; i < MLKEM768_POLY_BYTES; i += 3) {
    const b0 = publicKey[i]!, b1 = publicKey[i + 1]!, b2 = publicKey[i + 2]!;
    if ((b0 | ((b1 & 0x0f) << 8)) >= MLKEM768_Q || ((b1 >> 4) | (b2 << 4)) >= MLKEM768_Q) return 'its ML-KEM-768 key is not valid (a coefficient is not below q)';
  }
  if (!x25519.shared(PROBE_SCALAR, publicKey.subarray(XWING_PUBLIC_KEY_LENGTH - 32))) return 'its X25519 key is a low-order point';
  return undefined;
}

/** The X-Wing public key of a seed (the seed is the whole secret key). */
export function xwingPublicOf(seed: Uint8Array): Uint8Array {
  return xwing().keygen(seed).publicKey;
}
