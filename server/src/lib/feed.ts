// A push-to-pull bridge: write() calls become the async iterable the format's encryptFile reads, with
// back-pressure (write resolves once what is queued is below the high-water mark) and memory bounded by it.

export class Feed implements AsyncIterable<Uint8Array> {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private failure: unknown;
  private failed = false;
  private wakeReader: (() => void) | undefined;
  private readonly writers: (() => void)[] = [];

  constructor(private readonly highWaterMark: number) {}

  /** Queues a copy of `bytes` (the caller may reuse its buffer; the copy is sealed in place and wiped). */
  async push(bytes: Uint8Array): Promise<void> {
    if (this.failed) throw this.failure;
    if (this.ended) throw new Error('write after close');
    if (bytes.length === 0) return;
    const copy = Buffer.from(bytes);
    this.queue.push(copy);
    this.queued += copy.length;
    this.wake();
    while (this.queued > this.highWaterMark && !this.failed) await new Promise<void>(r => this.writers.push(r));
    if (this.failed) throw this.failure;
  }

  end(): void { this.ended = true; this.wake(); }

  /** Stops the reader with `e` (it is thrown into encryptFile, which removes its temporary file) and any waiting writer. */
  fail(e: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.failure = e;
    for (const b of this.queue.splice(0)) b.fill(0);
    this.queued = 0;
    this.wake();
  }

  private wake(): void {
    this.wakeReader?.();
    this.wakeReader = undefined;
    for (const w of this.writers.splice(0)) w();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (this.failed) throw this.failure;
      const next = this.queue.shift();
      if (next) {
        this.queued -= next.length;
        for (const w of this.writers.splice(0)) w();
        yield next;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>(r => { this.wakeReader = r; });
    }
  }
}
