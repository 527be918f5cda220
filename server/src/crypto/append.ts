// Append mode, for recordings and logs: chunks are sealed and fsynced as they fill, the final chunk is
// written on close. A crash leaves a file without a final chunk (UNFINISHED); recoverFile seals what was
// written. A log (FLAG_LOG, `noteseal append`) may also seal what it has before a chunk fills (flush()).
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_FILE_MODE, fsyncDirectory, replaceFileAtomic, tempSiblingPath, writeAll, writeSequentially } from './atomic';
import { sealChunk, sealPartialChunk } from './chunks';
import { CHUNK_FRAME_OVERHEAD, DEFAULT_CHUNK_SIZE, FLAG_APPEND, FLAG_LOG, SALT_LENGTH } from './constants';
import { deriveFileKeys, type FileKeys } from './derive';
import { isNoteSealError, NoteSealError } from './errors';
import { openEncryptedFile, type UnwrapDataKey } from './file-io';
import { serializeHeader, serializePrefix, type PayloadBoundStanza, type Stanza } from './header';
import { localChunkCipher, openPayload, sealPayload, type PayloadContext } from './payload';
import { fileSource } from './source';

export class AppendWriter {
  private pending: Buffer;
  private filled = 0;
  private counter = 0;
  /** A log's full chunks written since the last fsync. */
  private unsynced = false;
  private appended = 0;
  private state: 'open' | 'closed' | 'failed' = 'open';
  /** Calls run one after another, in the order they were made. */
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly handle: FileHandle,
    private readonly keys: FileKeys,
    private readonly chunkSize: number,
    private position: number,
    private readonly signing?: { bound: PayloadBoundStanza; stanzas: Stanza[]; prefix: Buffer; hash: Hash },
    private readonly log = false,
  ) {
    this.pending = Buffer.alloc(chunkSize);
  }

  /** Creates a new recording at `path` (which must not exist) and makes its header durable. */
  static async create(filePath: string, dataKey: Uint8Array, stanzas: Stanza[], opts: AppendOptions = {}): Promise<AppendWriter> {
    const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
    const salt = randomBytes(SALT_LENGTH);
    const prefix = serializePrefix({ chunkSize, salt, flags: opts.log ? FLAG_APPEND | FLAG_LOG : FLAG_APPEND });
    const keys = deriveFileKeys(dataKey, salt, prefix);
    let handle: FileHandle | undefined;
    try {
      // A payload-bound stanza (the write signature) is written all zero now and filled in by close().
      const bound = opts.payloadBound;
      bound?.prepare?.(prefix);
      const signing = bound ? { bound, stanzas, prefix, hash: createHash('sha256') } : undefined;
      const header = serializeHeader(prefix, bound ? [...stanzas, { type: bound.type, body: new Uint8Array(bound.length) }] : stanzas, keys.headerMacKey);
      handle = await open(filePath, 'wx', DEFAULT_FILE_MODE);
      await writeAll(handle, [header], 0);
      await handle.sync();
      await fsyncDirectory(path.dirname(filePath));
      return new AppendWriter(handle, keys, chunkSize, header.length, signing, opts.log === true);
    } catch (e) {
      keys.dispose();
      await handle?.close();
      throw e;
    }
  }

  /** Plaintext bytes accepted so far (the last partial chunk is durable only after close). */
  get plaintextBytes(): number { return this.appended; }

  private run(task: () => Promise<void>): Promise<void> {
    const next = this.queue.then(() => {
      if (this.state !== 'open') throw new NoteSealError('INVALID_ARGUMENT', `the recording is ${this.state}`);
      return task().catch(e => { this.state = 'failed'; this.wipe(); throw e; });
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Buffers `bytes`; every chunk that fills up is sealed and written (and fsynced, but a log's at its next flush()) before this resolves. */
  append(bytes: Uint8Array): Promise<void> {
    const copy = Buffer.from(bytes); // the caller may reuse its buffer before our turn comes
    return this.run(async () => {
      const frames: Buffer[] = [];
      let p = 0;
      while (p < copy.length) {
        const n = Math.min(this.chunkSize - this.filled, copy.length - p);
        copy.copy(this.pending, this.filled, p, p + n);
        this.filled += n;
        p += n;
        if (this.filled === this.chunkSize) {
          frames.push(...sealChunk(this.keys.payloadKey, this.keys.chunkAad, this.counter++, false, this.pending));
          this.filled = 0;
        }
      }
      copy.fill(0);
      this.appended += p;
      if (frames.length) await this.write(frames);
    });
  }

  /**
   * A log: seals the bytes buffered so far as a partial frame, written and fsynced (with the full chunks
   * before it) before this resolves. What a crash can lose is then only what came after.
   */
  flush(): Promise<void> {
    if (!this.log) return Promise.reject(new NoteSealError('INVALID_ARGUMENT', 'only a log seals partial chunks'));
    return this.run(async () => {
      if (this.filled > 0) {
        const frames = sealPartialChunk(this.keys.payloadKey, this.keys.chunkAad, this.counter++, this.pending.subarray(0, this.filled));
        this.filled = 0;
        await this.write(frames, true);
      } else if (this.unsynced) {
        await this.handle.datasync();
        this.unsynced = false;
      }
    });
  }

  /** Bytes accepted but not yet sealed (a log's flush() seals them). */
  get unsealedBytes(): number { return this.filled; }

  /** A log: bytes accepted that are not yet sealed, or sealed full chunks written but not yet fsynced (flush() does both). */
  get flushPending(): boolean { return this.filled > 0 || this.unsynced; }

  /**
   * Writes sealed frames after the last. A recording fsyncs each time; a log's full chunks are fsynced by its
   * next flush() (within its interval: one fsync a second, not one per chunk, for a fast producer).
   */
  private async write(frames: Buffer[], sync = !this.log): Promise<void> {
    if (this.log) {
      // A log is ours alone (its lock): bytes we did not write mean another writer; stop before mixing in.
      const { size } = await this.handle.stat();
      if (size !== this.position) throw new NoteSealError('CORRUPTED', `the log changed under this writer (${size} bytes where ${this.position} were written): another program wrote to it; stopped`);
    }
    for (const f of frames) this.signing?.hash.update(f);
    this.position += await writeAll(this.handle, frames, this.position);
    if (sync) {
      await this.handle.datasync();
      this.unsynced = false;
    } else {
      this.unsynced = true;
    }
  }

  /** Seals the final chunk (the bytes still buffered), fsyncs and closes. */
  close(): Promise<void> {
    return this.run(async () => {
      await this.write(sealChunk(this.keys.payloadKey, this.keys.chunkAad, this.counter, true, this.pending.subarray(0, this.filled)), true);
      await this.sign();
      await this.handle.close();
      this.state = 'closed';
      this.wipe();
    });
  }

  /**
   * The file is complete: fill in the write signature (header rewritten in place, same length, new MAC).
   * A signature that cannot be made leaves the placeholder, which reads as unsigned; the recording is kept.
   */
  private async sign(): Promise<void> {
    if (!this.signing) return;
    const { bound, stanzas, prefix, hash } = this.signing;
    let body: Uint8Array;
    try { body = await bound.build(prefix, hash.digest()); } catch { return; }
    if (body.length !== bound.length) return;
    await writeAll(this.handle, [serializeHeader(prefix, [...stanzas, { type: bound.type, body }], this.keys.headerMacKey)], 0);
    await this.handle.datasync();
  }

  /**
   * Stops without a final chunk, as a crash would (the file reads as UNFINISHED). For tests and aborts, and
   * after a failed write (a full disk): the file handle is closed in that state too.
   */
  async abandon(): Promise<void> {
    await this.queue;
    if (this.state === 'closed') return;
    if (this.state === 'open') this.wipe(); // a failed writer wiped itself already
    this.state = 'closed';
    await this.handle.close();
  }

  private wipe(): void {
    this.pending.fill(0);
    this.keys.dispose();
  }
}

export interface AppendOptions {
  chunkSize?: number;
  payloadBound?: PayloadBoundStanza;
  /** A log (FLAG_LOG): flush() may seal partial chunks. */
  log?: boolean;
}

/**
 * Continues the log at `filePath` (written by `noteseal append`, finished or not): its authentic content is
 * re-sealed, with the given fresh data key and stanzas, into a temporary sibling that replaces it, and the
 * returned writer appends after it. A log a crash left without its final chunk is recovered on the way
 * (`recovered`; a torn last frame is dropped, as recoverFile does). Never under the old salt: a chunk
 * counter of the old file is never used again with other bytes. Refused, the file untouched: a file that
 * is not a log, that our key does not open, or whose chunks fail anywhere but at a torn end (a foreign or
 * damaged chunk; `noteseal recover` drops a damaged last chunk on purpose).
 */
export async function resumeLog(filePath: string, unwrap: UnwrapDataKey, dataKey: Uint8Array, stanzas: Stanza[], opts: Omit<AppendOptions, 'log' | 'chunkSize'> = {}): Promise<{ writer: AppendWriter; keptBytes: number; recovered: null | { droppedBytes: number } }> {
  const file = await openEncryptedFile(filePath, unwrap);
  let tmp: string | undefined;
  let writer: AppendWriter | undefined;
  try {
    const { header, keys, size } = file;
    if (!header.logMode) {
      throw new NoteSealError('INVALID_ARGUMENT', `${filePath} is ${header.appendMode ? 'a recording' : 'a sealed file'}, not a log written by noteseal append; nothing was appended`);
    }
    const ctx: PayloadContext = { chunkSize: header.chunkSize, appendMode: true, logMode: true, headerLength: header.headerLength };
    tmp = tempSiblingPath(filePath);
    writer = await AppendWriter.create(tmp, dataKey, stanzas, { ...opts, chunkSize: header.chunkSize, log: true });
    let recovered: null | { droppedBytes: number } = null;
    try {
      for await (const batch of openPayload(fileSource(file.handle, header.headerLength, size), ctx, localChunkCipher(keys.payloadKey, keys.chunkAad))) {
        // A batch (a few MiB) at once: one fsync per batch, not per chunk.
        const joined = Buffer.concat(batch);
        for (const c of batch) c.fill(0);
        try { await writer.append(joined); } finally { joined.fill(0); }
      }
    } catch (e) {
      if (!isNoteSealError(e, 'UNFINISHED')) throw e;
      recovered = { droppedBytes: size - (e.detail.offset ?? size) };
    }
    await writer.flush();
    const keptBytes = writer.plaintextBytes;
    await file.close();
    await rename(tmp, filePath);
    tmp = undefined;
    await fsyncDirectory(path.dirname(filePath));
    return { writer, keptBytes, recovered };
  } catch (e) {
    await writer?.abandon();
    if (tmp) await unlink(tmp).catch(() => undefined);
    throw e;
  } finally {
    await file.close();
  }
}

/**
 * Seals an unfinished recording. Every complete, authentic chunk is kept; a torn or damaged last frame
 * is dropped. The kept plaintext is re-encrypted under a fresh salt (see FORMAT.md, "Recovery": sealing
 * a final chunk under the old payload key could reuse a nonce) and the file replaced crash-safely.
 * A file that already verifies is left alone. Only append-mode files are recovered.
 */
export async function recoverFile(filePath: string, unwrap: UnwrapDataKey): Promise<{ chunks: number; plaintextBytes: number; droppedBytes: number }> {
  const file = await openEncryptedFile(filePath, unwrap);
  try {
    const { header, keys, size } = file;
    const ctx: PayloadContext = { chunkSize: header.chunkSize, appendMode: header.appendMode, logMode: header.logMode, headerLength: header.headerLength };
    const cipher = localChunkCipher(keys.payloadKey, keys.chunkAad);
    let chunks = 0;
    let plaintextBytes = 0;
    let cut = -1;
    try {
      for await (const batch of openPayload(fileSource(file.handle, header.headerLength, size), ctx, cipher)) {
        for (const c of batch) { chunks++; plaintextBytes += c.length; c.fill(0); }
      }
      return { chunks, plaintextBytes, droppedBytes: 0 };
    } catch (e) {
      if (!header.appendMode || !isNoteSealError(e)) throw e;
      const at = e.detail.offset ?? -1;
      const lastFrameDamaged = e.code === 'CORRUPTED' && at + header.chunkSize + CHUNK_FRAME_OVERHEAD >= size;
      if (e.code !== 'UNFINISHED' && !lastFrameDamaged) throw e;
      cut = at;
    }
    // Second pass: the authentic chunks before `cut`, re-sealed under a fresh salt.
    const salt = randomBytes(SALT_LENGTH);
    const prefix = serializePrefix({ chunkSize: header.chunkSize, salt, flags: header.flags });
    const newKeys = deriveFileKeys(file.dataKey, salt, prefix);
    let kept = 0;
    async function* authenticPrefix(): AsyncGenerator<Uint8Array> {
      try {
        for await (const batch of openPayload(fileSource(file.handle, header.headerLength, cut), ctx, cipher)) {
          for (const c of batch) { kept += c.length; yield c; }
        }
      } catch (e) {
        if (!isNoteSealError(e, 'UNFINISHED') || e.detail.offset !== cut) throw e;
      }
    }
    try {
      const newHeader = serializeHeader(prefix, header.stanzas, newKeys.headerMacKey);
      async function* output(): AsyncGenerator<Uint8Array | Uint8Array[]> {
        yield newHeader;
        yield* sealPayload(authenticPrefix(), header.chunkSize, localChunkCipher(newKeys.payloadKey, newKeys.chunkAad));
      }
      // Our own read handle is closed before the rename: Windows refuses to rename over a file held open.
      await replaceFileAtomic(filePath, handle => writeSequentially(handle, output()), undefined, () => file.close());
    } finally {
      newKeys.dispose();
    }
    return { chunks: Math.floor(kept / header.chunkSize) + 1, plaintextBytes: kept, droppedBytes: size - cut };
  } finally {
    await file.close();
  }
}
