// Advisory lock files shared by every NoteSeal process (windows' workers, the CLI): a file holding the
// owner's pid, created exclusively and complete (written to a temp name, then hard-linked into place, which
// fails if the lock exists). A lock whose pid is dead (a crash) is stale and is broken. Node has no flock().
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { isNoteSealError, NoteSealError } from '../crypto/errors';
import { readRegularFile } from '../crypto/safe-open';

export interface HeldLock {
  readonly path: string;
  release(): Promise<void>;
}

export interface LockOptions {
  /** How long to wait for another live owner to release, in ms. 0: fail at once. */
  waitMs?: number;
  /** What the lock protects, for the error message ("the keyfile", "this recording"). */
  what?: string;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';   // alive, owned by someone else
  }
}

/** A lock holds a pid and a newline; anything larger is not one of ours. */
const MAX_LOCK_BYTES = 64;

/**
 * The live owner's pid, or null when there is no lock or it is stale (its process is gone). A lock that is a
 * link, a device or larger than a pid is not ours (a repository can plant `.x.wav.enc.lock -> /dev/zero`
 * beside a recording): it is never read through, and is stale.
 */
export async function lockOwner(lockPath: string): Promise<number | null> {
  let text: string;
  try { text = (await readRegularFile(lockPath, { maxBytes: MAX_LOCK_BYTES })).toString('utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if (isNoteSealError(e, 'NOT_A_REGULAR_FILE') || isNoteSealError(e, 'LIMIT_EXCEEDED')) return null;
    throw e;
  }
  const pid = Number.parseInt(text, 10);
  // Always written complete (link of a full temp file): unparseable content is not ours, treat as stale.
  return Number.isSafeInteger(pid) && pid > 0 && processAlive(pid) ? pid : null;
}

/** Removes a stale lock without ever removing a live one that replaced it meanwhile. */
async function breakStale(lockPath: string): Promise<void> {
  let before: { ino: number };
  try { before = await fs.lstat(lockPath); } catch { return; }
  if (await lockOwner(lockPath) !== null) return;
  const aside = `${lockPath}.stale-${randomBytes(6).toString('hex')}`;
  try { await fs.rename(lockPath, aside); } catch { return; }
  const moved = await fs.lstat(aside);
  // Someone replaced the stale lock between our checks: put theirs back (never over a newer one).
  if (moved.ino !== before.ino) await fs.link(aside, lockPath).catch(() => undefined);
  await fs.unlink(aside).catch(() => undefined);
}

async function tryCreate(lockPath: string): Promise<boolean> {
  const tmp = `${lockPath}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await fs.writeFile(tmp, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
  } catch (e) {
    await fs.unlink(tmp).catch(() => undefined); // created, then the write failed (a full disk)
    throw e;
  }
  try {
    await fs.link(tmp, lockPath);   // atomic, and fails with EEXIST instead of replacing
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await fs.unlink(tmp).catch(() => undefined);
  }
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/**
 * Takes the lock at `lockPath`, waiting up to `waitMs` for a live owner; breaks stale locks. Throws
 * INVALID_ARGUMENT naming the owner's pid when it stays held.
 */
export async function acquireLock(lockPath: string, options: LockOptions = {}): Promise<HeldLock> {
  const deadline = Date.now() + (options.waitMs ?? 0);
  let staleBreaks = 0;
  for (let pause = 20; ; pause = Math.min(pause * 2, 250)) {
    if (await tryCreate(lockPath)) {
      let released = false;
      return {
        path: lockPath,
        async release() {
          if (released) return;
          released = true;
          await fs.unlink(lockPath).catch(() => undefined);
        },
      };
    }
    const owner = await lockOwner(lockPath);
    if (owner === null && staleBreaks++ < 5) { await breakStale(lockPath); continue; }
    if (Date.now() >= deadline) {
      throw new NoteSealError('INVALID_ARGUMENT',
        `${options.what ?? lockPath} is in use by another NoteSeal process (pid ${owner ?? 'unknown'}, lock ${lockPath}); try again when it is done.`);
    }
    await sleep(pause);
  }
}

/** Runs `fn` holding the lock. */
export async function withLock<T>(lockPath: string, options: LockOptions, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireLock(lockPath, options);
  try { return await fn(); } finally { await lock.release(); }
}
