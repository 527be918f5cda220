// Reading stdin for `encrypt -`: in blocks of 1 MiB, the next one read while the last is sealed, straight from descriptor 0 when it is a file or a pipe,
// instead of process.stdin's 64 KiB stream chunks (a 256 MiB input was 4,096 trips through the stream and
// the event loop).
import { fstatSync, read } from 'node:fs';

const BLOCK_BYTES = 1024 * 1024;

function readInto(fd: number, buf: Buffer, offset: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buf, offset, buf.length - offset, null, (err, n) => (err ? reject(err) : resolve(n))));
}

function blockReadable(fd: number): boolean {
  try {
    const s = fstatSync(fd);
    return s.isFile() || s.isFIFO();
  } catch {
    return false;
  }
}

/**
 * The bytes of stdin, in order, each block a fresh buffer. A descriptor
 * that would block (a pipe someone made non-blocking) hands over to process.stdin from where it stopped.
 */
export async function* stdinBlocks(stdin: NodeJS.ReadableStream & { fd?: number } = process.stdin, fd = 0): AsyncGenerator<Uint8Array> {
  if (!blockReadable(fd)) { yield* stdin as AsyncIterable<Uint8Array>; return; }
  let stopped: Error | undefined;
  const fill = async (): Promise<Buffer> => {
    const buf = Buffer.allocUnsafe(BLOCK_BYTES);
    let got = 0;
    try {
      while (got < buf.length) {
        const n = await readInto(fd, buf, got);
        if (n === 0) break;
        got += n;
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      stopped = e as Error;
    }
    return got === buf.length ? buf : buf.subarray(0, got);
  };
  let next = fill();
  for (;;) {
    const block = await next;
    const more = block.length === BLOCK_BYTES && !stopped;
    if (more) { next = fill(); next.catch(() => undefined); } // read ahead while this block is sealed
    if (block.length > 0) yield block;
    if (more) continue;
    if (stopped) yield* stdin as AsyncIterable<Uint8Array>;
    return;
  }
}
