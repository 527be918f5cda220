// Crash-safe replacement of a file: write a temporary sibling, fsync it, rename it over the target,
// fsync the directory. A crash leaves either the old file or the new one, never a mix.
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, unlinkSync, type Stats } from 'node:fs';
import { open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { isTempSibling } from '../encPaths';

/** Mode of files NoteSeal creates when there is no original whose mode to keep. */
export const DEFAULT_FILE_MODE = 0o600;

export function tempSiblingPath(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${randomBytes(6).toString('hex')}`);
}

/** Temp siblings this process is writing now: removed at exit, so a stopped worker leaves none behind. */
const tempSiblingsInFlight = new Set<string>();

/** Removes this process's unfinished temp siblings (synchronously: it runs in an 'exit' handler). */
export function removeTempSiblingsInFlight(): void {
  for (const tmp of tempSiblingsInFlight) { try { unlinkSync(tmp); } catch { /* gone already */ } }
  tempSiblingsInFlight.clear();
}

/**
 * A temp sibling untouched this long was left by a writer that died (SIGKILL, power loss): a live writer
 * renames within seconds and keeps the mtime moving while it writes. Its bytes are ciphertext, but it clutters
 * the folder. Should a stalled writer be this slow, its rename fails and its save is reported failed.
 */
export const STALE_TEMP_SIBLING_MS = 2 * 60_000;
const sweptDirs = new Set<string>();

/** Once per folder and process (a save must not pay a readdir each time): removes the stale temp siblings in `dir`. */
export async function sweepStaleTempSiblings(dir: string, now = Date.now()): Promise<string[]> {
  if (sweptDirs.has(dir)) return [];
  sweptDirs.add(dir);
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const p = path.join(dir, name);
    if (!isTempSibling(name) || tempSiblingsInFlight.has(p)) continue;
    const s = await stat(p).catch(() => undefined);
    if (!s?.isFile() || now - s.mtimeMs < STALE_TEMP_SIBLING_MS) continue;
    if (await unlink(p).then(() => true, () => false)) removed.push(p);
  }
  return removed;
}

/** For tests: the next sweep of `dir` runs again. */
export function forgetSweptDir(dir: string): void { sweptDirs.delete(dir); }

/** Writes every byte of `parts`, looping over short writes. */
export async function writeAll(handle: FileHandle, parts: readonly Uint8Array[], position?: number): Promise<number> {
  let total = 0;
  for (const p of parts) total += p.length;
  let { bytesWritten } = await handle.writev(parts as Uint8Array[], position);
  if (bytesWritten === total) return total;
  // Rare (huge writes, signals): finish piece by piece.
  let skip = bytesWritten;
  for (const p of parts) {
    if (skip >= p.length) { skip -= p.length; continue; }
    let done = skip;
    skip = 0;
    while (done < p.length) {
      const r = await handle.write(p, done, p.length - done, position === undefined ? undefined : position + bytesWritten);
      done += r.bytesWritten;
      bytesWritten += r.bytesWritten;
    }
  }
  return total;
}

/** fsync a directory so that a rename in it is durable; some platforms cannot, which is fine. */
export async function fsyncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, fsConstants.O_RDONLY);
    await handle.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EACCES') throw e;
  } finally {
    await handle?.close();
  }
}

async function existingMode(target: string): Promise<number | undefined> {
  try {
    return (await stat(target)).mode & 0o7777;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Dirty bytes a long write leaves before the next background flush starts. */
export const FLUSH_BEHIND_BYTES = 8 * 1024 * 1024;

export interface FlushBehind {
  /** Tell it `bytes` more were written; starts a flush when enough are dirty and none is running. */
  wrote(bytes: number): void;
  /** Waits for the running flush; throws the first error any flush met. */
  settle(): Promise<void>;
}

/**
 * Flushes a large file while it is still being written, one fdatasync at a time, so the fsync that makes it
 * durable waits only for the tail instead of the whole file (measured: 120 ms of a 256 MiB decrypt was the
 * final fsync). The guarantee is unchanged: the caller still syncs before it renames. An error is kept and
 * rethrown by settle(), never swallowed: Linux reports a writeback error to one fsync only, so a later
 * fsync could otherwise succeed over lost data.
 */
export function flushBehind(handle: FileHandle, everyBytes = FLUSH_BEHIND_BYTES): FlushBehind {
  let dirty = 0;
  let running: Promise<void> | null = null;
  let failure: unknown;
  return {
    wrote(bytes) {
      dirty += bytes;
      if (running || dirty < everyBytes || failure !== undefined) return;
      dirty = 0;
      running = handle.datasync().catch(e => { failure ??= e; }).finally(() => { running = null; });
    },
    async settle() {
      await running;
      if (failure !== undefined) throw failure;
    },
  };
}

/** Runs `write` with a flush-behind on `handle`, then waits for (and reports) its last flush. */
export async function withFlushBehind<T>(handle: FileHandle, write: (wrote: (bytes: number) => void) => Promise<T>): Promise<T> {
  const flush = flushBehind(handle);
  try {
    return await write(n => flush.wrote(n));
  } finally {
    await flush.settle();
  }
}

/**
 * Writes what `data` yields at the handle's position; one write in flight while the source produces the next
 * piece. `observe` sees every piece in order, once its write is issued and the next piece has been asked for,
 * e.g. to hash what is written without reading it back.
 */
export async function writeSequentially(handle: FileHandle, data: AsyncIterable<Uint8Array | Uint8Array[]>, observe?: (pieces: Uint8Array[]) => void): Promise<void> {
  const source = data[Symbol.asyncIterator]();
  let inFlight: Promise<number> | undefined;
  let done = false;
  try {
    let next = source.next();
    for (;;) {
      const r = await next;
      if (r.done) { done = true; break; }
      const pieces = Array.isArray(r.value) ? r.value : [r.value];
      await inFlight;
      inFlight = writeAll(handle, pieces);
      inFlight.catch(() => undefined); // observed by the next await; avoids an unhandled rejection meanwhile
      next = source.next();
      next.catch(() => undefined); // observed at the top of the loop
      observe?.(pieces);
    }
  } finally {
    try { await inFlight; } finally { if (!done) await source.return?.(undefined); }
  }
}

/**
 * How long a rename over a file another program holds open is retried on Windows. There, an editor, a search
 * indexer or an antivirus scanner holding the target (or the new file) without FILE_SHARE_DELETE makes the
 * rename fail with EPERM, EACCES or EBUSY for as long as it holds it. VS Code retries such renames (with a
 * back-off of 10 ms more per attempt, at most 100 ms) for up to 60 s (src/vs/base/node/pfs.ts, rename and
 * renameWithRetry), graceful-fs for 60 s too; a save that waits a minute looks hung, so ours gives up sooner
 * and says why. Mutable for tests only.
 */
export const renameRetry = { windowMs: 10_000, maxDelayMs: 100 };

const RETRIED_RENAME_ERRORS = new Set(['EPERM', 'EACCES', 'EBUSY']);

/** A rename that another program kept failing for the whole retry window: nothing was replaced. */
export class ReplaceBlockedError extends Error {
  override readonly name = 'ReplaceBlockedError';
  constructor(readonly target: string, cause: NodeJS.ErrnoException, waitedMs: number) {
    super(`${target} could not be replaced: another program holds it open (${cause.code ?? cause.message}, still after ${(waitedMs / 1000).toFixed(1)} s of retries). It is unchanged, and the new version was not kept; close the program that has it open and try again`, { cause });
  }
}

/**
 * rename(), retried on Windows while another program holds the target: only for the errors a sharing
 * violation gives and only while the target is a file (a folder in the way is a real error, as in VS Code).
 */
export async function renameWithRetry(from: string, to: string, platform: NodeJS.Platform = process.platform): Promise<void> {
  const start = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(from, to);
      return;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (platform !== 'win32' || !RETRIED_RENAME_ERRORS.has(err.code ?? '')) throw err;
      if (attempt === 0 && !(await stat(to).then(s => s.isFile(), () => true))) throw err;
      const waited = Date.now() - start;
      if (waited >= renameRetry.windowMs) throw new ReplaceBlockedError(to, err, waited);
      await new Promise(resolve => setTimeout(resolve, Math.min(renameRetry.maxDelayMs, (attempt + 1) * 10)));
    }
  }
}

/**
 * Atomically replaces `target` with what `fill` writes into the temporary sibling (through the handle,
 * or by position on handle.fd). The mode is `mode`, else the replaced file's mode, else 0600. `beforeRename`
 * runs after the new file is durable and just before the rename; if it throws, nothing is replaced. Returns
 * the new file's stat (taken on the handle, so it is ours even if someone replaces the file right after).
 */
export async function replaceFileAtomic(target: string, fill: (handle: FileHandle) => Promise<void>, mode?: number, beforeRename?: () => Promise<void>): Promise<Stats> {
  const finalMode = mode ?? (await existingMode(target)) ?? DEFAULT_FILE_MODE;
  const tmp = tempSiblingPath(target);
  // Listed before it exists: a stop that lands after the file is created but before this thread hears so
  // (a SIGTERM seen between the two) must still remove it. Its name is random, so it is never another's.
  tempSiblingsInFlight.add(tmp);
  let handle: FileHandle;
  try {
    handle = await open(tmp, 'wx+', 0o600); // readable too: the parallel path hashes what it wrote
  } catch (e) {
    tempSiblingsInFlight.delete(tmp);
    throw e;
  }
  let renamed = false;
  try {
    await fill(handle);
    await handle.chmod(finalMode); // explicit: the umask must not change the original's mode
    await handle.sync();
    const written = await handle.stat();
    await handle.close();
    await beforeRename?.(); // the last moment to refuse (the target changed meanwhile): the temp file goes
    await renameWithRetry(tmp, target); // on Windows, waits out a program that holds the target open
    renamed = true;
    tempSiblingsInFlight.delete(tmp);
    await fsyncDirectory(path.dirname(target));
    void sweepStaleTempSiblings(path.dirname(target));
    return written;
  } finally {
    if (!renamed) {
      await handle.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      tempSiblingsInFlight.delete(tmp);
    }
  }
}

/**
 * Atomically replaces `target` with `data`. The mode is `mode`, else the replaced file's mode, else 0600.
 * An async source may yield single buffers or arrays of them (written with one writev).
 */
export async function writeFileAtomic(target: string, data: Uint8Array | AsyncIterable<Uint8Array | Uint8Array[]>, mode?: number): Promise<Stats> {
  return replaceFileAtomic(target, async handle => {
    if (data instanceof Uint8Array) {
      await writeAll(handle, [data]);
      return;
    }
    await writeSequentially(handle, data);
  }, mode);
}
