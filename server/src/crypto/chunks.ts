// One chunk: AES-256-GCM under the payload key, nonce = 11-byte big-endian counter || last-chunk flag,
// AAD = SHA-256 of the immutable header prefix. Frames: 0x00 ct tag (full chunk) or
// 0x01 len32 ct tag (the final chunk, len < chunk size).
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { FRAME_CHUNK, FRAME_FINAL, FRAME_PARTIAL, MAX_CHUNKS, NONCE_LENGTH, TAG_LENGTH } from './constants';
import { NoteSealError } from './errors';

export function chunkNonce(counter: number, final: boolean): Buffer {
  if (!Number.isSafeInteger(counter) || counter < 0 || counter >= MAX_CHUNKS) {
    throw new NoteSealError('LIMIT_EXCEEDED', 'the file has more chunks than the format allows');
  }
  const nonce = Buffer.alloc(NONCE_LENGTH);
  nonce.writeUIntBE(counter, 5, 6); // bytes 0..4 stay zero below 2^48
  nonce[11] = final ? 1 : 0;
  return nonce;
}

/** Encrypts one chunk; returns the frame as pieces (kind/length head, ciphertext, tag) to write without copying. */
export function sealChunk(key: Uint8Array, aad: Uint8Array, counter: number, final: boolean, plaintext: Uint8Array): Buffer[] {
  const cipher = createCipheriv('aes-256-gcm', key, chunkNonce(counter, final));
  cipher.setAAD(aad);
  const ct = cipher.update(plaintext);
  cipher.final();
  const tag = cipher.getAuthTag();
  let head: Buffer;
  if (final) {
    head = Buffer.alloc(5);
    head[0] = FRAME_FINAL;
    head.writeUInt32BE(plaintext.length, 1);
  } else {
    head = Buffer.of(FRAME_CHUNK);
  }
  return [head, ct, tag];
}

/**
 * A log's partial frame (FLAG_LOG files): a short chunk that is not the last, sealed under the nonce of a
 * full chunk (its counter, not final). Head 0x02 len32, so a reader knows where it ends.
 */
export function sealPartialChunk(key: Uint8Array, aad: Uint8Array, counter: number, plaintext: Uint8Array): Buffer[] {
  const [, ct, tag] = sealChunk(key, aad, counter, false, plaintext);
  const head = Buffer.alloc(5);
  head[0] = FRAME_PARTIAL;
  head.writeUInt32BE(plaintext.length, 1);
  return [head, ct!, tag!];
}

/** Decrypts one chunk body (ciphertext || tag); null when it fails authentication. */
export function openChunk(key: Uint8Array, aad: Uint8Array, counter: number, final: boolean, body: Uint8Array): Buffer | null {
  if (body.length < TAG_LENGTH) return null;
  const decipher = createDecipheriv('aes-256-gcm', key, chunkNonce(counter, final));
  decipher.setAAD(aad);
  decipher.setAuthTag(body.subarray(body.length - TAG_LENGTH));
  const pt = decipher.update(body.subarray(0, body.length - TAG_LENGTH));
  try {
    decipher.final();
  } catch {
    pt.fill(0); // unauthenticated plaintext never leaves this function
    return null;
  }
  return pt;
}
