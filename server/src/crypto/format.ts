// The public API of the .enc format (docs/FORMAT.md): buffers, streams, files, ranges and key rotation.
// Pure Node: no vscode import. Plaintext is never written to disk by these functions, except where the
// caller asks decryptFile to write it to a path of its choosing.
import { createHash, randomBytes } from 'node:crypto';
import { readSync, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { CHUNK_FRAME_OVERHEAD, DEFAULT_CHUNK_SIZE, FINAL_FRAME_OVERHEAD, FLAG_APPEND, FRAME_CHUNK, FRAME_FINAL, SALT_LENGTH } from './constants';
import { sealChunk, openChunk } from './chunks';
import { deriveFileKeys, type FileKeys } from './derive';
import { NoteSealError } from './errors';
import { replaceFileAtomic, withFlushBehind, writeAll, writeSequentially } from './atomic';
import { openEncryptedFile, readFileBlocks, readHeaderFromHandle, unlockHeader, type OpenedFile, type UnwrapDataKey } from './file-io';
import { parseHeader as parseHeaderBytes, serializeHeader, serializePrefix, type HeaderInfo, type ParsedHeader, type PayloadBoundStanza, type Stanza } from './header';
import { chunkFailed, endedEarly, framesPerBatch, localChunkCipher, openPayload, sealPayload, type PayloadContext } from './payload';
import { BUFFER_READ_POOL_THRESHOLD, chooseCipher, parallelFor, poolThreshold } from './cipher-choice';
import { batchRange, localSealRunner, openParallel, ParallelMiss, payloadLayout, plaintextLayout, sealFileParallel, sealStream } from './parallel';
import { poolSize } from './pool';
import { openRegularFile } from './safe-open';
import { bufferSource, fileSource, readAt } from './source';

export type { Stanza, HeaderInfo, PayloadBoundStanza } from './header';
export type { UnwrapDataKey } from './file-io';
export { writeFileAtomic } from './atomic';
export { AppendWriter, recoverFile, resumeLog, type AppendOptions } from './append';
export { NoteSealError, isNoteSealError, type NoteSealErrorCode } from './errors';
export { DEFAULT_CHUNK_SIZE, MIN_CHUNK_SIZE, MAX_CHUNK_SIZE } from './constants';

export interface EncryptOptions {
  /** Plaintext bytes per chunk, 1 KiB..16 MiB; default 64 KiB. */
  chunkSize?: number;
  /** Runs just before the encrypted file replaces the target; throwing leaves the target as it is. */
  beforeRename?: () => Promise<void>;
  /** A last stanza that depends on the payload (the write signature, docs/KEYS.md): filled in once the payload is written. */
  payloadBound?: PayloadBoundStanza;
}

/** SHA-256 of the bytes of `handle` from `start` to its end, read in 4 MiB blocks. */
export async function hashFrom(handle: FileHandle, start: number): Promise<Buffer> {
  const { size } = await handle.stat();
  const src = fileSource(handle, start, size);
  const hash = createHash('sha256');
  for (;;) {
    const block = await src.read(4 * 1024 * 1024);
    if (block.length === 0) return hash.digest();
    hash.update(block);
  }
}

/** SHA-256 of consecutive byte ranges of `fd`, given in order, read into one reused 4 MiB buffer. */
function hashWritten(fd: number): { update(at: number, length: number): void; digest(): Buffer } {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafeSlow(4 * 1024 * 1024);
  let next = -1;
  return {
    update(at, length) {
      if (next >= 0 && at !== next) throw new Error('hashWritten: ranges out of order');
      next = at + length;
      for (let done = 0; done < length;) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, length - done), at + done);
        if (n === 0) throw new NoteSealError('TRUNCATED', 'the file being written ended early');
        hash.update(buf.subarray(0, n));
        done += n;
      }
    },
    digest: () => hash.digest(),
  };
}

/** Test vectors only: a fixed salt makes the output reproducible. Never use a fixed salt for real data. */
export interface DeterministicEncryptOptions extends EncryptOptions { salt: Uint8Array; flags?: number }

