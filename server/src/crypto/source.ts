// Byte sources for the frame decoder: a buffer already in memory, or a file read in large blocks.
import type { FileHandle } from 'node:fs/promises';

export interface ByteSource {
  /** Up to n bytes; fewer only at the end of the input. */
  read(n: number): Promise<Buffer>;
}

const EMPTY = Buffer.alloc(0);

export function bufferSource(bytes: Uint8Array, start: number): ByteSource {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = start;
  return {
    async read(n) {
      if (pos >= b.length) return EMPTY;
      const out = b.subarray(pos, Math.min(b.length, pos + n));
      pos += out.length;
      return out;
    },
  };
}

async function readFully(handle: FileHandle, position: number, want: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(want);
  let got = 0;
  while (got < want) {
    const { bytesRead } = await handle.read(buf, got, want - got, position + got);
    if (bytesRead === 0) break; // the file shrank under us: what is missing reads as truncation
    got += bytesRead;
  }
  return got === want ? buf : buf.subarray(0, got);
}

/**
 * Reads `handle` from `position` up to `end` (the size seen when the file was opened). After each
 * read it starts the next one of the same size, so the disk works while the caller decrypts.
 */
export function fileSource(handle: FileHandle, position: number, end: number): ByteSource {
  let cursor = position; // the first byte not yet fetched
  let shortRead = false; // once a read comes back short, the file changed: read nothing more
  let ahead: Promise<Buffer> | undefined; // fetched, not yet returned; ends at `cursor`
  const fetch = async (n: number): Promise<Buffer> => {
    const want = Math.min(n, end - cursor);
    if (want <= 0 || shortRead) return EMPTY;
    const at = cursor;
    cursor += want;
    const buf = await readFully(handle, at, want);
    if (buf.length < want) shortRead = true;
    return buf;
  };
  const prefetch = (n: number) => {
    ahead = fetch(n);
    ahead.catch(() => undefined); // rejections surface at the next read
  };
  return {
    async read(n) {
      let buf = ahead ? await ahead : EMPTY;
      ahead = undefined;
      if (buf.length > n) {
        ahead = Promise.resolve(buf.subarray(n));
        return buf.subarray(0, n);
      }
      if (buf.length < n) {
        const more = await fetch(n - buf.length);
        buf = buf.length === 0 ? more : Buffer.concat([buf, more]);
      }
      prefetch(n);
      return buf;
    },
  };
}

/** Reads exactly `length` bytes at `position`, or fewer if the file ends first. */
export async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  return fileSource(handle, position, position + length).read(length);
}
