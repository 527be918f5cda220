// The printable recovery key: the 256-bit master key in Crockford base32, in groups of four, followed by
// one group of checksum. Decoding forgives case, spaces, dashes and O/0, I/L/1 confusion; the checksum
// catches mistyped or swapped characters before any decryption is attempted.
import { createHash } from 'node:crypto';
import { NoteSealError } from '../crypto/errors';
import { KEY_LENGTH } from './aead';
import { constantTimeEqual, utf8 } from './bytes';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const GROUP = 4;
const KEY_CHARS = Math.ceil((KEY_LENGTH * 8) / 5); // 52 characters carry 256 bits (+4 zero bits)
const CHECKSUM_CHARS = 4;                          // 20 bits: a random typo slips through 1 in a million times
const TOTAL_CHARS = KEY_CHARS + CHECKSUM_CHARS;

/** Bits -> base32 characters, most significant first; the last character is zero-padded. */
function encodeBits(bytes: Uint8Array, chars: number): string {
  let out = '';
  let acc = 0, bits = 0, i = 0;
  while (out.length < chars) {
    if (bits < 5) { acc = (acc << 8) | (i < bytes.length ? bytes[i++] : 0); bits += 8; }
    out += ALPHABET[(acc >>> (bits - 5)) & 31];
    bits -= 5;
    acc &= (1 << bits) - 1;
  }
  return out;
}

function checksumChars(key: Uint8Array): string {
  const digest = createHash('sha256').update('noteseal-recovery-key-v1\0').update(key).digest();
  return encodeBits(new Uint8Array(digest), CHECKSUM_CHARS);
}

export function encodeRecoveryKey(masterKey: Uint8Array): string {
  if (masterKey.length !== KEY_LENGTH) throw new NoteSealError('INVALID_ARGUMENT', 'A master key is 32 bytes.');
  const chars = encodeBits(masterKey, KEY_CHARS) + checksumChars(masterKey);
  return chars.match(new RegExp(`.{1,${GROUP}}`, 'g'))!.join('-');
}

function valueOf(ch: string): number {
  const normalized = ch === 'O' ? '0' : ch === 'I' || ch === 'L' ? '1' : ch;
  return ALPHABET.indexOf(normalized);
}

function badRecoveryKey(message: string): NoteSealError {
  return new NoteSealError('INVALID_ARGUMENT', `Recovery key not accepted: ${message}`);
}

/** Returns the master key the recovery key encodes; throws INVALID_ARGUMENT naming the problem (never echoing the key). */
export function decodeRecoveryKey(text: string): Uint8Array {
  const chars = text.toUpperCase().replace(/[\s-]+/g, '');
  if (chars.length !== TOTAL_CHARS) {
    throw badRecoveryKey(`expected ${TOTAL_CHARS} characters, got ${chars.length}.`);
  }
  const values: number[] = [];
  for (let i = 0; i < chars.length; i++) {
    const v = valueOf(chars[i]);
    if (v < 0) throw badRecoveryKey(`character ${i + 1} is not a recovery-key character.`);
    values.push(v);
  }
  const key = new Uint8Array(KEY_LENGTH);
  let acc = 0, bits = 0, at = 0;
  for (const v of values.slice(0, KEY_CHARS)) {
    acc = (acc << 5) | v; bits += 5;
    if (bits >= 8 && at < KEY_LENGTH) { key[at++] = (acc >>> (bits - 8)) & 0xff; bits -= 8; acc &= (1 << bits) - 1; }
  }
  const checksumOk = acc === 0 // the four padding bits must be zero
    && constantTimeEqual(utf8(checksumChars(key)), utf8(values.slice(KEY_CHARS).map(v => ALPHABET[v]).join('')));
  if (!checksumOk) {
    key.fill(0);
    throw badRecoveryKey('the checksum does not match; check each group for a typo.');
  }
  return key;
}