function payloadContext(header: ParsedHeader): PayloadContext {
  return { chunkSize: header.chunkSize, appendMode: header.appendMode, logMode: header.logMode, headerLength: header.headerLength };
}

function publicInfo(h: ParsedHeader): HeaderInfo {
  return { version: h.version, suite: h.suite, chunkSize: h.chunkSize, salt: h.salt, stanzas: h.stanzas, headerLength: h.headerLength, appendMode: h.appendMode, logMode: h.logMode };
}

/** Structural parse only (no key needed); throws NOT_NOTESEAL / UNSUPPORTED_VERSION / TRUNCATED / LIMIT_EXCEEDED. */
export function parseHeader(bytes: Uint8Array): HeaderInfo {
  return publicInfo(parseHeaderBytes(bytes));
}

export async function readHeaderFromFile(path: string): Promise<HeaderInfo> {
  const handle = await openRegularFile(path);
  try {
    return publicInfo((await readHeaderFromHandle(handle)).header);
  } finally {
    await handle.close();
  }
}

/** Encrypts with a caller-chosen salt. Exported for test vectors; use encryptBuffer. */
export function encryptBufferDeterministic(plaintext: Uint8Array, dataKey: Uint8Array, stanzas: readonly Stanza[], opts: DeterministicEncryptOptions): Buffer {
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const prefix = serializePrefix({ chunkSize, salt: opts.salt, flags: opts.flags ?? 0 });
  const keys = deriveFileKeys(dataKey, opts.salt, prefix);
  try {
    const parts: Buffer[] = [serializeHeader(prefix, stanzas, keys.headerMacKey)];
    const full = Math.floor(plaintext.length / chunkSize);
    for (let i = 0; i < full; i++) {
      parts.push(...sealChunk(keys.payloadKey, keys.chunkAad, i, false, plaintext.subarray(i * chunkSize, (i + 1) * chunkSize)));
    }
    parts.push(...sealChunk(keys.payloadKey, keys.chunkAad, full, true, plaintext.subarray(full * chunkSize)));
    return Buffer.concat(parts);
  } finally {
    keys.dispose();
  }
}

/** Encrypts a whole buffer under a fresh random salt. */
export function encryptBuffer(plaintext: Uint8Array, dataKey: Uint8Array, stanzas: Stanza[], opts: EncryptOptions = {}): Buffer {
  return encryptBufferDeterministic(plaintext, dataKey, stanzas, { ...opts, salt: randomBytes(SALT_LENGTH) });
}

/** Decrypts a whole file held in memory. Either every byte authenticates, or it throws and returns nothing. */
export async function decryptBuffer(file: Uint8Array, unwrap: UnwrapDataKey): Promise<Buffer> {
  const header = parseHeaderBytes(file);
  const keys = await unlockHeader(header, unwrap);
  const chunks: Buffer[] = [];
  try {
    const cipher = chooseCipher(keys, file.length - header.headerLength);
    for await (const batch of openPayload(bufferSource(file, header.headerLength), payloadContext(header), cipher)) chunks.push(...batch);
    return Buffer.concat(chunks);
  } finally {
    for (const c of chunks) c.fill(0);
    keys.dispose();
  }
}

/**
 * Decrypts a file chunk by chunk: every yielded chunk has been authenticated, but truncation, trailing
 * data or a damaged later chunk are only found when reached. A consumer that cannot take back what it
 * has seen (stdout) must verifyFile first, or decrypt to a file with decryptFile.
 */
export async function* decryptStream(srcPath: string, unwrap: UnwrapDataKey): AsyncGenerator<Buffer> {
  for await (const batch of decryptBatches(srcPath, unwrap)) yield* batch;
}

/** decryptStream in batches of authenticated chunks (a few MiB), for writing with one writev each. */
async function* decryptBatches(srcPath: string, unwrap: UnwrapDataKey): AsyncGenerator<Buffer[]> {
  const file = await openEncryptedFile(srcPath, unwrap);
  try {
    for await (const b of openFileBatches(file, 0)) yield b.plaintext;
  } finally {
    await file.close();
  }
}

