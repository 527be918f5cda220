// Typed errors that a user can understand. Every failure of the format or the key hierarchy is one of
// these; the CLI maps `code` to its exit status and the extension to a message. Messages never contain
// plaintext or key material.

export type NoteSealErrorCode =
  | 'WRONG_KEY'            // no key we hold opens this file (or the header was altered)
  | 'WRONG_PASSPHRASE'     // the passphrase does not open the keyfile
  | 'NOT_NOTESEAL'         // the bytes do not start with the NoteSeal magic
  | 'UNSUPPORTED_VERSION'  // a NoteSeal file of a version or suite this build cannot read
  | 'CORRUPTED'            // a chunk or the header failed authentication
  | 'TRUNCATED'            // the file ends before its final chunk
  | 'TRAILING_DATA'        // bytes follow the final chunk
  | 'UNFINISHED'           // an append-mode file (a recording) was never closed: `recover` seals it
  | 'DAMAGED_KEYFILE'      // the keyfile is malformed or fails its integrity check
  | 'KEY_NOT_FOUND'        // a detached data key is missing from the key store (for example shredded)
  | 'LIMIT_EXCEEDED'       // a size field is outside the sane limits of the format
  | 'INVALID_ARGUMENT'     // a caller passed something unusable
  | 'UNTRUSTED_RECIPIENTS' // a recipients list that is not a chain of member signatures (or no longer extends the pin)
  | 'WRONG_PIN'            // a token refused its PIN (unlock slots, keys/pkcs11.ts); the message says how many tries are left
  | 'TOKEN_ABSENT'         // an unlock slot's token is not present (or does not answer)
  | 'NOT_A_REGULAR_FILE';  // a symbolic link, folder, pipe or device where NoteSeal reads or writes a file (crypto/safe-open.ts)

export class NoteSealError extends Error {
  override readonly name = 'NoteSealError';
  constructor(
    readonly code: NoteSealErrorCode,
    message: string,
    /** Where the damage was found, when it is known. */
    readonly detail: { chunk?: number; offset?: number } = {},
  ) {
    super(message);
  }
}

export function isNoteSealError(e: unknown, code?: NoteSealErrorCode): e is NoteSealError {
  return e instanceof NoteSealError && (code === undefined || e.code === code);
}
