// Per-file keys: derived from the data key and the per-write salt with HKDF-SHA256, so that a fresh salt
// on every write gives fresh keys, and nonces (a plain chunk counter) never repeat under one key.
import { createHash, hkdfSync } from 'node:crypto';
import { INFO_HEADER_MAC_KEY, INFO_PAYLOAD_KEY, KEY_LENGTH } from './constants';
import { NoteSealError } from './errors';

export interface FileKeys {
  payloadKey: Buffer;
  headerMacKey: Buffer;
  /** SHA-256 of the immutable header prefix: the AAD of every chunk. */
  chunkAad: Buffer;
  /** Overwrites the derived keys; call when the file is done. */
  dispose(): void;
}

function hkdf(ikm: Uint8Array, salt: Uint8Array, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, KEY_LENGTH));
}

export function checkDataKey(dataKey: Uint8Array): void {
  if (!(dataKey instanceof Uint8Array) || dataKey.length !== KEY_LENGTH) {
    throw new NoteSealError('INVALID_ARGUMENT', `a data key must be ${KEY_LENGTH} bytes`);
  }
}

export function deriveFileKeys(dataKey: Uint8Array, salt: Uint8Array, prefix: Uint8Array): FileKeys {
  checkDataKey(dataKey);
  const payloadKey = hkdf(dataKey, salt, INFO_PAYLOAD_KEY);
  const headerMacKey = hkdf(dataKey, salt, INFO_HEADER_MAC_KEY);
  return {
    payloadKey,
    headerMacKey,
    chunkAad: createHash('sha256').update(prefix).digest(),
    dispose() { payloadKey.fill(0); headerMacKey.fill(0); },
  };
}