interface FileBatch { first: number; count: number; plaintext: Buffer[] }

/**
 * Authenticates the chunks of an opened file from chunk `from` (a batch boundary, or 0) to its end, in
 * order, yielding batches. Only chunks before `keepUntil` are handed out; the others are verified and
 * wiped. Large files go through the worker pool; anything that does not look like an intact file there
 * is re-read from that point by the sequential decoder, which throws the precise error after yielding
 * the authentic chunks before it, exactly as a purely sequential read would.
 */
async function* openFileBatches(file: OpenedFile, from: number, keepUntil = Number.POSITIVE_INFINITY, opts: { reuse?: boolean } = {}): AsyncGenerator<FileBatch> {
  const { header, keys, size } = file;
  let next = from; // the first chunk not yet handed out
  const layout = payloadLayout(header, size);
  const par = layout ? parallelFor(size - header.headerLength) : undefined;
  if (layout && par && from % layout.batchChunks === 0) {
    const mode = (b: number) => (batchRange(layout, b).first < keepUntil ? 'return' as const : 'none' as const);
    // reuse: the workers copy each batch into a ring of slots shared with them, one per batch in flight
    // and one for the batch the consumer holds, and what is yielded is a view of its slot, valid until the
    // consumer asks for the next batch. No buffer is made per batch, so none waits for the garbage
    // collector: a file's worth of them did (decrypt to stdout grew by about 100 MiB).
    const slotBytes = layout.batchChunks * layout.chunkSize;
    const slots = par.depth + 1;
    const ring = opts.reuse && keepUntil === Number.POSITIVE_INFINITY ? Buffer.from(new SharedArrayBuffer(slots * slotBytes)) : undefined;
    const slotOf = (b: number) => (b % slots) * slotBytes;
    try {
      const batches = ring
        ? openParallel(par.run, par.depth, file.handle.fd, keys, layout, from / layout.batchChunks, () => 'write', { shared: ring.buffer as SharedArrayBuffer, slotOf })
        : openParallel(par.run, par.depth, file.handle.fd, keys, layout, from / layout.batchChunks, mode);
      for await (const b of batches) {
        const index = Math.floor(b.first / layout.batchChunks);
        const count = batchRange(layout, index).count;
        next = b.first + count;
        yield { first: b.first, count, plaintext: ring ? [ring.subarray(slotOf(index), slotOf(index) + b.plainLength)] : b.plaintext };
      }
      return;
    } catch (e) {
      if (!(e instanceof ParallelMiss)) throw e;
    } finally {
      ring?.fill(0);
    }
  }
  yield* sequentialBatches(file, next, keepUntil);
}

/** openFileBatches' sequential decoder alone, from chunk `from`: it throws the precise error of a damaged file. */
async function* sequentialBatches(file: OpenedFile, from: number, keepUntil = Number.POSITIVE_INFINITY): AsyncGenerator<FileBatch> {
  const { header, keys, size } = file;
  // A log's frames vary in length (partial frames): it is read from its first chunk, skipping those before `from`.
  let next = header.logMode ? 0 : from;
  const cipher = chooseCipher(keys, size - header.headerLength);
  const src = fileSource(file.handle, header.headerLength + next * (header.chunkSize + CHUNK_FRAME_OVERHEAD), size);
  for await (const batch of openPayload(src, payloadContext(header), cipher, next)) {
    let first = next;
    next += batch.length;
    if (first < from) {
      const skip = Math.min(batch.length, from - first);
      for (const c of batch.splice(0, skip)) c.fill(0);
      first += skip;
      if (batch.length === 0) continue;
    }
    const keep = Math.max(0, Math.min(batch.length, keepUntil - first));
    for (const c of batch.slice(keep)) c.fill(0);
    yield { first, count: batch.length, plaintext: batch.slice(0, keep) };
  }
}

