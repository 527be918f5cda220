// Key wrapping: AES-256-GCM over small secrets (keys), and HKDF for per-purpose wrapping keys.
// node:crypto is used because it is fast and constant-time (AES-NI); the data is tiny either way.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { concatBytes, utf8 } from './bytes';

export const KEY_LENGTH = 32;
export const NONCE_LENGTH = 12;
export const TAG_LENGTH = 16;

export interface Sealed {
  nonce: Uint8Array;
  /** Ciphertext followed by the 16-byte GCM tag. */
  ciphertext: Uint8Array;
}

export function seal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Sealed {
  const nonce = new Uint8Array(randomBytes(NONCE_LENGTH));
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad);
  const body = concatBytes(cipher.update(plaintext), cipher.final(), cipher.getAuthTag());
  return { nonce, ciphertext: body };
}

/** Returns the plaintext, or null when authentication fails (wrong key, or altered nonce/ciphertext/AAD). */
export function open(key: Uint8Array, sealed: Sealed, aad: Uint8Array): Uint8Array | null {
  const { nonce, ciphertext } = sealed;
  if (nonce.length !== NONCE_LENGTH || ciphertext.length < TAG_LENGTH) return null;
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
  decipher.setAAD(aad);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - TAG_LENGTH));
  try {
    const head = decipher.update(ciphertext.subarray(0, ciphertext.length - TAG_LENGTH));
    return concatBytes(head, decipher.final());
  } catch {
    return null;
  }
}

/**
 * Derives a 32-byte key for one purpose from a master key. `purpose` and `context` go into HKDF's info,
 * so a key derived for wrapping file keys can never be confused with one for the keyfile MAC.
 */
export function deriveSubkey(masterKey: Uint8Array, purpose: string, context: string): Uint8Array {
  const info = utf8(`noteseal/v1/${purpose}\0${context}`);
  return new Uint8Array(hkdfSync('sha256', masterKey, new Uint8Array(0), info, KEY_LENGTH));
}
