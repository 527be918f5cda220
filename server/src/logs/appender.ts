// Sealed logs (`noteseal append`, the library's open(path, 'a')): bytes are sealed as they arrive, a chunk at
// least every `flushMs` (1 s) and at the first line boundary once that much time has passed since the last
// sealed chunk, so a crash loses at most the last second. One writer at a time (a lock file beside the log);
// an existing log is continued (recovered first when a crash left it open), never written over.
import { lstat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AppendWriter, resumeLog, type PayloadBoundStanza, type Stanza, type UnwrapDataKey } from '../crypto/format';
import { acquireLock, lockOwner, type HeldLock } from '../keys/lockfile';

export const DEFAULT_FLUSH_MS = 1000;

/** `.<name>.lock` beside the log: its writer's pid (the shape recordings use; keys/lockfile.ts). */
export function logLockPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.lock`);
}

/** The pid of the live process appending to `file`, or null. */
export function logWriterPid(file: string): Promise<number | null> {
  return lockOwner(logLockPath(file));
}

/**
 * The log's lock: held by a live writer, left behind by a writer that died without closing (`stale`: close
 * seals the final chunk before it removes the lock, so a crash is the only way to leave one), or none.
 */
export async function logLockState(file: string): Promise<'live' | 'stale' | 'none'> {
  if (await logWriterPid(file) !== null) return 'live';
  return lstat(logLockPath(file)).then(() => 'stale' as const, e => {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'none' as const;
    throw e;
  });
}

/** The keys a new or continued log is sealed with (a fresh data key, as for any new file). */
export interface NewLogKeys { dataKey: Uint8Array; stanzas: Stanza[]; payloadBound?: PayloadBoundStanza }

export interface OpenLogOptions {
  /** Opens the existing log (its current key); needed only when the file exists. */
  unwrap: UnwrapDataKey;
  /** Called once, under the lock: the keys of what is written. The data key is wiped after use. */
  newKeys(): Promise<NewLogKeys>;
  flushMs?: number;
  chunkSize?: number;
}

/** What opening found: a new log, a closed log continued, or an unclosed one recovered and continued. */
export type LogStart =
  | { kind: 'new' }
  | { kind: 'continued'; keptBytes: number }
  | { kind: 'recovered'; keptBytes: number; droppedBytes: number };

export class LogAppender {
  private queue: Promise<void> = Promise.resolve();
  private lastSeal = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private failure: unknown;
  private closed = false;

  private constructor(
    private readonly writer: AppendWriter,
    private readonly lock: HeldLock,
    private readonly flushMs: number,
    readonly start: LogStart,
  ) {}

  /**
   * Takes the log's lock (a second writer is refused at once, naming the first), then creates the log or
   * continues it. Nothing is written to a file that is not a log, that our key does not open, or whose
   * chunks fail authentication before its end.
   */
  static async open(file: string, options: OpenLogOptions): Promise<LogAppender> {
    const lock = await acquireLock(logLockPath(file), { what: `The log ${path.basename(file)}` });
    try {
      const keys = await options.newKeys();
      try {
        const bound = keys.payloadBound ? { payloadBound: keys.payloadBound } : {};
        let writer: AppendWriter;
        let start: LogStart;
        // Which one is decided before a header is made: the signature commits to the salt it first sees.
        if (await lstat(file).then(() => true, e => { if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false; throw e; })) {
          const r = await resumeLog(file, options.unwrap, keys.dataKey, keys.stanzas, bound);
          writer = r.writer;
          start = r.recovered ? { kind: 'recovered', keptBytes: r.keptBytes, droppedBytes: r.recovered.droppedBytes } : { kind: 'continued', keptBytes: r.keptBytes };
        } else {
          // Created exclusively: a file that appeared meanwhile (not through this lock) fails with EEXIST.
          writer = await AppendWriter.create(file, keys.dataKey, keys.stanzas, { ...bound, log: true, ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}) });
          start = { kind: 'new' };
        }
        return new LogAppender(writer, lock, options.flushMs ?? DEFAULT_FLUSH_MS, start);
      } finally {
        keys.dataKey.fill(0);
      }
    } catch (e) {
      await lock.release();
      throw e;
    }
  }

  /** Plaintext bytes written through this appender (not counting what the log held before). */
  get bytesWritten(): number { return this.writer.plaintextBytes - (this.start.kind === 'new' ? 0 : this.start.keptBytes); }

  private run(task: () => Promise<void>): Promise<void> {
    const next = this.queue.then(() => {
      if (this.failure) throw this.failure;
      if (this.closed) throw new Error('the log is closed');
      return task().catch(e => { this.failure ??= e; throw e; });
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Appends `bytes`; resolves once they are buffered or sealed (a full chunk, or a due line boundary). */
  write(bytes: Uint8Array): Promise<void> {
    const copy = Buffer.from(bytes);
    return this.run(async () => {
      try {
        const due = Date.now() - this.lastSeal >= this.flushMs;
        const nl = due ? copy.lastIndexOf(0x0a) : -1;
        if (nl >= 0) {
          // A second has passed: seal through the last complete line now; the rest waits for the next boundary.
          await this.append(copy.subarray(0, nl + 1));
          await this.seal();
          if (nl + 1 < copy.length) await this.append(copy.subarray(nl + 1));
        } else {
          await this.append(copy);
        }
      } finally {
        copy.fill(0);
      }
    });
  }

  private async append(bytes: Uint8Array): Promise<void> {
    await this.writer.append(bytes); // full chunks are written now, made durable by the next seal()
    this.arm();
  }

  private async seal(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.writer.flush();
    this.lastSeal = Date.now();
  }

  /** The guarantee: whatever was written is sealed and fsynced at most `flushMs` after the last seal. */
  private arm(): void {
    if (!this.writer.flushPending) { clearTimeout(this.timer); this.timer = undefined; return; }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.run(() => this.seal()).catch(() => undefined); // the failure is kept and reported by the next call
    }, Math.max(0, this.lastSeal + this.flushMs - Date.now()));
  }

  /** Seals whatever is buffered now. */
  flush(): Promise<void> {
    return this.run(() => this.seal());
  }

  /** Seals the rest with the final chunk (signed, when keys were given to sign), then releases the lock. */
  async close(): Promise<void> {
    try {
      await this.run(async () => {
        clearTimeout(this.timer);
        await this.writer.close();
        this.closed = true;
      });
    } catch (e) {
      clearTimeout(this.timer);
      try { await this.writer.abandon(); } finally { await this.releaseUnfinished(); }
      throw e;
    }
    await this.lock.release();
  }

  /** Stops without the final chunk, as a crash would (tests, the library's abort()); the lock is released. */
  async abandon(): Promise<void> {
    clearTimeout(this.timer);
    this.closed = true;
    await this.queue;
    try { await this.writer.abandon(); } finally { await this.releaseUnfinished(); }
  }

  /**
   * Releases the lock but leaves a stale one in its place (no pid: nobody's), as a crash leaves the dead
   * writer's: readers then say the log was not closed, rather than that it was cut short (logLockState).
   * The next writer breaks it as any stale lock. Never over a lock another writer took meanwhile.
   */
  private async releaseUnfinished(): Promise<void> {
    await this.lock.release();
    await writeFile(this.lock.path, 'unfinished\n', { flag: 'wx', mode: 0o600 }).catch(() => undefined);
  }
}
