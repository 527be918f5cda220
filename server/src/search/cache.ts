// Decrypted notes kept for repeated searches, in the worker's memory only: Buffers (which, unlike strings,
// can be zeroed), keyed by the `.enc` file and its identity on disk (inode, size, mtime, ctime). A changed
// file no longer matches its entry, which is then zeroed and dropped; wipe() zeroes everything (on lock).
// A decrypt that was running when the cache was wiped cannot add its result afterwards (epoch check).
import type { Stats } from 'node:fs';

/** Enough for tens of thousands of notes; beyond it notes are decrypted per search and zeroed after. */
export const DEFAULT_CACHE_BYTES = 512 * 1024 * 1024;

export function fileIdentity(s: Pick<Stats, 'ino' | 'size' | 'mtimeMs' | 'ctimeMs'>): string {
  return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
}

export class PlaintextCache {
  private readonly entries = new Map<string, { identity: string; data: Buffer }>();
  private total = 0;
  private generation = 0;

  constructor(private readonly budget = DEFAULT_CACHE_BYTES) {}

  /** Bytes of plaintext held. */
  get bytes(): number { return this.total; }
  get size(): number { return this.entries.size; }
  /** Changes at every wipe: a put() for an older epoch is refused. */
  get epoch(): number { return this.generation; }

  /** The plaintext of `file` if it is still the file we decrypted; a stale entry is zeroed and dropped. */
  get(file: string, identity: string): Buffer | undefined {
    const e = this.entries.get(file);
    if (!e) return undefined;
    if (e.identity === identity) return e.data;
    this.forget(file);
    return undefined;
  }

  /**
   * Keeps a copy of `plaintext` (an exact-size buffer of our own; the caller still owns and wipes its own).
   * Returns false when not kept: the cache was wiped since `epoch`, or the budget is full.
   */
  put(file: string, identity: string, plaintext: Uint8Array, epoch: number): boolean {
    if (epoch !== this.generation) return false;
    this.forget(file);
    if (this.total + plaintext.length > this.budget) return false;
    const data = Buffer.allocUnsafeSlow(plaintext.length);
    data.set(plaintext);
    this.entries.set(file, { identity, data });
    this.total += data.length;
    return true;
  }

  forget(file: string): void {
    const e = this.entries.get(file);
    if (!e) return;
    e.data.fill(0);
    this.total -= e.data.length;
    this.entries.delete(file);
  }

  /** Drops entries of files that are gone from the listing (deleted or renamed notes). */
  retainOnly(files: ReadonlySet<string>, under: (file: string) => boolean): void {
    for (const f of [...this.entries.keys()]) if (under(f) && !files.has(f)) this.forget(f);
  }

  /** Zeroes and drops every entry. */
  wipe(): void {
    this.generation++;
    for (const e of this.entries.values()) e.data.fill(0);
    this.entries.clear();
    this.total = 0;
  }
}
