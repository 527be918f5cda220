// open(path, flags): a handle on one encrypted file, as fs.promises.open gives one on a plain file.
//   'r'  read the whole plaintext, or any range of it (the format's random access: only the chunks in the range
//        and the final chunk are read and authenticated), and its length
//   'w'  write a new version: sealed as it is written into a temporary sibling, fsynced and renamed over the
//        file on close(); a failed close or abort() leaves the file as it was and no temporary file
//   'a'  a log (as `noteseal append` writes): what is written is sealed and fsynced at least every second
//        (flushMs) and whenever a chunk fills, the final chunk on close(); one writer at a time (a lock beside
//        the file). An existing log is continued: re-sealed under a new salt, recovered first when a crash left
//        it open (said through onWarning); a file that is not a log, or not ours, is refused untouched
// Text or binary: write() takes strings (UTF-8, or the encoding given) or bytes; read() gives a Buffer, or a
// string when given an encoding.
import { decryptFileToBuffer, encryptFile, readRangeAndLength, recoverFile } from '../crypto/format';
import { LogAppender, logWriterPid } from '../logs/appender';
import { aboutFile } from '../cli/context';
import { mapped, UsageError } from './errors';
import { Feed } from './feed';
import { newFileKeys } from './new-keys';
import { cachingUnwrap, openKeySession, withKeys, type KeyOptions, type KeySession } from './keys';

export type OpenFlags = 'r' | 'w' | 'a';

export interface OpenOptions extends KeyOptions {
  /** 'w' and 'a': plaintext bytes per sealed chunk (1 KiB..16 MiB; default 64 KiB). Smaller chunks make an append-mode file durable sooner. */
  chunkSize?: number;
  /**
   * 'w' and 'a': public identities (age1…, age1pq1…, noteseal1…) the file is encrypted to besides the folder's
   * members; default $NOTESEAL_RECIPIENTS (separated by commas or white space). With only an identity for
   * keys, the file is encrypted to exactly these, unsigned.
   */
  recipients?: string[];
  /** 'a': the longest written bytes wait before they are sealed, in ms (default 1000): what a crash can lose. */
  flushMs?: number;
}

type Writing =
  | { kind: 'w'; feed: Feed; done: Promise<void> }
  | { kind: 'a'; log: LogAppender };

const toBytes = (data: string | Uint8Array, encoding: BufferEncoding = 'utf8') =>
  (typeof data === 'string' ? Buffer.from(data, encoding) : data);

export class NoteSealFile {
  private state: 'open' | 'closed' = 'open';

  private constructor(
    readonly path: string,
    readonly flags: OpenFlags,
    private readonly session: KeySession,
    private readonly unwrap: ReturnType<typeof cachingUnwrap>,
    private readonly writing: Writing | undefined,
  ) {}

  /** Opens `path`: for 'r' its key is found and its header and final chunk authenticated before this resolves. */
  static async open(path: string, flags: OpenFlags = 'r', options: OpenOptions = {}): Promise<NoteSealFile> {
    if (flags !== 'r' && flags !== 'w' && flags !== 'a') throw new UsageError(`open: flags must be 'r', 'w' or 'a', not ${JSON.stringify(flags)}`);
    if (options.flushMs !== undefined && !(options.flushMs > 0)) throw new UsageError('open: flushMs must be a positive number of milliseconds');
    const session = await openKeySession(options, path);
    const unwrap = cachingUnwrap(session.keys.unwrap);
    try {
      const writing = await mapped(() => aboutFile(path, async () => {
        if (flags === 'r') {
          await readRangeAndLength(path, unwrap.unwrap, 0, 0);
          return undefined;
        }
        const chunkSize = options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {};
        if (flags === 'a') {
          const log = await LogAppender.open(path, {
            unwrap: unwrap.unwrap,
            newKeys: async () => {
              const { dataKey, stanzas, signing } = await newFileKeys(session, path, options.recipients);
              return { dataKey, stanzas, ...(signing.payloadBound ? { payloadBound: signing.payloadBound } : {}) };
            },
            ...chunkSize,
            ...(options.flushMs !== undefined ? { flushMs: options.flushMs } : {}),
          });
          if (log.start.kind === 'recovered') {
            session.ctx.note(`noteseal: ${path} was not closed (its writer stopped without sealing the end): recovered ${log.start.keptBytes} bytes, dropped ${log.start.droppedBytes} bytes of a torn chunk; appending after it.`);
          }
          return { kind: 'a' as const, log };
        }
        const { dataKey, stanzas, signing } = await newFileKeys(session, path, options.recipients);
        const feed = new Feed();
        const done = encryptFile(feed, path, dataKey, stanzas, { ...chunkSize, ...signing }).finally(() => dataKey.fill(0));
        done.catch(e => feed.fail(e)); // a failed write (a full disk) fails the writer waiting on the feed
        return { kind: 'w' as const, feed, done };
      }));
      return new NoteSealFile(path, flags, session, unwrap, writing);
    } catch (e) {
      unwrap.wipe();
      await session.release();
      throw e;
    }
  }

