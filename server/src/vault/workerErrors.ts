// Turns what the worker's operations throw into JSON-RPC errors with a stable code the client understands.
// Messages never hold content; paths are fine (the user sees them in VS Code anyway).
import { ResponseError } from 'vscode-languageserver/node';
import { isNoteSealError } from '../crypto/errors';
import { WORKER_ERROR, type WorkerErrorCode, type WorkerErrorData } from '../protocol';

export class WorkerError extends Error {
  constructor(readonly code: WorkerErrorCode, message: string) { super(message); }
}

const errnoCodes: Record<string, WorkerErrorCode> = {
  ENOENT: 'FileNotFound', EEXIST: 'FileExists', ENOTDIR: 'FileNotADirectory', EISDIR: 'FileIsADirectory',
  EACCES: 'NoPermissions', EPERM: 'NoPermissions', EROFS: 'NoPermissions', ENOSPC: 'Unavailable', EDQUOT: 'Unavailable',
  ENOTEMPTY: 'NoPermissions',
};

const errnoMessages: Record<string, string> = {
  ENOSPC: 'The disk is full: nothing was written, the old file is intact.',
  EDQUOT: 'The disk quota is exceeded: nothing was written, the old file is intact.',
  EROFS: 'The file system is read-only.',
  EACCES: 'Permission denied.',
  EPERM: 'Operation not permitted.',
  ENOTEMPTY: 'The folder is not empty.',
};

export function toResponseError(e: unknown): ResponseError<WorkerErrorData> {
  if (e instanceof WorkerError) return new ResponseError(WORKER_ERROR, e.message, { code: e.code });
  if (isNoteSealError(e)) return new ResponseError(WORKER_ERROR, e.message, { code: e.code });
  const errno = (e as NodeJS.ErrnoException | undefined)?.code;
  if (errno && errnoCodes[errno]) {
    const base = errnoMessages[errno] ?? (e as Error).message;
    const where = (e as NodeJS.ErrnoException).path;
    return new ResponseError(WORKER_ERROR, where && !base.includes(where) ? `${base} (${where})` : base, { code: errnoCodes[errno] });
  }
  return new ResponseError(WORKER_ERROR, e instanceof Error ? e.message : String(e), { code: 'Unavailable' });
}
