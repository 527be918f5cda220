// Reading a sealed log while it may still grow (`noteseal cat [--follow]`): frame by frame, each chunk shown
// only once it has authenticated, so the chunk a writer is sealing right now (or a crash tore) is never
// shown in part. Following polls the file; a log continued by a new `append` (re-sealed under a new salt
// into a new file) is reopened and read on from the plaintext already shown.
import { stat } from 'node:fs/promises';
import { openChunk } from '../crypto/chunks';
import { CHUNK_FRAME_OVERHEAD, FINAL_FRAME_OVERHEAD, FRAME_CHUNK, FRAME_FINAL, FRAME_PARTIAL } from '../crypto/constants';
import { NoteSealError } from '../crypto/errors';
import { openEncryptedFile, type OpenedFile, type UnwrapDataKey } from '../crypto/file-io';
import { readAt } from '../crypto/source';
import { logLockState, logWriterPid } from './appender';

/**
 * How reading stopped: the log is closed (its final chunk read); still being written by a live `append`;
 * left open by a writer that is gone (a crash: `recover` or the next `append` seals it); cut short with no
 * writer's lock beside it (logEndWithoutFinal); or asked to stop.
 */
export type LogEnd = 'closed' | 'writing' | 'unfinished' | 'truncated' | 'stopped';

export interface ReadLogOptions {
  /** Keep reading as the log grows, until `signal` aborts. */
  follow?: boolean;
  signal?: AbortSignal;
  /** How often a follower looks for new chunks. */
  pollMs?: number;
}

/** A frame that fails at the very end of the file may be one the writer is still writing: look again this often. */
const TAIL_RETRIES = 10;

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>(resolve => {
  if (signal?.aborted) { resolve(); return; }
  const done = () => { clearTimeout(t); signal?.removeEventListener('abort', done); resolve(); };
  const t = setTimeout(done, ms);
  signal?.addEventListener('abort', done, { once: true });
});

/** Where a reader is in one open file. */
interface Cursor { file: OpenedFile; ino: number; pos: number; counter: number; plainAt: number; final: boolean }

async function openCursor(path: string, unwrap: UnwrapDataKey): Promise<Cursor> {
  const file = await openEncryptedFile(path, unwrap);
  if (!file.header.appendMode) {
    await file.close();
    throw new NoteSealError('INVALID_ARGUMENT', `${path} is not a log (not written by noteseal append): read it with noteseal decrypt`);
  }
  const { ino } = await file.handle.stat();
  return { file, ino, pos: file.header.headerLength, counter: 0, plainAt: 0, final: false };
}

/** The next complete frame at the cursor: its chunk body and length, or null when it is not all there yet. */
async function nextFrame(c: Cursor, size: number): Promise<{ final: boolean; body: Buffer; length: number } | null> {
  const { handle, header } = c.file;
  const C = header.chunkSize;
  const head = await readAt(handle, c.pos, 5);
  if (head.length === 0) return null;
  const kind = head[0]!;
  let start: number;
  let length: number;
  if (kind === FRAME_CHUNK) {
    start = 1;
    length = C + CHUNK_FRAME_OVERHEAD;
  } else if (kind === FRAME_FINAL || (kind === FRAME_PARTIAL && header.logMode)) {
    if (head.length < 5) return null;
    const n = head.readUInt32BE(1);
    if (n >= C || (kind === FRAME_PARTIAL && n === 0)) throw new NoteSealError('CORRUPTED', `chunk ${c.counter} at byte ${c.pos} claims ${n} bytes`, { chunk: c.counter, offset: c.pos });
    start = 5;
    length = n + FINAL_FRAME_OVERHEAD;
  } else {
    throw new NoteSealError('CORRUPTED', `chunk ${c.counter} at byte ${c.pos} has an unknown frame kind`, { chunk: c.counter, offset: c.pos });
  }
  if (c.pos + length > size) return null;
  const frame = await readAt(handle, c.pos, length);
  if (frame.length < length) return null; // shrank under us: looked at again next time
  return { final: kind === FRAME_FINAL, body: frame.subarray(start), length };
}

/**
 * Where a reading of a log stopped, to read on from there later (the editor's live view): the file (inode and
 * salt, so a log replaced by a new `append` or rewritten in place is read again from its start), the offset
 * and counter of the next frame, and the plaintext bytes before it. No key and no plaintext.
 */
