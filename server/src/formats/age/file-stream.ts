// age files on disk, streamed (docs/CLI.md, "age files"): the CLI decrypts and encrypts files of any size in
// memory bounded by a batch of 64 KiB chunks. The reader works on one open descriptor (every pass reads the
// same inode, so a file replaced meanwhile is not read; one changed in place fails at the changed chunk);
// the sealer takes any byte source (a file, stdin) and seals a chunk once it knows whether more follows.
import { createCipheriv, randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { writeAll, writeSequentially } from '../../crypto/atomic';
import { TAG_LENGTH } from './chacha';
import { headerFailure } from './errors';
import { MAX_HEADER_BYTES, parseHeader, type AgeHeader } from './header';
import { CHUNK_SIZE, chunkCount, chunkNonce, NONCE_LENGTH, openChunk, payloadFailure, payloadKey, SEALED_CHUNK } from './stream';
import { agePool, JOB_CHUNKS, runJobs, type AgeJob } from './threads';

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

/**
 * `handle` from its start up to `size` bytes, a batch (BATCH_CHUNKS chunks: 1 MiB) per read, a fresh buffer
 * each. A read that finds the file shorter calls `shorter` (which may throw) and ends the blocks.
 */
export async function* fileBlocks(handle: FileHandle, size: number, shorter: () => void = () => undefined): AsyncGenerator<Buffer> {
  for (let at = 0; at < size;) {
    const block = Buffer.allocUnsafe(Math.min(BATCH_CHUNKS * CHUNK_SIZE, size - at));
    const { bytesRead } = await handle.read(block, 0, block.length, at);
    if (bytesRead === 0) { shorter(); return; }
    at += bytesRead;
    yield block.subarray(0, bytesRead);
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
  if (threadsPay(size - retainBytes)) return openVerifiedFirstThreaded(handle, header, size, fileKey, write, retainBytes);
  return verifiedFirst(from => openPayloadFile(handle, header, size, fileKey, from), write, retainBytes);
}

/**
 * The rule of openPayloadVerifiedFirst for any sequential reader: `open(from)` yields the authenticated
 * plaintext from chunk `from` on, in batches (a second call reads the source again).
 */
export async function verifiedFirst(open: (from: number) => AsyncIterable<Buffer[]>, write: (parts: Buffer[]) => Promise<void>, retainBytes: number): Promise<void> {
  const retainChunks = Math.floor(retainBytes / CHUNK_SIZE);
  const kept: Buffer[] = [];
  const writeWiping = async (parts: Buffer[]) => {
    try { await write(parts); } finally { for (const p of parts) p.fill(0); }
  };
  try {
    let chunks = 0;
    for await (const batch of open(0)) {
      for (const p of batch) {
        if (chunks++ < retainChunks) kept.push(p);
        else p.fill(0);
      }
    }
    while (kept.length) await writeWiping(kept.splice(0, BATCH_CHUNKS));
    if (chunks > retainChunks) for await (const batch of open(retainChunks)) await writeWiping(batch);
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

// ---- large files on the age threads (threads.ts) --------------------------------------------------------

/** Below this a payload is opened or sealed on this thread: starting the threads costs more than they save. */
export const THREADS_FROM_BYTES = 8 * 1024 * 1024;

function threadsPay(size: number): boolean {
  return size >= THREADS_FROM_BYTES && agePool() !== undefined;
}

/** For a file of `size` bytes that will go through the threads: starts them now. */
export function warmAgeThreads(size: number): void {
  if (threadsPay(size)) agePool()!.warm();
}

/** Where the jobs of a binary age file's payload lie: runs of JOB_CHUNKS chunks. */
interface PayloadJobs { sealedStart: number; chunks: number; jobs: number }

function payloadJobs(header: AgeHeader, size: number): PayloadJobs {
  const sealedStart = header.payloadOffset + NONCE_LENGTH;
  if (size < sealedStart) throw headerFailure('the payload nonce is missing or short');
  const chunks = chunkCount(size - sealedStart);
  return { sealedStart, chunks, jobs: Math.ceil(chunks / JOB_CHUNKS) };
}

function openJob(l: PayloadJobs, size: number, key: Uint8Array, i: number, inFd: number, out: AgeJob['out'], outFd?: number): AgeJob {
  const first = i * JOB_CHUNKS;
  const inPosition = l.sealedStart + first * SEALED_CHUNK;
  const count = Math.min(JOB_CHUNKS, l.chunks - first);
  return { op: 'open', key, first, count, lastIndex: l.chunks - 1, inFd, inPosition, inLength: Math.min(count * SEALED_CHUNK, size - inPosition), out, outFd, outPosition: first * CHUNK_SIZE };
}

async function payloadKeyOf(handle: FileHandle, header: AgeHeader, fileKey: Uint8Array): Promise<Buffer> {
  const nonce = Buffer.alloc(NONCE_LENGTH);
  await readExactly(handle, nonce, header.payloadOffset);
  return payloadKey(fileKey, nonce);
}

/**
 * A thread found a chunk that does not open (or a short read): the sequential reader says exactly what is
 * wrong, from the first chunk of that job on. Always throws.
 */
async function explainFailure(handle: FileHandle, header: AgeHeader, size: number, fileKey: Uint8Array, fromChunk: number): Promise<never> {
  for await (const batch of openPayloadFile(handle, header, size, fileKey, fromChunk)) for (const p of batch) p.fill(0);
  throw payloadFailure('it changed while it was being read');
}

/**
 * Writes the plaintext of a binary age file's payload into `out` from its start, each chunk authenticated
 * before it is written; `wrote` hears of the bytes written, in order. Large files on the age threads.
 */
export async function openPayloadToFile(handle: FileHandle, header: AgeHeader, size: number, fileKey: Uint8Array, out: FileHandle, wrote: (bytes: number) => void): Promise<void> {
  const pool = threadsPay(size) ? agePool() : undefined;
  if (!pool) {
    await writeSequentially(out, openPayloadFile(handle, header, size, fileKey), pieces => {
      let n = 0;
      for (const p of pieces) n += p.length;
      wrote(n);
    });
    return;
  }
  const l = payloadJobs(header, size);
  const key = await payloadKeyOf(handle, header, fileKey);
  try {
    let i = 0;
    for await (const r of runJobs(pool, 0, l.jobs, false, j => openJob(l, size, key, j, handle.fd, 'write', out.fd))) {
      if (r.short || r.failedAt >= 0) await explainFailure(handle, header, size, fileKey, i * JOB_CHUNKS);
      const first = i++ * JOB_CHUNKS;
      wrote((Math.min(first + JOB_CHUNKS, l.chunks) - first) * CHUNK_SIZE); // the last job's short tail: a hint only
    }
  } finally { key.fill(0); }
}

/**
 * openPayloadVerifiedFirst with the age threads: while they verify everything after the part kept (nothing
 * comes back), this thread opens and keeps that first part itself (no transfer, no copy); then the threads
 * decrypt the rest again and hand it back, job by job, in order, for this thread to write.
 */
async function openVerifiedFirstThreaded(handle: FileHandle, header: AgeHeader, size: number, fileKey: Uint8Array,
  write: (parts: Buffer[]) => Promise<void>, retainBytes: number): Promise<void> {
  const pool = agePool()!;
  const l = payloadJobs(header, size);
  const retainJobs = Math.min(l.jobs, Math.floor(retainBytes / (JOB_CHUNKS * CHUNK_SIZE)));
  const retainChunks = Math.min(l.chunks, retainJobs * JOB_CHUNKS);
  const key = await payloadKeyOf(handle, header, fileKey);
  const kept: Buffer[][] = [];
  const wipeAll = (parts: Buffer[]) => { for (const p of parts) p.fill(0); };
  const verify = runJobs(pool, retainJobs, l.jobs, false, j => openJob(l, size, key, j, handle.fd, 'none'));
  try {
    const verified = (async () => {
      let i = retainJobs;
      for await (const r of verify) {
        if (r.short || r.failedAt >= 0) return i * JOB_CHUNKS;
        i++;
      }
      return -1;
    })();
    verified.catch(() => undefined); // observed below
    try {
      let chunks = 0;
      for await (const batch of openPayloadFile(handle, header, size, fileKey)) {
        kept.push(batch);
        chunks += batch.length;
        if (chunks >= retainChunks) break;
      }
    } finally {
      const failedFrom = await verified;
      if (failedFrom >= 0) await explainFailure(handle, header, size, fileKey, failedFrom);
    }
    while (kept.length) {
      const parts = kept.shift()!;
      try { await write(parts); } finally { wipeAll(parts); }
    }
    let i = retainJobs;
    for await (const r of runJobs(pool, retainJobs, l.jobs, true, j => openJob(l, size, key, j, handle.fd, 'return'))) {
      if (r.short || r.failedAt >= 0) { wipeAll(r.pieces); await explainFailure(handle, header, size, fileKey, i * JOB_CHUNKS); }
      i++;
      try { await write(r.pieces); } finally { wipeAll(r.pieces); }
    }
  } finally {
    key.fill(0);
    for (const parts of kept) wipeAll(parts);
  }
}

/** The input file changed size while it was being encrypted: what was written is not kept. */
const inputChanged = (what: string) => new Error(`${what} changed while it was being encrypted (its size is not what it was when it was opened); nothing was written`);

/**
 * Seals a regular file of `size` bytes (read by position on `input`) as an age payload into `out` at
 * `at`: the nonce, then the chunks, on the age threads when the file is large. The file must keep its
 * size meanwhile (checked after the last chunk: a file that grew or shrank is an error, not a silent cut).
 */
export async function sealFileToFile(input: FileHandle, size: number, fileKey: Uint8Array, out: FileHandle, at: number, wrote: (bytes: number) => void, what: string): Promise<void> {
  const pool = threadsPay(size) ? agePool() : undefined;
  if (!pool) {
    let position = at;
    for await (const parts of sealPayloadStream(fileKey, fileBlocks(input, size, () => { throw inputChanged(what); }))) {
      position += await writeAll(out, parts, position);
      wrote(position - at);
    }
  } else {
    const nonce = randomBytes(NONCE_LENGTH);
    await writeAll(out, [nonce], at);
    const key = payloadKey(fileKey, nonce);
    const chunks = Math.max(1, Math.ceil(size / CHUNK_SIZE));
    try {
      for await (const r of runJobs(pool, 0, Math.ceil(chunks / JOB_CHUNKS), false, i => {
        const first = i * JOB_CHUNKS;
        const count = Math.min(JOB_CHUNKS, chunks - first);
        return { op: 'seal', key, first, count, lastIndex: chunks - 1, inFd: input.fd, inPosition: first * CHUNK_SIZE,
          inLength: Math.min(count * CHUNK_SIZE, size - first * CHUNK_SIZE), out: 'write', outFd: out.fd, outPosition: at + NONCE_LENGTH + first * SEALED_CHUNK };
      })) {
        if (r.short) throw inputChanged(what);
        wrote(JOB_CHUNKS * SEALED_CHUNK);
      }
    } finally { key.fill(0); }
  }
  if ((await input.read(Buffer.alloc(1), 0, 1, size)).bytesRead !== 0 || (await input.stat()).size !== size) throw inputChanged(what);
}

// ---- a binary age file as a byte stream (the inside of an armored file, armor.ts dearmorStream) ---------

/** The header from the first bytes of `source` (at most the header's bound are gathered) and the bytes after it. */
export async function readStreamHeader(source: AsyncIterator<Buffer>): Promise<{ header: AgeHeader; rest: Buffer }> {
  const parts: Buffer[] = [];
  let n = 0;
  while (n < MAX_HEADER_BYTES) {
    const r = await source.next();
    if (r.done) break;
    parts.push(r.value);
    n += r.value.length;
  }
  const head = Buffer.concat(parts);
  const header = parseHeader(head);
  return { header, rest: head.subarray(header.payloadOffset) };
}

/**
 * The plaintext of a payload given as `rest` (its first bytes) and then `source`, a batch per block read,
 * each chunk authenticated; which chunk is the last is known only when the source ends, so a full chunk is
 * opened once more bytes follow it. Chunks before `from` are skipped unopened (a second pass).
 */
export async function* openPayloadStream(rest: Buffer, source: AsyncIterator<Buffer>, fileKey: Uint8Array, from = 0): AsyncGenerator<Buffer[]> {
  let pending = rest;
  let ended = false;
  // Gathers at least `want` bytes (or all that is left) with one copy, whatever the size of the source's blocks.
  const fill = async (want: number) => {
    if (ended || pending.length >= want) return;
    const parts = [pending];
    let n = pending.length;
    while (n < want) {
      const r = await source.next();
      if (r.done) { ended = true; break; }
      parts.push(r.value);
      n += r.value.length;
    }
    pending = Buffer.concat(parts);
  };
  await fill(NONCE_LENGTH);
  if (pending.length < NONCE_LENGTH) throw headerFailure('the payload nonce is missing or short');
  const key = payloadKey(fileKey, pending.subarray(0, NONCE_LENGTH));
  pending = pending.subarray(NONCE_LENGTH);
  let index = 0;
  const batch: Buffer[] = [];
  const open = (last: boolean, sealed: Buffer) => {
    if (index >= from) {
      const opened = openChunk(key, index, last, sealed);
      if ('failure' in opened) { opened.misplaced?.fill(0); throw opened.failure; }
      batch.push(opened);
    }
    index++;
  };
  try {
    for (;;) {
      await fill(SEALED_CHUNK + 1);
      while (pending.length > SEALED_CHUNK) {
        open(false, pending.subarray(0, SEALED_CHUNK));
        pending = pending.subarray(SEALED_CHUNK);
      }
      if (ended) {
        if (index === 0 && pending.length === 0) throw payloadFailure('it has no chunk');
        open(true, pending);
      }
      if (batch.length) yield batch.splice(0);
      if (ended) return;
    }
  } finally {
    key.fill(0);
    for (const p of batch) p.fill(0);
  }
}
