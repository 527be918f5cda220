// A push-to-pull bridge: write() calls become the async iterable the format's encryptFile reads. Nothing is
// copied or queued here: a push waits until the reader has taken its bytes (encryptFile copies each piece
// into the batch it seals before it asks for the next), so the writer may reuse its buffer once push
// resolves, and back-pressure is the reader's (its batches in flight).

export class Feed implements AsyncIterable<Uint8Array> {
  private readonly queue: { bytes: Uint8Array; taken: () => void; refused: (e: unknown) => void }[] = [];
  private ended = false;
  private failure: unknown;
  private failed = false;
  private wakeReader: (() => void) | undefined;

  /** Hands `bytes` to the reader; resolves once it has taken them (copied, or sealed) and asked for more. */
  push(bytes: Uint8Array): Promise<void> {
    if (this.failed) return Promise.reject(this.failure);
    if (this.ended) return Promise.reject(new Error('write after close'));
    if (bytes.length === 0) return Promise.resolve();
    return new Promise<void>((taken, refused) => {
      this.queue.push({ bytes, taken, refused });
      this.wake();
    });
  }

  end(): void { this.ended = true; this.wake(); }

  /** Stops the reader with `e` (it is thrown into encryptFile, which removes its temporary file) and any waiting writer. */
  fail(e: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.failure = e;
    for (const w of this.queue.splice(0)) w.refused(e);
    this.wake();
  }

  private wake(): void {
    this.wakeReader?.();
    this.wakeReader = undefined;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (this.failed) throw this.failure;
      const next = this.queue[0];
      if (next) {
        yield next.bytes; // resumed when the reader asks for the next piece: it is done with this one
        if (this.queue[0] === next) { this.queue.shift(); next.taken(); }
        continue;
      }
      if (this.ended) return;
      await new Promise<void>(r => { this.wakeReader = r; });
    }
  }
}