/**
 * A large file opened on the pool straight into one buffer (a SharedArrayBuffer the workers copy their
 * batches into): no concatenation on this thread, which cost a third of a 20 MiB read's time here. Null
 * when the file is small, or when a batch was not as an intact file's: what was copied is wiped, and the
 * caller's sequential pass names the error.
 */
async function openIntoSharedBuffer(file: OpenedFile): Promise<Buffer | null> {
  const { header, keys, size } = file;
  const layout = payloadLayout(header, size);
  const par = layout ? parallelFor(size - header.headerLength, poolThreshold(BUFFER_READ_POOL_THRESHOLD)) : undefined;
  if (!layout || !par) return null;
  const out = Buffer.from(new SharedArrayBuffer(layout.finalIndex * layout.chunkSize + layout.finalLength));
  try {
    let written = 0;
    for await (const b of openParallel(par.run, par.depth, file.handle.fd, keys, layout, 0, () => 'write', { shared: out.buffer as SharedArrayBuffer })) written += b.plainLength;
    if (written !== out.length) throw new ParallelMiss('the batches did not cover the file');
    return out;
  } catch (e) {
    out.fill(0);
    if (e instanceof ParallelMiss) return null;
    throw e;
  }
}

/**
 * Decrypts a whole file into one buffer, for an editor. The header is read and authenticated before
 * anything else (a file that is not ours, or not for our key, costs a few KiB of reading), and a file
 * above `maxBytes` is refused with LIMIT_EXCEEDED before its payload is read. Large files are opened on
 * the worker pool straight from the file descriptor. Either every byte authenticates or nothing returns.
 */
export async function decryptFileToBuffer(srcPath: string, unwrap: UnwrapDataKey, opts: { maxBytes?: number } = {}): Promise<Buffer> {
  const file = await openEncryptedFile(srcPath, unwrap);
  const pieces: Buffer[] = [];
  try {
    if (opts.maxBytes !== undefined && file.size > opts.maxBytes) {
      throw new NoteSealError('LIMIT_EXCEEDED', `the file is ${(file.size / 2 ** 20).toFixed(0)} MiB, more than the ${(opts.maxBytes / 2 ** 20).toFixed(0)} MiB this can open`);
    }
    const pooled = await openIntoSharedBuffer(file);
    if (pooled) return pooled;
    // Small, no pool, or a batch the pool could not vouch for: the pool has had its try, so straight to the
    // sequential decoder (openFileBatches would try the pool again first).
    for await (const b of sequentialBatches(file, 0)) pieces.push(...b.plaintext);
    return pieces.length === 1 ? pieces.splice(0)[0] : Buffer.concat(pieces);
  } finally {
    for (const c of pieces) c.fill(0);
    await file.close();
  }
}

/** Authenticates every chunk and the file's end without releasing any plaintext. */
export async function verifyFile(srcPath: string, unwrap: UnwrapDataKey): Promise<{ chunks: number; plaintextBytes: number }> {
  const file = await openEncryptedFile(srcPath, unwrap);
  try {
    let chunks = 0;
    if (file.header.logMode) {
      // A log's chunks are not all full: count the bytes themselves.
      let plaintextBytes = 0;
      for await (const b of openFileBatches(file, 0)) {
        chunks += b.count;
        for (const c of b.plaintext) { plaintextBytes += c.length; c.fill(0); }
      }
      return { chunks, plaintextBytes };
    }
    for await (const b of openFileBatches(file, 0, 0)) chunks += b.count;
    // Every chunk but the last is full; the final frame's length field has been authenticated.
    const C = file.header.chunkSize;
    const layout = payloadLayout(file.header, file.size)!;
    return { chunks, plaintextBytes: (chunks - 1) * C + layout.finalLength };
  } finally {
    await file.close();
  }
}

/**
 * Decrypts for a consumer that cannot take data back (stdout): `write` sees nothing unless every chunk
 * and the end of the file have authenticated. The first pass keeps up to `retainBytes` of plaintext in
 * memory and only verifies the rest; after it succeeds the kept plaintext is written and, for a larger
 * file, the rest is decrypted a second time from the same open file and written as it authenticates.
 * Memory stays bounded by `retainBytes` plus a few batches, whatever the file size.
 */
