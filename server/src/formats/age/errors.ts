// The failures of reading an age file, typed as the C2SP test vectors name them ("header failure", "no
// match", ...), so a caller and the conformance test can tell a parse error from a wrong key. Each is a
// NoteSealError with the code the CLI and the extension already map to an exit status and a message.
import { NoteSealError, type NoteSealErrorCode } from '../../crypto/errors';

export type AgeFailure = 'header' | 'armor' | 'no match' | 'HMAC' | 'payload';

const CODES: Record<AgeFailure, NoteSealErrorCode> = {
  header: 'CORRUPTED', armor: 'CORRUPTED', 'no match': 'WRONG_KEY', HMAC: 'CORRUPTED', payload: 'CORRUPTED',
};

export class AgeError extends NoteSealError {
  constructor(readonly failure: AgeFailure, message: string, code: NoteSealErrorCode = CODES[failure]) {
    super(code, message);
  }
}

export const headerFailure = (why: string) => new AgeError('header', `Not a valid age file: ${why}.`);

export function isAgeError(e: unknown, failure?: AgeFailure): e is AgeError {
  return e instanceof AgeError && (failure === undefined || e.failure === failure);
}
