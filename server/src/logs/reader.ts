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
import { logWriterPid } from './appender';

/**
 * How reading stopped: the log is closed (its final chunk read); still being written by a live `append`;
 * left open by a writer that is gone (a crash: `recover` or the next `append` seals it); or asked to stop.
 */
export type LogEnd = 'closed' | 'writing' | 'unfinished' | 'stopped';

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
      let retries = 0;
      for (;;) {
        if (c.final) break;
        const size = (await c.file.handle.stat()).size;
        const frame = await nextFrame(c, size);
        if (!frame) break;
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
          if (c.plainAt + plain.length > shown) await emit(plain.subarray(Math.max(0, shown - c.plainAt)));
        } finally {
          plain.fill(0);
        }
        shown = Math.max(shown, c.plainAt + plain.length);
        c.plainAt += plain.length;
        c.pos += frame.length;
        c.counter++;
        if (frame.final) {
          c.final = true;
          if ((await c.file.handle.stat()).size > c.pos) throw new NoteSealError('TRAILING_DATA', 'bytes follow the final chunk', { chunk: c.counter - 1, offset: c.pos });
        }
      }
      if (!options.follow) {
        if (c.final) return 'closed';
        return (await logWriterPid(path)) !== null ? 'writing' : 'unfinished';
      }
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
