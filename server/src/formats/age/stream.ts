// age's payload (c2sp.org/age, "Payload"): a 16-byte nonce, then STREAM: 64 KiB chunks of ChaCha20-Poly1305
// under HKDF-SHA-256(file key, nonce, "payload"), each chunk's nonce its 11-byte big-endian counter and a
// last-chunk flag. Only the last chunk may be short; it may be empty only when the whole payload is.
import { hkdfSync, randomBytes } from 'node:crypto';
import { chachaOpen, chachaSeal, TAG_LENGTH } from './chacha';
import { AgeError, headerFailure } from './errors';

export const CHUNK_SIZE = 64 * 1024;
export const NONCE_LENGTH = 16;
export const SEALED_CHUNK = CHUNK_SIZE + TAG_LENGTH;

export const payloadFailure = (why: string) => new AgeError('payload', `The age file's content is damaged: ${why}.`);

export function payloadKey(fileKey: Uint8Array, nonce: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32));
}

export function chunkNonce(counter: number, last: boolean): Uint8Array {
  const n = new Uint8Array(12);
  new DataView(n.buffer).setUint32(7, counter); // 2^32 chunks of 64 KiB = 256 TiB: the high bytes stay zero
  n[11] = last ? 1 : 0;
  return n;
}

/** How many plaintext bytes a payload of `sealedLength` bytes (after the nonce) holds, or null if no valid payload has that length. */
export function plaintextLengthOf(sealedLength: number): number | null {
  if (sealedLength < TAG_LENGTH) return null;
  const chunks = Math.ceil(sealedLength / SEALED_CHUNK);
  const tail = sealedLength - (chunks - 1) * SEALED_CHUNK;
  if (tail < TAG_LENGTH) return null;
  return sealedLength - chunks * TAG_LENGTH;
}

/** A chunk that failed, with the plaintext of one that opens only under the other last-chunk flag (authentic, but misplaced). */
export interface ChunkFailure { failure: AgeError; misplaced: Buffer | null }

/**
 * Opens chunk `index` (0-based) of a payload; `last` whether the file ends with it. The one rule for the
 * whole-buffer reader and the file streamer alike.
 */
export function openChunk(key: Uint8Array, index: number, last: boolean, chunk: Uint8Array): Buffer | ChunkFailure {
  const plain = chachaOpen(key, chunkNonce(index, last), chunk);
  if (!plain) {
    // A chunk that opens with the other flag is authentic, but the stream around it is not: data follows
    // a final chunk, or the file ends after a non-final one.
    const other = chunk.length === SEALED_CHUNK ? chachaOpen(key, chunkNonce(index, !last), chunk) : null;
    return {
      misplaced: other,
      failure: payloadFailure(!other ? `chunk ${index + 1} fails authentication (altered, truncated or reordered)`
        : last ? 'it ends after a chunk that is not the last (truncated)' : 'data follows its last chunk'),
    };
  }
  if (last && plain.length === 0 && index > 0) return { misplaced: null, failure: payloadFailure('its last chunk is empty') };
  return plain;
}

/** How many chunks a payload of `sealedLength` bytes (after the nonce) has; a failure when it has none. */
export function chunkCount(sealedLength: number): number {
  if (sealedLength === 0) throw payloadFailure('it has no chunk');
  return Math.ceil(sealedLength / SEALED_CHUNK);
}

/**
 * The plaintext of `payload` (nonce included), chunk by chunk as each authenticates. A caller that must not
 * release partial plaintext collects them and keeps nothing on an error.
 */
export function* openPayload(fileKey: Uint8Array, payload: Uint8Array): Generator<Buffer> {
  if (payload.length < NONCE_LENGTH) throw headerFailure('the payload nonce is missing or short');
  const key = payloadKey(fileKey, payload.subarray(0, NONCE_LENGTH));
  try {
    const sealed = payload.subarray(NONCE_LENGTH);
    const chunks = chunkCount(sealed.length);
    for (let i = 0; i < chunks; i++) {
      const opened = openChunk(key, i, i === chunks - 1, sealed.subarray(i * SEALED_CHUNK, Math.min(sealed.length, (i + 1) * SEALED_CHUNK)));
      if ('failure' in opened) {
        // A misplaced chunk's plaintext goes out before the failure, as age's own reader does (the C2SP
        // vectors hash it); openAge still releases nothing.
        if (opened.misplaced) yield opened.misplaced;
        throw opened.failure;
      }
      yield opened;
    }
  } finally { key.fill(0); }
}

/** The payload (nonce, then sealed chunks) of `plaintext`, in pieces. */
export function* sealPayload(fileKey: Uint8Array, plaintext: Uint8Array): Generator<Buffer> {
  const nonce = randomBytes(NONCE_LENGTH);
  const key = payloadKey(fileKey, nonce);
  try {
    yield nonce;
    const chunks = Math.max(1, Math.ceil(plaintext.length / CHUNK_SIZE));
    for (let i = 0; i < chunks; i++) {
      yield chachaSeal(key, chunkNonce(i, i === chunks - 1), plaintext.subarray(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE));
    }
  } finally { key.fill(0); }
}
