// Opening a file a repository could have placed, without following a symbolic link. A cloned repository may
// carry `notes/todo.md.enc -> ~/.ssh/id_ed25519`, a `.x.wav.enc.lock -> /dev/zero` or a link to another
// repository's NoteSeal file: following it would seal the target into the repository, re-encrypt a stranger's
// file to this folder's list, or read without end. Every such read or write goes through here: the last
// component is opened with O_NOFOLLOW (lstat + a same-inode check where the platform has no O_NOFOLLOW), the
// open never blocks (O_NONBLOCK: a planted FIFO), and what was opened must be a regular file. Metadata files
// get a size cap. Pure Node: the client (encGuard) uses it too.
import { constants as fsConstants, type Stats } from 'node:fs';
import { lstat, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { NoteSealError } from './errors';

/** 0 where the platform has none (Windows): then an lstat before and an fstat after must name the same file. */
const O_NOFOLLOW = fsConstants.O_NOFOLLOW ?? 0;
const O_NONBLOCK = fsConstants.O_NONBLOCK ?? 0;

/** What a path names when it is not a regular file, in words. */
function kindOf(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** NOT_A_REGULAR_FILE naming the path and what it is; nothing was read or written. */
export function notRegularFile(file: string, what: string): NoteSealError {
  const why = what === 'a symbolic link'
    ? 'NoteSeal does not follow symbolic links (a repository could point one at any file)'
    : 'NoteSeal reads and writes regular files only';
  return new NoteSealError('NOT_A_REGULAR_FILE', `${file} is ${what}: ${why}. Nothing was read or written.`);
}

function tooLarge(file: string, maxBytes: number): NoteSealError {
  return new NoteSealError('LIMIT_EXCEEDED', `${file} is larger than ${maxBytes} bytes, more than such a file ever holds: refused.`);
}

const isLoop = (e: unknown) => ['ELOOP', 'EMLINK'].includes((e as NodeJS.ErrnoException).code ?? ''); // EMLINK: FreeBSD

/**
 * The lstat of `file` when it is a regular file; null when it does not exist; NOT_A_REGULAR_FILE when it is a
 * link (to anything, even a regular file), a folder, a pipe or a device.
 */
export async function regularFileStat(file: string): Promise<Stats | null> {
  let st: Stats;
  try { st = await lstat(file); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  if (!st.isFile()) throw notRegularFile(file, kindOf(st));
  return st;
}

export interface SafeOpenOptions {
  /** Refuse (LIMIT_EXCEEDED) a file larger than this: for metadata (locks, lists, pins). */
  maxBytes?: number;
}

/** Read-only; never a link's target; never waiting on a planted FIFO. */
const OPEN_FLAGS = fsConstants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK;

/** Checks what an open descriptor names: a regular file, the one lstat saw (no O_NOFOLLOW), under the cap. */
function checkOpened(file: string, st: Stats, before: Stats | undefined, opts: SafeOpenOptions): void {
  if (!st.isFile()) throw notRegularFile(file, kindOf(st));
  if (before && (before.dev !== st.dev || before.ino !== st.ino)) throw notRegularFile(file, 'a symbolic link');
  if (opts.maxBytes !== undefined && st.size > opts.maxBytes) throw tooLarge(file, opts.maxBytes);
}

/**
 * Opens an existing regular file without following a link in its last component. ENOENT as fs.open;
 * NOT_A_REGULAR_FILE for a link or anything else; LIMIT_EXCEEDED over `maxBytes`. The caller closes it.
 */
export async function openRegularFile(file: string, opts: SafeOpenOptions = {}): Promise<FileHandle> {
  const before = O_NOFOLLOW ? undefined : (await regularFileStat(file)) ?? undefined;
  let handle: FileHandle;
  try { handle = await open(file, OPEN_FLAGS); } catch (e) {
    if (isLoop(e)) throw notRegularFile(file, 'a symbolic link');
    throw e;
  }
  try {
    checkOpened(file, await handle.stat(), before, opts);
    return handle;
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/**
 * Reads a whole regular file without following a link. With `maxBytes`, never reads more than that plus one
 * byte, even from a file whose size lies (procfs reports 0) or grows while read.
 */
export async function readRegularFile(file: string, opts: SafeOpenOptions = {}): Promise<Buffer> {
  const handle = await openRegularFile(file, opts);
  try {
    if (opts.maxBytes === undefined) return await handle.readFile();
    const limit = opts.maxBytes + 1;
    let buf = Buffer.alloc(Math.min(limit, Math.max((await handle.stat()).size + 1, 4096)));
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        if (n >= limit) throw tooLarge(file, opts.maxBytes);
        const grown = Buffer.alloc(Math.min(limit, buf.length * 2));
        buf.copy(grown, 0, 0, n);
        buf = grown;
      }
      const { bytesRead } = await handle.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) return buf.subarray(0, n);
      n += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/**
 * Refuses a symbolic link among the folders of `file` up to the top of the repository holding it (the nearest
 * folder with `.git`): `notes -> ~/other-repo/secrets` inside a repository leads to another repository's
 * files. A link above the top (macOS /tmp, a linked home) is fine, and so is any link outside a repository.
 */
export async function refuseLinkedFoldersInRepository(file: string): Promise<void> {
  await refuseLinkedFolderInRepository(path.dirname(path.resolve(file)));
}

/** As refuseLinkedFoldersInRepository, for a folder and the folders above it (the folder itself included). */
export async function refuseLinkedFolderInRepository(folder: string): Promise<void> {
  let firstLink: string | undefined;
  for (let d = path.resolve(folder); ; d = path.dirname(d)) {
    const st = await lstat(d).catch(() => undefined);
    if (st?.isSymbolicLink()) firstLink ??= d;
    else if (await lstat(path.join(d, '.git')).then(() => true, () => false)) {
      if (firstLink !== undefined) throw notRegularFile(firstLink, 'a symbolic link');
      return;
    }
    if (path.dirname(d) === d) return;
  }
}