export interface LogPosition { ino: number; salt: string; pos: number; counter: number; plainAt: number; final: boolean }

/** Whether a cursor just opened is the same file, same salt, as `at` describes, and has not shrunk below it. */
async function resumes(c: Cursor, at: LogPosition): Promise<boolean> {
  return c.ino === at.ino && Buffer.from(c.file.header.salt).toString('hex') === at.salt && (await c.file.handle.stat()).size >= at.pos;
}

function positionOf(c: Cursor): LogPosition {
  return { ino: c.ino, salt: Buffer.from(c.file.header.salt).toString('hex'), pos: c.pos, counter: c.counter, plainAt: c.plainAt, final: c.final };
}

/**
 * Hands each authenticated chunk after the cursor to `emit`, in order, until the end of what is sealed now
 * (a frame not all there yet, or the final chunk). Every chunk is authenticated before it is handed out.
 */
async function readSealed(c: Cursor, path: string, emit: (plaintext: Buffer, plainAt: number) => Promise<void>, options: ReadLogOptions): Promise<void> {
  const pollMs = options.pollMs ?? 200;
  let retries = 0;
  for (;;) {
    if (c.final) return;
    const size = (await c.file.handle.stat()).size;
    const frame = await nextFrame(c, size);
    if (!frame) return;
    const { keys } = c.file;
    const plain = openChunk(keys.payloadKey, keys.chunkAad, c.counter, frame.final, frame.body);
    if (!plain) {
      if (c.pos + frame.length === size && retries++ < TAIL_RETRIES && (options.follow || await logWriterPid(path) !== null)) {
        await sleep(pollMs / 4, options.signal);
        continue;
      }
      throw new NoteSealError('CORRUPTED', `chunk ${c.counter} at byte ${c.pos} failed authentication`, { chunk: c.counter, offset: c.pos });
    }
    retries = 0;
    try {
      await emit(plain, c.plainAt);
    } finally {
      plain.fill(0);
    }
    c.plainAt += plain.length;
    c.pos += frame.length;
    c.counter++;
    if (frame.final) {
      c.final = true;
      if ((await c.file.handle.stat()).size > c.pos) throw new NoteSealError('TRAILING_DATA', 'bytes follow the final chunk', { chunk: c.counter - 1, offset: c.pos });
    }
  }
}

/**
 * How a log read without following ended, from its final chunk and its writer's lock (logEndWithoutFinal).
 * A writer that closes between our last frame and our look at its lock has sealed its final chunk by then
 * (close removes the lock after): read that before calling the log cut short.
 */
async function endOf(c: Cursor, path: string, emit: (plaintext: Buffer, plainAt: number) => Promise<void>): Promise<LogEnd> {
  for (let look = 0; ; look++) {
    if (c.final) return 'closed';
    const end = await logEndWithoutFinal(path);
    if (end !== 'truncated' || look >= 2 || (await c.file.handle.stat()).size === c.pos) return end;
    await readSealed(c, path, emit, {});
  }
}

/**
 * A log that has no final chunk (yet): `writing` while a live `append` holds its lock; `unfinished` when the
 * lock its writer took is still there but its process is gone (a crash: the writer never reached close,
 * which seals the final chunk before it removes the lock); `truncated` with no lock at all: a log that was
 * closed and then cut short at a chunk boundary (or copied without its lock), which no reader can tell from
 * the file alone, since every such prefix is a state the writer went through.
 */
export async function logEndWithoutFinal(path: string): Promise<'writing' | 'unfinished' | 'truncated'> {
  const state = await logLockState(path);
  return state === 'live' ? 'writing' : state === 'stale' ? 'unfinished' : 'truncated';
}

/**
 * Reads on from `from` (the position a previous call returned; undefined: from the start), handing each
 * chunk sealed since then to `emit` once it has authenticated, and returns where it stopped. When the file
 * is not the one `from` describes (a new `append` replaced it, its salt changed, it shrank) it starts over
 * (`restarted`: what the caller kept from earlier reads is not part of it). So a caller that keeps the
 * plaintext reads only what was added: O(new data) per update.
 */
