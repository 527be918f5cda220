// Strict base64 as the age spec asks (c2sp.org/age, "Conventions"): the standard alphabet, canonical only
// (the unused bits of the last character are zero), unpadded in the header and padded in the armor.
// Node's own decoder is lenient (it skips bad characters), so every string is checked before and after.
const UNPADDED = /^[A-Za-z0-9+/]*$/;
const PADDED = /^[A-Za-z0-9+/]*={0,2}$/;

/** The bytes of unpadded canonical base64, or null. */
export function decodeRawBase64(text: string): Buffer | null {
  if (!UNPADDED.test(text) || text.length % 4 === 1) return null;
  const bytes = Buffer.from(text, 'base64');
  return encodeRawBase64(bytes) === text ? bytes : null;
}

export function encodeRawBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64').replace(/=+$/, '');
}

/** The bytes of padded canonical base64, or null. */
export function decodePaddedBase64(text: string): Buffer | null {
  if (!PADDED.test(text) || text.length % 4 !== 0) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : null;
}
