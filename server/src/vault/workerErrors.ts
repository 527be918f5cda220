// Turns what the worker's operations throw into JSON-RPC errors with a stable code the client understands.
// Messages never hold content; paths are fine (the user sees them in VS Code anyway).
import { ResponseError } from 'vscode-languageserver/node';
import { isNoteSealError } from '../crypto/errors';
import { ioErrorSummary } from '../ioErrors';
import { WORKER_ERROR, type WorkerErrorCode, type WorkerErrorData } from '../protocol';

export class WorkerError extends Error {
  constructor(readonly code: WorkerErrorCode, message: string) { super(message); }
}

const errnoCodes: Record<string, WorkerErrorCode> = {
  ENOENT: 'FileNotFound', EEXIST: 'FileExists', ENOTDIR: 'FileNotADirectory', EISDIR: 'FileIsADirectory',
  EACCES: 'NoPermissions', EPERM: 'NoPermissions', EROFS: 'NoPermissions', ENOSPC: 'Unavailable', EDQUOT: 'Unavailable',
  ENOTEMPTY: 'NoPermissions',
};

/** After the summary (ioErrors.ts): what a failed save means; every write is a temp sibling renamed into place. */
const errnoConsequences: Record<string, string> = {
  ENOSPC: 'nothing was written, the old file is intact.',
  EDQUOT: 'nothing was written, the old file is intact.',
  EROFS: 'nothing was written.',
  EACCES: 'nothing was written.',
  EPERM: 'nothing was written.',
  ENOTEMPTY: 'The folder is not empty.',
};

export function toResponseError(e: unknown): ResponseError<WorkerErrorData> {
  if (e instanceof WorkerError) return new ResponseError(WORKER_ERROR, e.message, { code: e.code });
  if (isNoteSealError(e)) return new ResponseError(WORKER_ERROR, e.message, { code: e.code });
  const errno = (e as NodeJS.ErrnoException | undefined)?.code;
  if (errno && errnoCodes[errno]) {
    const summary = ioErrorSummary(e);
    const consequence = errnoConsequences[errno];
    const message = summary ? `${summary}: ${consequence}` : consequence ?? (e as Error).message;
    return new ResponseError(WORKER_ERROR, message, { code: errnoCodes[errno] });
  }
  return new ResponseError(WORKER_ERROR, e instanceof Error ? e.message : String(e), { code: 'Unavailable' });
}