export async function decryptVerifiedFirst(srcPath: string, unwrap: UnwrapDataKey, write: (plaintext: Buffer[]) => Promise<void>, opts: { retainBytes?: number } = {}): Promise<void> {
  const file = await openEncryptedFile(srcPath, unwrap);
  const kept: Buffer[] = [];
  try {
    const C = file.header.chunkSize;
    const batch = payloadLayout(file.header, file.size)?.batchChunks ?? 1;
    const retainChunks = Math.floor(Math.floor((opts.retainBytes ?? 64 * 1024 * 1024) / C) / batch) * batch;
    let chunks = 0;
    for await (const b of openFileBatches(file, 0, retainChunks)) {
      kept.push(...b.plaintext);
      chunks += b.count;
    }
    const writeWiping = async (part: Buffer[]) => {
      try { await write(part); } finally { for (const c of part) c.fill(0); }
    };
    // Everything has authenticated. For a larger file the second pass starts now (its first batches are
    // decrypted by the workers while the kept plaintext is being written).
    const rest = chunks > retainChunks ? openFileBatches(file, retainChunks, undefined, { reuse: true }) : undefined;
    let pending = rest?.next();
    pending?.catch(() => undefined); // observed below
    try {
      while (kept.length) await writeWiping(kept.splice(0, batch));
      while (pending) {
        const r = await pending;
        pending = undefined;
        if (r.done) break;
        await writeWiping(r.value.plaintext);
        pending = rest!.next();
        pending.catch(() => undefined);
      }
    } finally {
      // Stopped early (an error, stdout closed): wipe a batch nobody took, and wait for the workers.
      const r = pending && await pending.catch(() => undefined);
      if (r && !r.done) for (const c of r.value.plaintext) c.fill(0);
      await rest?.return(undefined);
    }
  } finally {
    for (const c of kept) c.fill(0);
    await file.close();
  }
}

/**
 * Decrypts to a path (crash-safe: a temporary sibling renamed into place only after the whole file
 * authenticated) or to a stream (authenticated chunk by chunk; see decryptStream).
 */
export async function decryptFile(srcPath: string, unwrap: UnwrapDataKey, dst: string | NodeJS.WritableStream): Promise<void> {
  if (typeof dst !== 'string') {
    for await (const chunk of decryptStream(srcPath, unwrap)) await writeToStream(dst, chunk);
    return;
  }
  const file = await openEncryptedFile(srcPath, unwrap);
  try {
    await replaceFileAtomic(dst, async out => {
      const { header, keys, size } = file;
      const layout = payloadLayout(header, size);
      const par = layout ? parallelFor(size - header.headerLength) : undefined;
      if (layout && par) {
        // The workers write each batch at its plaintext offset in the temporary file.
        try {
          await withFlushBehind(out, async wrote => {
            for await (const b of openParallel(par.run, par.depth, file.handle.fd, keys, layout, 0, () => 'write', { fd: out.fd })) wrote(b.plainLength);
          });
          return;
        } catch (e) {
          if (!(e instanceof ParallelMiss)) throw e;
          await out.truncate(0); // the sequential pass below finds the error (or, if the file changed, starts over)
        }
      }
      async function* plaintext(): AsyncGenerator<Buffer[]> { for await (const b of openFileBatches(file, 0)) yield b.plaintext; }
      await writeSequentially(out, plaintext());
    });
  } finally {
    await file.close();
  }
}

function writeToStream(dst: NodeJS.WritableStream, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    dst.once('error', onError);
    const ok = dst.write(chunk, e => { if (e) reject(e); });
    const done = () => { dst.removeListener('error', onError); resolve(); };
    if (ok) done(); else dst.once('drain', done);
  });
}

async function* asyncOnce(bytes: Uint8Array): AsyncGenerator<Uint8Array> { yield bytes; }

