// age's passphrase type (c2sp.org/age, "scrypt recipient stanza"): `-> scrypt <salt> <log2 N>`, the wrap
// key scrypt(passphrase, "age-encryption.org/v1/scrypt" ‖ salt, N, r = 8, p = 1). A file with a scrypt
// stanza has no other stanza (checked by the reader for every file, as age does).
import { randomBytes, scryptSync } from 'node:crypto';
import { wipe } from '../../keys/bytes';
import { chachaOpen, chachaSeal, ZERO_NONCE } from './chacha';
import { headerFailure } from './errors';
import { decodeRawBase64, encodeRawBase64 } from './base64';
import { FILE_KEY_LENGTH } from './header';
import { stanzasOfType, type AgeIdentity, type AgeRecipient } from './recipient';

export const SCRYPT_TYPE = 'scrypt';
const LABEL = 'age-encryption.org/v1/scrypt';
/** What age writes by default (about a second), and the most it will read (a crafted file cannot ask for more). */
export const DEFAULT_WORK_FACTOR = 18;
export const MAX_WORK_FACTOR = 22;
const SALT_LENGTH = 16;

function derive(passphrase: Uint8Array, salt: Uint8Array, logN: number): Buffer {
  const N = 2 ** logN;
  return scryptSync(passphrase, Buffer.concat([Buffer.from(LABEL, 'latin1'), salt]), 32, { N, r: 8, p: 1, maxmem: 256 * N * 8 + 1024 * 1024 });
}

export function scryptRecipient(passphrase: Uint8Array, workFactor = DEFAULT_WORK_FACTOR): AgeRecipient {
  return {
    type: SCRYPT_TYPE,
    wrap(fileKey) {
      const salt = randomBytes(SALT_LENGTH);
      const key = derive(passphrase, salt, workFactor);
      try {
        return { args: [SCRYPT_TYPE, encodeRawBase64(salt), String(workFactor)], body: chachaSeal(key, ZERO_NONCE, fileKey) };
      } finally { key.fill(0); }
    },
  };
}

export function scryptIdentity(passphrase: Uint8Array): AgeIdentity {
  return {
    type: SCRYPT_TYPE,
    unwrap(stanzas) {
      for (const s of stanzasOfType(stanzas, SCRYPT_TYPE)) {
        if (s.args.length !== 3) throw headerFailure('a scrypt stanza has the wrong number of arguments');
        const salt = decodeRawBase64(s.args[1]!);
        if (!salt || salt.length !== SALT_LENGTH) throw headerFailure('a scrypt stanza\'s salt is malformed');
        if (!/^[1-9][0-9]?$/.test(s.args[2]!) || Number(s.args[2]) > MAX_WORK_FACTOR) {
          throw headerFailure(`a scrypt stanza's work factor is malformed or above ${MAX_WORK_FACTOR}`);
        }
        if (s.body.length !== FILE_KEY_LENGTH + 16) throw headerFailure('a scrypt stanza\'s body has the wrong length');
        const key = derive(passphrase, salt, Number(s.args[2]));
        try {
          const fileKey = chachaOpen(key, ZERO_NONCE, s.body);
          if (fileKey) return fileKey;
        } finally { key.fill(0); }
      }
      return null;
    },
    wipe: () => wipe(passphrase),
  };
}
