// What a failed file operation means to a user, from its errno: shared by the worker's error replies, Encrypt
// Folder and the recorder, so a full, read-only or denied disk reads the same everywhere. No vscode import.

const SHORT: Record<string, string> = {
  ENOSPC: 'The disk is full',
  EDQUOT: 'The disk quota is exceeded',
  EROFS: 'The file system is read-only',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
};

/** Errors of the whole file system (not of one file): every further write there would fail the same way. */
const DISK_WIDE = new Set(['ENOSPC', 'EDQUOT', 'EROFS']);

export function errnoOf(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** "The disk is full (/path)" for the errors above; undefined for others. */
export function ioErrorSummary(e: unknown): string | undefined {
  const errno = errnoOf(e);
  const short = errno ? SHORT[errno] : undefined;
  if (!short) return undefined;
  const where = (e as NodeJS.ErrnoException).path;
  return where ? `${short} (${where})` : short;
}

/** The summary when there is one, else the error's own message. */
export function describeIoError(e: unknown): string {
  return ioErrorSummary(e) ?? (e instanceof Error ? e.message : String(e));
}

export function isDiskWideError(e: unknown): boolean {
  const errno = errnoOf(e);
  return errno !== undefined && DISK_WIDE.has(errno);
}
