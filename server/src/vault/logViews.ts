// The editor's view of sealed logs (issue 29): VS Code reads a log again at every change the watcher reports
// (about once a second while `noteseal append` writes), and its file API takes the whole text each time. So
// the worker keeps, per open log, the plaintext it has shown and where in the file that ended (no key), and
// each read authenticates only the chunks sealed since: O(new data), not O(log). Dropped at lock (wiped).
import { wipe } from '../keys/bytes';
import { readLogSince, type LogEnd, type LogPosition } from '../logs/reader';
import type { UnwrapDataKey } from '../crypto/format';

/** How many logs' plaintext is kept between reads (the ones open in editors); the oldest is dropped first. */
const MAX_KEPT_LOGS = 8;

interface Kept { at: LogPosition; plain: Buffer; length: number }

export interface LogViewRead {
  /**
   * The whole sealed text so far. Not a copy (a 100 MiB copy per update would cost more than the update):
   * the kept buffer itself, which later reads only append to beyond its end and a lock wipes. The worker
   * hands it straight to IPC, which serializes it synchronously when the request's promise settles, before
   * any other request can run; nothing may keep it or change it.
   */
  text: Buffer;
  end: LogEnd;
  /** Plaintext bytes authenticated by this read (the rest came from earlier reads). */
  readBytes: number;
}

export class LogViews {
  private readonly kept = new Map<string, Kept>();

  /**
   * The log's sealed text, reading on from where the last read of `real` stopped (from its start when the
   * file was replaced, re-salted or shrank). Over `maxBytes` → `tooLarge()` is thrown. On any error what
   * was kept for `real` is wiped, so the next read starts over and checks everything again.
   */
  async read(real: string, unwrap: UnwrapDataKey, maxBytes: number, tooLarge: () => Error): Promise<LogViewRead> {
    const before = this.kept.get(real);
    this.kept.delete(real); // put back (most recent last) only when this read succeeds
    const added: Buffer[] = [];
    let addedBytes = 0;
    try {
      const r = await readLogSince(real, unwrap, before?.at, async plain => {
        addedBytes += plain.length;
        if (addedBytes > maxBytes) throw tooLarge();
        added.push(Buffer.from(plain)); // the reader wipes its buffer after this
      });
      const base = r.restarted || !before ? 0 : before.length;
      const length = base + addedBytes;
      if (length > maxBytes) throw tooLarge();
      let plain = r.restarted || !before ? Buffer.alloc(0) : before.plain;
      if (length > plain.length) {
        // Grows by doubling, so a log sealed a line at a time is not copied whole at every update.
        const grown = Buffer.alloc(Math.min(Math.max(length, plain.length * 2, 64 * 1024), maxBytes));
        plain.copy(grown, 0, 0, base);
        if (before && plain === before.plain) wipe(before.plain);
        plain = grown;
      }
      let at = base;
      for (const a of added) { a.copy(plain, at); at += a.length; }
      if (before && r.restarted) wipe(before.plain);
      this.kept.set(real, { at: r.at, plain, length });
      while (this.kept.size > MAX_KEPT_LOGS) this.forget(this.kept.keys().next().value!);
      return { text: plain.subarray(0, length), end: r.end, readBytes: addedBytes };
    } catch (e) {
      if (before) wipe(before.plain);
      throw e;
    } finally {
      for (const a of added) wipe(a);
    }
  }

  /** Wipes and drops what is kept for one log. */
  forget(real: string): void {
    const k = this.kept.get(real);
    if (k) wipe(k.plain);
    this.kept.delete(real);
  }

  /** At lock: wipes every log's kept plaintext. */
  clear(): void {
    for (const real of [...this.kept.keys()]) this.forget(real);
  }

  get size(): number { return this.kept.size; }
}