  private check(flags: OpenFlags[], what: string): void {
    if (this.state !== 'open') throw new UsageError(`${what}: ${this.path} is closed`);
    if (!flags.includes(this.flags)) throw new UsageError(`${what}: ${this.path} was opened with '${this.flags}'`);
  }

  /** The whole plaintext: every byte authenticated, or an error and nothing. */
  read(): Promise<Buffer>;
  read(encoding: BufferEncoding): Promise<string>;
  async read(encoding?: BufferEncoding): Promise<Buffer | string> {
    this.check(['r'], 'read');
    const bytes = await mapped(() => decryptFileToBuffer(this.path, this.unwrap.unwrap));
    if (encoding === undefined) return bytes;
    try { return bytes.toString(encoding); } finally { bytes.fill(0); }
  }

  /** Plaintext bytes [start, end) (end past the file's end reads to the end): only the chunks holding them are read. */
  readRange(start: number, end: number): Promise<Buffer>;
  readRange(start: number, end: number, encoding: BufferEncoding): Promise<string>;
  async readRange(start: number, end: number, encoding?: BufferEncoding): Promise<Buffer | string> {
    this.check(['r'], 'readRange');
    const { data } = await mapped(() => readRangeAndLength(this.path, this.unwrap.unwrap, start, end));
    if (encoding === undefined) return data;
    try { return data.toString(encoding); } finally { data.fill(0); }
  }

  /** The plaintext length, vouched for by the authenticated final chunk. */
  async size(): Promise<number> {
    this.check(['r'], 'size');
    return (await mapped(() => readRangeAndLength(this.path, this.unwrap.unwrap, 0, 0))).plaintextLength;
  }

  /** Adds `data` at the end ('w' and 'a'); resolves when it is taken into a batch being sealed ('w') or buffered, full chunks sealed and fsynced ('a'; the rest within flushMs): `data` may be reused then. */
  async write(data: string | Uint8Array, encoding?: BufferEncoding): Promise<void> {
    this.check(['w', 'a'], 'write');
    const bytes = toBytes(data, encoding);
    const w = this.writing!;
    await mapped(() => (w.kind === 'w' ? w.feed.push(bytes) : w.log.write(bytes)));
  }

  /** write() by its fs name: a handle only ever adds at the end. */
  appendFile(data: string | Uint8Array, encoding?: BufferEncoding): Promise<void> {
    return this.write(data, encoding);
  }

  /** 'a': seals what is buffered now (it would be within flushMs anyway). */
  async flush(): Promise<void> {
    this.check(['a'], 'flush');
    const w = this.writing;
    if (w?.kind === 'a') await mapped(() => w.log.flush());
  }

  /** 'w': seals the rest and renames the file into place; 'a': seals the final chunk and releases the lock. The keys are wiped. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    try {
      const w = this.writing;
      if (w?.kind === 'w') { w.feed.end(); await mapped(() => w.done); }
      if (w?.kind === 'a') await mapped(() => w.log.close());
    } finally {
      this.unwrap.wipe();
      await this.session.release();
    }
  }

  /** Stops without finishing: 'w' leaves the file as it was; 'a' leaves it unfinished (recover() seals it). */
  async abort(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    try {
      const w = this.writing;
      if (w?.kind === 'w') { w.feed.fail(new UsageError(`${this.path}: the write was aborted`)); await w.done.catch(() => undefined); }
      if (w?.kind === 'a') await w.log.abandon();
    } finally {
      this.unwrap.wipe();
      await this.session.release();
    }
  }
}

export function open(path: string, flags: OpenFlags = 'r', options: OpenOptions = {}): Promise<NoteSealFile> {
  return NoteSealFile.open(path, flags, options);
}

/** Seals an unfinished append-mode file (a crash, an abort) so it reads again, as `noteseal recover` does. */
export function recover(path: string, options: KeyOptions = {}): Promise<{ plaintextBytes: number; droppedBytes: number }> {
  return withKeys(options, path, async keys => {
    const writer = await logWriterPid(path);
    if (writer !== null) throw new UsageError(`recover: ${path} is being written (by pid ${writer}, which holds its lock); its writer seals it when it ends`);
    const r = await aboutFile(path, () => recoverFile(path, keys.unwrap));
    return { plaintextBytes: r.plaintextBytes, droppedBytes: r.droppedBytes };
  });
}