/** Encrypts a file or a stream to `dstPath`, crash-safe, under a fresh salt. Keeps dstPath's mode if it exists. */
export async function encryptFile(src: string | AsyncIterable<Uint8Array>, dstPath: string, dataKey: Uint8Array, stanzas: Stanza[], opts: EncryptOptions = {}): Promise<void> {
  if (typeof src === 'string') {
    const handle = await openRegularFile(src);
    try {
      const { size } = await handle.stat();
      const par = parallelFor(size);
      if (par && await encryptWith(dstPath, dataKey, stanzas, opts, async (out, headerLength, keys, C, hashing) => {
        // A signed file hashes each batch of frames as soon as it is written, in order, on this thread while
        // the workers seal the next ones, instead of reading the whole payload back afterwards (a second
        // pass that took as long as the sealing). Read back from the page cache into one reused buffer.
        const hash = hashing ? hashWritten(out.fd) : undefined;
        const ok = await withFlushBehind(out, wrote => sealFileParallel(par.run, par.depth, handle.fd, out.fd, keys, plaintextLayout(C, size, headerLength),
          (bytes, at) => { wrote(bytes); hash?.update(at, bytes); }));
        return ok && hash ? hash.digest() : ok;
      })) return;
      // Small, or the file shrank while being read: the sequential path (a new try draws a new salt).
    } finally {
      await handle.close();
    }
    await encryptWith(dstPath, dataKey, stanzas, opts, async (out, _headerLength, keys, C, hashing) => {
      // Reads ahead, seals in this thread, one write in flight.
      return writeFrames(out, sealPayload(readFileBlocks(src, framesPerBatch(C) * C), C, chooseCipher(keys, 0)), hashing);
    });
    return;
  }
  // A stream: on the pool once it has passed the pool's threshold (a small one in this thread, starting no
  // threads). Each piece is copied into a batch a worker seals, hashes (a signed file) and writes itself;
  // this thread only reads the stream, which is the slow part of a stream from a file (64 KiB reads). Sealed
  // and hashed in this thread instead, a 1 GiB stream took 10.5 s against the CLI's 2.9 s (test/bench/logs.ts).
  const input = src instanceof Uint8Array ? asyncOnce(src) : src;
  await encryptWith(dstPath, dataKey, stanzas, opts, async (out, headerLength, keys, C, hashing) => {
    const r = await withFlushBehind(out, written => sealStream(input, out.fd, keys, C, headerLength,
      { ...(poolSize() > 0 ? { pooled: (seen: number) => parallelFor(seen) } : {}), local: localSealRunner(out), hashing, written }));
    return r.digest ?? true;
  });
}

/**
 * Encrypts a buffer to `dstPath` crash-safely under a fresh salt, sealing in this thread while the previous
 * batch is written (cipher-choice.ts says why not on the pool). Returns the stat of the file written, taken on its own handle.
 */
export async function encryptBufferToFile(plaintext: Uint8Array, dstPath: string, dataKey: Uint8Array, stanzas: Stanza[], opts: EncryptOptions = {}): Promise<Stats> {
  let written: Stats | undefined;
  await encryptWith(dstPath, dataKey, stanzas, opts, (out, _headerLength, keys, C, hashing) =>
    writeFrames(out, sealPayload(asyncOnce(plaintext), C, localChunkCipher(keys.payloadKey, keys.chunkAad)), hashing), s => { written = s; });
  return written!;
}

/**
 * Writes sealed frames in order at the handle's position. With `hashing`, returns the SHA-256 of every byte
 * written, computed while the next batch is sealed (a signed write then need not read its payload back).
 */
async function writeFrames(out: FileHandle, frames: AsyncIterable<Buffer[]>, hashing: boolean): Promise<true | Buffer> {
  if (!hashing) { await writeSequentially(out, frames); return true; }
  const hash = createHash('sha256');
  await writeSequentially(out, frames, pieces => { for (const p of pieces) hash.update(p); });
  return hash.digest();
}

