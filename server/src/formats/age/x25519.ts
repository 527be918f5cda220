// age's X25519 recipient type (c2sp.org/age, "X25519 recipient stanza"): `-> X25519 <ephemeral share>`,
// body = ChaCha20-Poly1305(HKDF-SHA-256(shared, share ‖ recipient, "age-encryption.org/v1/X25519"), file key).
import { hkdfSync } from 'node:crypto';
import { x25519 } from '../../keys/curves';
import { wipe } from '../../keys/bytes';
import { chachaOpen, chachaSeal, ZERO_NONCE } from './chacha';
import { headerFailure } from './errors';
import { decodeRawBase64, encodeRawBase64 } from './base64';
import { FILE_KEY_LENGTH, type AgeStanza } from './header';
import { stanzasOfType, type AgeIdentity, type AgeRecipient } from './recipient';

const TYPE = 'X25519';
const INFO = 'age-encryption.org/v1/X25519';

function wrapKey(shared: Uint8Array, share: Uint8Array, recipient: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', shared, Buffer.concat([share, recipient]), INFO, 32));
}

export function x25519Recipient(publicKey: Uint8Array): AgeRecipient {
  return {
    type: TYPE,
    wrap(fileKey) {
      const eph = x25519.generate();
      const shared = x25519.shared(eph.secretKey, publicKey, eph.publicKey);
      wipe(eph.secretKey);
      if (!shared) throw new Error('not an X25519 public key');
      const key = wrapKey(shared, eph.publicKey, publicKey);
      try {
        return { args: [TYPE, encodeRawBase64(eph.publicKey)], body: chachaSeal(key, ZERO_NONCE, fileKey) };
      } finally { wipe(shared, key); }
    },
  };
}

export function x25519Identity(secretKey: Uint8Array, publicKey = x25519.publicOf(secretKey)): AgeIdentity {
  return {
    type: TYPE,
    unwrap(stanzas) {
      for (const s of stanzasOfType(stanzas, TYPE)) {
        const key = openStanza(s, secretKey, publicKey);
        if (key) return key;
      }
      return null;
    },
    wipe: () => wipe(secretKey),
  };
}

function openStanza(s: AgeStanza, secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array | null {
  if (s.args.length !== 2) throw headerFailure('an X25519 stanza has the wrong number of arguments');
  const share = decodeRawBase64(s.args[1]!);
  if (!share || share.length !== 32) throw headerFailure('an X25519 stanza\'s share is malformed');
  if (s.body.length !== FILE_KEY_LENGTH + 16) throw headerFailure('an X25519 stanza\'s body has the wrong length');
  const shared = x25519.shared(secretKey, share, publicKey);
  if (!shared) throw headerFailure('an X25519 stanza\'s share is a low-order point');
  const key = wrapKey(shared, share, publicKey);
  try { return chachaOpen(key, ZERO_NONCE, s.body); } finally { wipe(shared, key); }
}
