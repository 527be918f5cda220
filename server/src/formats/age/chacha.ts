// ChaCha20-Poly1305 (RFC 8439) through node:crypto: the cipher of age's stanza bodies and payload chunks.
import { createCipheriv, createDecipheriv } from 'node:crypto';

export const TAG_LENGTH = 16;
export const ZERO_NONCE = new Uint8Array(12);

export function chachaSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Buffer {
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_LENGTH });
  if (aad) c.setAAD(aad, { plaintextLength: plaintext.length });
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}

/** The plaintext, or null when the tag does not verify. */
export function chachaOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Buffer | null {
  if (sealed.length < TAG_LENGTH) return null;
  const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_LENGTH });
  d.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
  if (aad) d.setAAD(aad, { plaintextLength: sealed.length - TAG_LENGTH });
  try {
    const out = d.update(sealed.subarray(0, sealed.length - TAG_LENGTH));
    d.final();
    return out;
  } catch {
    return null;
  }
}