/**
 * One crash-safe encryption attempt under a fresh salt: writes the header, lets `payload` write the
 * frames (by position, from the header's end), and renames into place unless it returns false. `hashing`
 * says a payload-bound stanza needs the payload's SHA-256: a writer that writes the frames in order
 * returns it; one that cannot (the parallel file path) returns true and the payload is read back.
 */
async function encryptWith(dstPath: string, dataKey: Uint8Array, stanzas: Stanza[], opts: EncryptOptions,
  payload: (out: FileHandle, headerLength: number, keys: FileKeys, chunkSize: number, hashing: boolean) => Promise<boolean | Buffer>,
  onWritten?: (s: Stats) => void): Promise<boolean> {
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const salt = randomBytes(SALT_LENGTH);
  const prefix = serializePrefix({ chunkSize, salt, flags: 0 });
  const keys = deriveFileKeys(dataKey, salt, prefix);
  try {
    const bound = opts.payloadBound;
    bound?.prepare?.(prefix);
    const withBound = (body: Uint8Array) => (bound ? [...stanzas, { type: bound.type, body }] : stanzas);
    const header = serializeHeader(prefix, withBound(new Uint8Array(bound?.length ?? 0)), keys.headerMacKey);
    const written = await replaceFileAtomic(dstPath, async out => {
      await writeAll(out, [header]); // at the start; the handle's position moves past it
      const wrote = await payload(out, header.length, keys, chunkSize, bound !== undefined);
      if (!wrote) throw new ParallelMiss('the input changed while it was read');
      if (bound) {
        const body = await bound.build(prefix, wrote instanceof Uint8Array ? wrote : await hashFrom(out, header.length));
        if (body.length !== bound.length) throw new NoteSealError('INVALID_ARGUMENT', 'a payload-bound stanza changed its length');
        await writeAll(out, [serializeHeader(prefix, withBound(body), keys.headerMacKey)], 0);
      }
    }, undefined, opts.beforeRename);
    onWritten?.(written);
    return true;
  } catch (e) {
    if (e instanceof ParallelMiss) return false;
    throw e;
  } finally {
    keys.dispose();
  }
}

/** Decrypts plaintext bytes [start, end) without reading the rest of the file. */
export async function readRange(srcPath: string, unwrap: UnwrapDataKey, start: number, end: number): Promise<Buffer> {
  return (await readRangeAndLength(srcPath, unwrap, start, end)).data;
}

/**
 * readRange, and the file's whole plaintext length, which the authenticated final chunk vouches for
 * (a player needs both: the length for the timeline, a range to play).
 */