export async function readLogSince(path: string, unwrap: UnwrapDataKey, from: LogPosition | undefined, emit: (plaintext: Buffer) => Promise<void>): Promise<{ end: LogEnd; at: LogPosition; restarted: boolean }> {
  const c = await openCursor(path, unwrap);
  try {
    const restarted = !from || !(await resumes(c, from));
    if (!restarted) Object.assign(c, { pos: from.pos, counter: from.counter, plainAt: from.plainAt, final: from.final });
    if (c.final && (await c.file.handle.stat()).size > c.pos) {
      throw new NoteSealError('TRAILING_DATA', 'bytes follow the final chunk', { chunk: c.counter - 1, offset: c.pos });
    }
    await readSealed(c, path, plain => emit(plain), {});
    return { end: await endOf(c, path, plain => emit(plain)), at: positionOf(c), restarted };
  } finally {
    await c.file.close();
  }
}

/**
 * Reads the sealed chunks of the log at `path` from the start, handing each authenticated plaintext to
 * `emit` in order. Without `follow` it stops at the end of what is sealed now; with it, it waits for more
 * until `signal` aborts. Typed errors (CORRUPTED, TRAILING_DATA, WRONG_KEY…) after the chunks before them.
 */
export async function readLog(path: string, unwrap: UnwrapDataKey, emit: (plaintext: Buffer) => Promise<void>, options: ReadLogOptions = {}): Promise<LogEnd> {
  const pollMs = options.pollMs ?? 200;
  let shown = 0; // plaintext bytes handed out, across reopenings
  let c = await openCursor(path, unwrap);
  try {
    for (;;) {
      const once = async (plain: Buffer, plainAt: number) => {
        if (plainAt + plain.length > shown) await emit(plain.subarray(Math.max(0, shown - plainAt)));
        shown = Math.max(shown, plainAt + plain.length);
      };
      await readSealed(c, path, once, options);
      if (!options.follow) return await endOf(c, path, once);
      if (options.signal?.aborted) return 'stopped';
      await sleep(pollMs, options.signal);
      if (options.signal?.aborted) return 'stopped';
      // A new `append` continues the log in a new file (re-sealed under a new salt): start that one over.
      const now = await stat(path).catch(() => null);
      if (now && now.ino !== c.ino) {
        await c.file.close();
        c = await openCursor(path, unwrap);
      }
    }
  } finally {
    await c.file.close();
  }
}

/** What `decrypt` and the library's whole-file reads say of a log its writer left unfinished (a crash). */
export function unfinishedLogMessage(path: string, sealedBytes: number): string {
  return `${path} was not closed cleanly: its writer stopped without sealing the end (a crash?). Read are the ${sealedBytes} bytes it had sealed; whatever it had not sealed yet is lost. noteseal recover (or the next noteseal append) seals it as it is.`;
}

/**
 * For a whole-file read (`decrypt`, the library's readFile) of a log that has no final chunk: checks every
 * sealed chunk first (nothing is handed out before all of them authenticate), then hands them to `emit`
 * and returns how many bytes. Only for a log its writer left unfinished (its stale lock beside it); one a
 * live `append` is writing is UNFINISHED (read it with `noteseal cat`), one cut short with no lock TRUNCATED.
 */
export async function readUnfinishedLog(path: string, unwrap: UnwrapDataKey, emit: (plaintext: Buffer) => Promise<void>): Promise<number> {
  const state = await logEndWithoutFinal(path);
  if (state === 'writing') throw new NoteSealError('UNFINISHED', `${path} is being written by noteseal append right now: read what is sealed so far with noteseal cat (--follow to go on reading)`);
  if (state === 'truncated') throw new NoteSealError('TRUNCATED', `${path} ends without its final chunk and no writer left its lock behind as a crash does: it was closed and then cut short (or copied without its lock); the end is missing`);
  let sealed = 0;
  const end = await readLog(path, unwrap, async p => { sealed += p.length; });
  if (end === 'closed') throw new NoteSealError('INVALID_ARGUMENT', `${path} was closed meanwhile: read it again`);
  let shown = 0;
  await readLog(path, unwrap, async p => {
    const part = p.subarray(0, Math.max(0, sealed - shown));
    if (part.length) await emit(part);
    shown += part.length;
  });
  if (shown < sealed) throw new NoteSealError('CORRUPTED', `${path} changed while it was read`);
  return sealed;
}
