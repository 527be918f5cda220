// age files on disk, streamed (docs/CLI.md, "age files"): the CLI decrypts and encrypts files of any size in
// memory bounded by a batch of 64 KiB chunks. The reader works on one open descriptor (every pass reads the
// same inode, so a file replaced meanwhile is not read; one changed in place fails at the changed chunk);
// the sealer takes any byte source (a file, stdin) and seals a chunk once it knows whether more follows.
import { createCipheriv, randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { TAG_LENGTH } from './chacha';
import { headerFailure } from './errors';
import { MAX_HEADER_BYTES, type AgeHeader } from './header';
import { CHUNK_SIZE, chunkCount, chunkNonce, NONCE_LENGTH, openChunk, payloadFailure, payloadKey, SEALED_CHUNK } from './stream';

/** Chunks read (and handed on) at a time: about 1 MiB, big reads for throughput, memory bounded by two batches. */
export const BATCH_CHUNKS = 16;

async function readExactly(handle: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await handle.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw payloadFailure('the file ended early (it was truncated while being read)');
    done += bytesRead;
  }
}

/** The first bytes of an open file, up to the header's bound: enough to tell armor and to parse the header. */
export async function readHead(handle: FileHandle, size: number): Promise<Buffer> {
  const head = Buffer.alloc(Math.min(size, MAX_HEADER_BYTES));
  await readExactly(handle, head, 0);
  return head;
}

/**
 * The plaintext of the payload of an open binary age file of `size` bytes, a batch at a time; every chunk of a
 * batch authenticated before the batch is yielded, the last one with the last-chunk flag (so a file cut at a
 * chunk boundary fails at its end). `from`: the first chunk to yield (a second pass). A failed chunk yields
 * nothing of its batch.
 */
export async function* openPayloadFile(handle: FileHandle, header: AgeHeader, size: number, fileKey: Uint8Array, from = 0): AsyncGenerator<Buffer[]> {
  const start = header.payloadOffset;
  if (size - start < NONCE_LENGTH) throw headerFailure('the payload nonce is missing or short');
  const nonce = Buffer.alloc(NONCE_LENGTH);
  await readExactly(handle, nonce, start);
  const key = payloadKey(fileKey, nonce);
  const sealedStart = start + NONCE_LENGTH;
  const chunks = chunkCount(size - sealedStart);
  // Two buffers: the next batch is read while this one is decrypted.
  const buffers = [Buffer.allocUnsafe(BATCH_CHUNKS * SEALED_CHUNK), Buffer.allocUnsafe(BATCH_CHUNKS * SEALED_CHUNK)];
  const readBatch = async (first: number, buf: Buffer) => {
    const count = Math.min(BATCH_CHUNKS, chunks - first);
    const at = sealedStart + first * SEALED_CHUNK;
    const length = Math.min(count * SEALED_CHUNK, size - at);
    await readExactly(handle, buf.subarray(0, length), at);
    return { first, count, length, buf };
  };
  let pending = from < chunks ? readBatch(from, buffers[0]!) : null;
  let which = 0;
  try {
    while (pending) {
      const { first, count, length, buf } = await pending;
      which ^= 1;
      pending = first + count < chunks ? readBatch(first + count, buffers[which]!) : null;
      pending?.catch(() => undefined); // observed by the next turn or the finally below
      const batch: Buffer[] = [];
      for (let j = 0; j < count; j++) {
        const index = first + j;
        const opened = openChunk(key, index, index === chunks - 1, buf.subarray(j * SEALED_CHUNK, Math.min(length, (j + 1) * SEALED_CHUNK)));
        if ('failure' in opened) {
          opened.misplaced?.fill(0);
          for (const p of batch) p.fill(0);
          throw opened.failure;
        }
        batch.push(opened);
      }
      yield batch;
    }
  } finally {
    key.fill(0);
    await pending?.catch(() => undefined);
  }
}

/**
 * Hands the payload's plaintext to `write` only after every chunk and the end of the file have authenticated,
 * for a consumer that cannot take data back (stdout). The first pass keeps up to `retainBytes` of plaintext
 * and only verifies the rest; a larger file is then decrypted a second time from the same descriptor and
 * written as it authenticates. Memory: `retainBytes` plus two batches, whatever the file size.
 */
export async function openPayloadVerifiedFirst(handle: FileHandle, header: AgeHeader, size: number, fileKey: Uint8Array,
  write: (parts: Buffer[]) => Promise<void>, retainBytes: number): Promise<void> {
  const retainChunks = Math.floor(retainBytes / CHUNK_SIZE);
  const kept: Buffer[] = [];
  const writeWiping = async (parts: Buffer[]) => {
    try { await write(parts); } finally { for (const p of parts) p.fill(0); }
  };
  try {
    let chunks = 0;
    for await (const batch of openPayloadFile(handle, header, size, fileKey)) {
      for (const p of batch) {
        if (chunks++ < retainChunks) kept.push(p);
        else p.fill(0);
      }
    }
    while (kept.length) await writeWiping(kept.splice(0, BATCH_CHUNKS));
    if (chunks > retainChunks) for await (const batch of openPayloadFile(handle, header, size, fileKey, retainChunks)) await writeWiping(batch);
  } finally {
    for (const p of kept) p.fill(0);
  }
}

function sealChunk(key: Uint8Array, index: number, last: boolean, plaintext: Uint8Array): Buffer[] {
  const c = createCipheriv('chacha20-poly1305', key, chunkNonce(index, last), { authTagLength: TAG_LENGTH });
  const sealed = c.update(plaintext);
  c.final();
  return [sealed, c.getAuthTag()];
}

/**
 * The payload (nonce, then sealed chunks) of what `source` yields, in batches. A full chunk is sealed only
 * when more bytes follow (else it is the last); the source's buffers are zeroed once copied.
 */
export async function* sealPayloadStream(fileKey: Uint8Array, source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer[]> {
  const nonce = randomBytes(NONCE_LENGTH);
  const key = payloadKey(fileKey, nonce);
  const chunk = Buffer.allocUnsafeSlow(CHUNK_SIZE);
  let filled = 0;
  let index = 0;
  try {
    let out: Buffer[] = [nonce];
    for await (const block of source) {
      for (let at = 0; at < block.length;) {
        if (filled === CHUNK_SIZE) {
          out.push(...sealChunk(key, index++, false, chunk));
          filled = 0;
        }
        const n = Math.min(CHUNK_SIZE - filled, block.length - at);
        chunk.set(block.subarray(at, at + n), filled);
        filled += n;
        at += n;
      }
      block.fill(0);
      if (out.length > 0) { yield out; out = []; }
    }
    out.push(...sealChunk(key, index, true, chunk.subarray(0, filled)));
    yield out;
  } finally {
    key.fill(0);
    chunk.fill(0);
  }
}
