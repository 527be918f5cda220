// Writing to stdout with back-pressure. A reader that goes away (`| head`) ends output quietly.
import { fstatSync, writeSync, writevSync } from 'node:fs';

export class StdoutClosed extends Error {
  override readonly name = 'StdoutClosed';
}

export function writeToStdout(stdout: NodeJS.WritableStream, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stdout.write(data, err => {
      if (!err) resolve();
      else reject((err as NodeJS.ErrnoException).code === 'EPIPE' ? new StdoutClosed('stdout closed') : err);
    });
  });
}

/**
 * The descriptor of a stdout redirected to a regular file (`> file`). Node writes such a stdout
 * synchronously and unbuffered, so writing a batch to the descriptor with one writev, at its current
 * offset (or appended, under >>), is the same as writing the pieces one by one through the stream.
 */
function regularFileFd(stdout: NodeJS.WritableStream): number | undefined {
  const s = stdout as NodeJS.WritableStream & { fd?: unknown; writableLength?: number };
  if (typeof s.fd !== 'number' || s.writableLength !== 0) return undefined;
  try {
    return fstatSync(s.fd).isFile() ? s.fd : undefined;
  } catch {
    return undefined;
  }
}

function writeAllSync(fd: number, parts: readonly Uint8Array[]): void {
  let i = 0;
  while (i < parts.length) {
    const batch = parts.slice(i, i + 512);
    let done = writevSync(fd, batch as Uint8Array[]);
    for (const p of batch) {
      i++;
      if (done >= p.length) { done -= p.length; continue; }
      // Short write: finish this piece, then go on with writev from the next one.
      let off = done;
      while (off < p.length) off += writeSync(fd, p, off, p.length - off);
      break;
    }
  }
}

/** Writes several buffers (one batch of chunks) and resolves once all are handed to the OS. */
export function writeManyToStdout(stdout: NodeJS.WritableStream, parts: readonly Uint8Array[]): Promise<void> {
  if (parts.length === 0) return Promise.resolve();
  const fd = regularFileFd(stdout);
  if (fd !== undefined) {
    try {
      writeAllSync(fd, parts);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }
  return new Promise((resolve, reject) => {
    let left = parts.length;
    let failed = false;
    for (const p of parts) {
      stdout.write(p, err => {
        if (failed) return;
        if (err) { failed = true; reject((err as NodeJS.ErrnoException).code === 'EPIPE' ? new StdoutClosed('stdout closed') : err); return; }
        if (--left === 0) resolve();
      });
    }
  });
}
