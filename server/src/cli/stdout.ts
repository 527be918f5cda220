// Writing to stdout with back-pressure. A reader that goes away (`| head`) ends output quietly.
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

/** Writes several buffers (one batch of chunks) and resolves once all are handed to the OS. */
export function writeManyToStdout(stdout: NodeJS.WritableStream, parts: readonly Uint8Array[]): Promise<void> {
  if (parts.length === 0) return Promise.resolve();
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