export async function readRangeAndLength(srcPath: string, unwrap: UnwrapDataKey, start: number, end: number): Promise<{ data: Buffer; plaintextLength: number }> {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new NoteSealError('INVALID_ARGUMENT', 'readRange needs 0 <= start <= end');
  }
  const file = await openEncryptedFile(srcPath, unwrap);
  if (file.header.logMode) return readLogRange(file, start, end);
  const chunks: Buffer[] = [];
  try {
    const { header, keys, handle, size } = file;
    const ctx = payloadContext(header);
    const C = header.chunkSize;
    const frameLength = C + CHUNK_FRAME_OVERHEAD;
    const payloadLength = size - header.headerLength;
    // The final frame is 21..C+20 bytes long, so its index follows from the file size alone.
    const finalIndex = payloadLength >= FINAL_FRAME_OVERHEAD ? Math.floor((payloadLength - FINAL_FRAME_OVERHEAD) / frameLength) : 0;
    const finalOffset = header.headerLength + finalIndex * frameLength;
    const finalFrame = await readAt(handle, finalOffset, size - finalOffset);
    if (finalFrame.length < FINAL_FRAME_OVERHEAD) throw endedEarly(ctx, finalIndex, finalOffset);
    if (finalFrame[0] === FRAME_CHUNK) throw endedEarly(ctx, finalIndex + 1, size);
    if (finalFrame[0] !== FRAME_FINAL) throw chunkFailed(finalIndex, finalOffset);
    const finalLength = finalFrame.readUInt32BE(1);
    if (finalLength >= C) throw chunkFailed(finalIndex, finalOffset);
    if (finalLength + FINAL_FRAME_OVERHEAD > finalFrame.length) throw endedEarly(ctx, finalIndex, finalOffset);
    // Always authenticate the final chunk: it vouches for the plaintext length (no silent truncation).
    const finalPlain = openChunk(keys.payloadKey, keys.chunkAad, finalIndex, true, finalFrame.subarray(5, 5 + finalLength + 16));
    if (!finalPlain) throw chunkFailed(finalIndex, finalOffset);
    chunks.push(finalPlain);
    if (finalLength + FINAL_FRAME_OVERHEAD < finalFrame.length) {
      throw new NoteSealError('TRAILING_DATA', 'bytes follow the final chunk', { chunk: finalIndex, offset: finalOffset + finalLength + FINAL_FRAME_OVERHEAD });
    }
    const plaintextLength = finalIndex * C + finalLength;
    const stop = Math.min(end, plaintextLength);
    if (start >= stop) return { data: Buffer.alloc(0), plaintextLength };
    const out = Buffer.allocUnsafe(stop - start);
    for (let i = Math.floor(start / C); i * C < stop; i++) {
      let plain: Buffer;
      if (i === finalIndex) {
        plain = finalPlain;
      } else {
        const offset = header.headerLength + i * frameLength;
        const frame = await readAt(handle, offset, frameLength);
        if (frame.length < frameLength || frame[0] !== FRAME_CHUNK) throw chunkFailed(i, offset);
        const opened = openChunk(keys.payloadKey, keys.chunkAad, i, false, frame.subarray(1));
        if (!opened) throw chunkFailed(i, offset);
        chunks.push(opened);
        plain = opened;
      }
      const from = Math.max(start, i * C) - i * C;
      const to = Math.min(stop, (i + 1) * C) - i * C;
      plain.copy(out, Math.max(start, i * C) - start, from, to);
    }
    return { data: out, plaintextLength };
  } finally {
    for (const c of chunks) c.fill(0);
    await file.close();
  }
}

/** readRangeAndLength of a log: its partial frames leave no fixed offsets, so it is read from the start. */
async function readLogRange(file: OpenedFile, start: number, end: number): Promise<{ data: Buffer; plaintextLength: number }> {
  const parts: Buffer[] = [];
  let at = 0;
  try {
    for await (const b of openFileBatches(file, 0)) {
      for (const c of b.plaintext) {
        const from = Math.max(start, at);
        const to = Math.min(end, at + c.length);
        if (from < to) parts.push(Buffer.from(c.subarray(from - at, to - at)));
        at += c.length;
        c.fill(0);
      }
    }
    const data = Buffer.concat(parts);
    return { data, plaintextLength: at };
  } finally {
    for (const p of parts) p.fill(0);
    await file.close();
  }
}

/**
 * Key rotation: replaces the stanzas and recomputes the header MAC; the chunks are copied unchanged
 * (they are bound only to the immutable prefix). Crash-safe. Does not re-authenticate the chunks.
 */
export async function rewrapFile(path: string, unwrap: UnwrapDataKey, newStanzas: Stanza[]): Promise<void> {
  const file = await openEncryptedFile(path, unwrap);
  try {
    const header = serializeHeader(file.header.prefix, newStanzas, file.keys.headerMacKey);
    const src = fileSource(file.handle, file.header.headerLength, file.size);
    async function* output(): AsyncGenerator<Uint8Array> {
      yield header;
      for (;;) {
        const block = await src.read(4 * 1024 * 1024);
        if (block.length === 0) return;
        yield block;
      }
    }
    // Our own read handle is closed before the rename: Windows refuses to rename over a file held open.
    await replaceFileAtomic(path, handle => writeSequentially(handle, output()), undefined, () => file.close());
  } finally {
    await file.close();
  }
}

export { FLAG_APPEND };
