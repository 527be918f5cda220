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
