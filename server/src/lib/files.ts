// Whole files and Node streams over the same handles and keys as open().
import { Readable, Writable } from 'node:stream';
import { decryptFileToBuffer, decryptStream, isNoteSealError, readHeaderFromFile } from '../crypto/format';
import { readUnfinishedLog, unfinishedLogMessage } from '../logs/reader';
import { aboutFile } from '../cli/context';
import { libraryError, mapped } from './errors';
import { open, type OpenFlags, type OpenOptions, type NoteSealFile } from './handle';
import { openKeySession, withKeys, type KeyOptions } from './keys';

export interface ReadOptions extends KeyOptions { encoding?: BufferEncoding }
export interface WriteOptions extends OpenOptions { encoding?: BufferEncoding }

/**
 * The whole plaintext of `path`: every byte authenticated, or an error and nothing. A log its writer left
 * unfinished (a crash) gives what was sealed and says so through `onWarning`; a log cut short is TruncatedError.
 */
export function readFile(path: string, options?: (ReadOptions & { encoding?: undefined }) | null): Promise<Buffer>;
export function readFile(path: string, options: BufferEncoding | (ReadOptions & { encoding: BufferEncoding })): Promise<string>;
export async function readFile(path: string, options?: BufferEncoding | ReadOptions | null): Promise<Buffer | string> {
  const opts: ReadOptions = typeof options === 'string' ? { encoding: options } : options ?? {};
  const bytes = await withKeys(opts, path, (keys, ctx) => aboutFile(path, async () => {
    try {
      return await decryptFileToBuffer(path, keys.unwrap);
    } catch (e) {
      // A log its writer left unfinished (a crash): what was sealed, every chunk checked first, and a warning.
      if (!isNoteSealError(e, 'UNFINISHED') || !(await readHeaderFromFile(path)).logMode) throw e;
      const parts: Buffer[] = [];
      try {
        const n = await readUnfinishedLog(path, keys.unwrap, async p => { parts.push(Buffer.from(p)); });
        ctx.note(`noteseal: ${unfinishedLogMessage(path, n)}`);
        return Buffer.concat(parts, n);
      } finally {
        for (const p of parts) p.fill(0);
      }
    }
  }));
  if (opts.encoding === undefined) return bytes;
  try { return bytes.toString(opts.encoding); } finally { bytes.fill(0); }
}

/** Replaces `path` with `data`, encrypted (crash-safe: the old file stays until the new one is complete). */
export async function writeFile(path: string, data: string | Uint8Array, options?: BufferEncoding | WriteOptions): Promise<void> {
  const opts: WriteOptions = typeof options === 'string' ? { encoding: options } : options ?? {};
  const handle = await open(path, 'w', opts);
  try {
    await handle.write(data, opts.encoding);
  } catch (e) {
    await handle.abort();
    throw e;
  }
  await handle.close();
}

/**
 * The plaintext as a Readable, chunk by chunk as each authenticates (memory: a few chunks, whatever the size).
 * A damaged, truncated or extended file ends the stream with an 'error' after the chunks before the damage:
 * a consumer that cannot take back what it has seen reads with readFile() or verifies first.
 */
export function createReadStream(path: string, options: ReadOptions = {}): Readable {
  async function* plaintext(): AsyncGenerator<Buffer> {
    await mapped(() => aboutFile(path, async () => undefined)); // no linked folder of a repository on the way
    const session = await openKeySession(options, path);
    try {
      yield* decryptStream(path, session.keys.unwrap);
    } catch (e) {
      throw libraryError(e);
    } finally {
      await session.release();
    }
  }
  const stream = Readable.from(plaintext(), { objectMode: false });
  if (options.encoding) stream.setEncoding(options.encoding);
  return stream;
}

/** The Writable's default high-water mark (Node's is 16 KiB, less than one read of a file stream). */
const WRITE_HIGH_WATER_MARK = 1024 * 1024;

export interface WriteStreamOptions extends OpenOptions {
  /** Bytes the stream takes before write() returns false (default 1 MiB). */
  highWaterMark?: number;
  /** 'w' (default): replaces the file on end(), crash-safe; 'a': a log (continued if it exists), sealed at least every flushMs. */
  flags?: Exclude<OpenFlags, 'r'>;
}

/**
 * A Writable that encrypts into `path` (memory: the high-water mark and a few chunks). 'w': the file is
 * replaced once end() has sealed everything ('finish'); destroying the stream first leaves it as it was.
 */
export function createWriteStream(path: string, options: WriteStreamOptions = {}): Writable {
  let handle: NoteSealFile | undefined;
  return new Writable({
    // Writes taken while the last one is sealed (each only referenced, not copied), so that a source piped in
    // keeps reading ahead instead of waiting for each write's callback (64 KiB file reads, one at a time).
    highWaterMark: options.highWaterMark ?? WRITE_HIGH_WATER_MARK,
    construct(cb) {
      open(path, options.flags ?? 'w', options).then(h => { handle = h; cb(); }, e => cb(e as Error));
    },
    write(chunk: Buffer, _encoding, cb) {
      handle!.write(chunk).then(() => cb(), e => cb(e as Error));
    },
    final(cb) {
      handle!.close().then(() => cb(), e => cb(e as Error));
    },
    destroy(err, cb) {
      // After final() the handle is closed and abort() does nothing; before it, nothing replaces the file.
      if (!handle) { cb(err); return; }
      handle.abort().then(() => cb(err), e => cb(err ?? (e as Error)));
    },
  });
}
