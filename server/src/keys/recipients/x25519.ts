// X25519 recipients (age's `age1…` keys): ephemeral-static ECDH, the wrap key from HKDF over the shared
// secret with both public keys as the salt, as age's X25519 stanza does (docs/KEYS.md, "Type 4").
// `sealToX25519` / `openFromX25519` are also the recovery store's type-3 stanza, with its own labels.
import { hkdfSync } from 'node:crypto';
import type { Stanza } from '../../crypto/format';
import { KEY_LENGTH, NONCE_LENGTH, open, seal, TAG_LENGTH } from '../aead';
import { concatBytes, utf8, wipe } from '../bytes';
import { x25519 } from '../curves';
import { RECIPIENT_ID_BYTES, recipientIdOf, type RecipientKind } from './kind';

export interface X25519Labels { info: string; aadPrefix: string }

export const SEALED_X25519_LENGTH = 32 + NONCE_LENGTH + KEY_LENGTH + TAG_LENGTH;

function wrapKeyFor(shared: Uint8Array, ephemeral: Uint8Array, recipient: Uint8Array, info: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', shared, concatBytes(ephemeral, recipient), utf8(info), KEY_LENGTH));
}

/** ephemeral public key (32) | nonce (12) | AES-256-GCM(wrap key, secret) (secret + 16). */
export function sealToX25519(recipient: Uint8Array, secret: Uint8Array, labels: X25519Labels): Uint8Array {
  const eph = x25519.generate();
  const shared = x25519.shared(eph.secretKey, recipient, eph.publicKey);
  wipe(eph.secretKey);
  if (!shared) throw new Error('not an X25519 public key');
  const key = wrapKeyFor(shared, eph.publicKey, recipient, labels.info);
  try {
    const sealed = seal(key, secret, concatBytes(utf8(labels.aadPrefix), recipient));
    return concatBytes(eph.publicKey, sealed.nonce, sealed.ciphertext);
  } finally { wipe(shared, key); }
}

/** The secret, or null when this key pair does not open `body`. */
export function openFromX25519(body: Uint8Array, secretKey: Uint8Array, publicKey: Uint8Array, labels: X25519Labels): Uint8Array | null {
  if (body.length < 32 + NONCE_LENGTH + TAG_LENGTH) return null;
  const ephemeral = body.subarray(0, 32);
  const shared = x25519.shared(secretKey, ephemeral, publicKey);
  if (!shared) return null;
  const key = wrapKeyFor(shared, ephemeral, publicKey, labels.info);
  try {
    return open(key, { nonce: body.subarray(32, 32 + NONCE_LENGTH), ciphertext: body.subarray(32 + NONCE_LENGTH) },
      concatBytes(utf8(labels.aadPrefix), publicKey));
  } finally { wipe(shared, key); }
}

export const STANZA_X25519 = 4;
const LABELS: X25519Labels = { info: 'noteseal/v1/x25519-wrap', aadPrefix: 'noteseal/v1/stanza-4\0' };

export const x25519Kind: RecipientKind = {
  name: 'x25519',
  stanzaType: STANZA_X25519,
  publicKeyLength: 32,
  bodyLength: RECIPIENT_ID_BYTES + SEALED_X25519_LENGTH,
  wrap(publicKey, dataKey): Stanza {
    return { type: STANZA_X25519, body: concatBytes(recipientIdOf('x25519', publicKey), sealToX25519(publicKey, dataKey, LABELS)) };
  },
  unwrap(body, key) {
    return openFromX25519(body.subarray(RECIPIENT_ID_BYTES), key.secretKey, key.publicKey, LABELS);
  },
  generate: () => x25519.generate(),
};
