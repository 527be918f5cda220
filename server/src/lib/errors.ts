// The library's errors: one class per failure the CLI tells apart (its exit statuses, docs/CLI.md), each with
// the CLI's `code`, so a program can `catch (e) { if (e instanceof WrongKeyError) … }` or switch on `e.code`.
// Everything the library throws passes through libraryError(): Node's own errors (ENOENT, EACCES) go as they are.
import { AgentRefused } from '../agent/client';
import { NoteSealError as CoreError, type NoteSealErrorCode } from '../crypto/errors';
import { UsageError as CliUsageError } from '../cli/args';
import { EnvFileError } from '../cli/env-files';
import { NoAgent } from '../cli/file-keys';
import { UnverifiedWriter } from '../cli/writer-check';

export type ErrorCode = NoteSealErrorCode
  | 'NO_KEY'            // no agent answers, and no identity or passphrase is given in the environment
  | 'AGENT_REFUSED'     // the agent is locked, or refused to serve this program
  | 'UNVERIFIED_WRITER' // loadEnv: the file is not signed by you or a trusted member of its folder
  | 'USAGE';            // a call the library refuses (an identity asked to write, a loader variable, a bad option)

export class NoteSealError extends Error {
  override name = 'NoteSealError';
  constructor(readonly code: ErrorCode, message: string, readonly detail: { chunk?: number; offset?: number } = {}) {
    super(message);
  }
}

/** Declares the error class of one code. */
function errorClass<C extends ErrorCode>(code: C, name: string) {
  return class extends NoteSealError {
    declare readonly code: C;
    constructor(message: string, detail: { chunk?: number; offset?: number } = {}) {
      super(code, message, detail);
      this.name = name;
    }
  };
}

export class WrongKeyError extends errorClass('WRONG_KEY', 'WrongKeyError') {}
export class WrongPassphraseError extends errorClass('WRONG_PASSPHRASE', 'WrongPassphraseError') {}
export class NotNoteSealError extends errorClass('NOT_NOTESEAL', 'NotNoteSealError') {}
export class UnsupportedVersionError extends errorClass('UNSUPPORTED_VERSION', 'UnsupportedVersionError') {}
export class CorruptedError extends errorClass('CORRUPTED', 'CorruptedError') {}
export class TruncatedError extends errorClass('TRUNCATED', 'TruncatedError') {}
export class TrailingDataError extends errorClass('TRAILING_DATA', 'TrailingDataError') {}
export class UnfinishedError extends errorClass('UNFINISHED', 'UnfinishedError') {}
export class DamagedKeyfileError extends errorClass('DAMAGED_KEYFILE', 'DamagedKeyfileError') {}
export class KeyNotFoundError extends errorClass('KEY_NOT_FOUND', 'KeyNotFoundError') {}
export class LimitExceededError extends errorClass('LIMIT_EXCEEDED', 'LimitExceededError') {}
export class InvalidArgumentError extends errorClass('INVALID_ARGUMENT', 'InvalidArgumentError') {}
export class UntrustedRecipientsError extends errorClass('UNTRUSTED_RECIPIENTS', 'UntrustedRecipientsError') {}
export class NotARegularFileError extends errorClass('NOT_A_REGULAR_FILE', 'NotARegularFileError') {}
export class NoKeyError extends errorClass('NO_KEY', 'NoKeyError') {}
export class AgentRefusedError extends errorClass('AGENT_REFUSED', 'AgentRefusedError') {}
export class UnverifiedWriterError extends errorClass('UNVERIFIED_WRITER', 'UnverifiedWriterError') {}
export class WrongPinError extends errorClass('WRONG_PIN', 'WrongPinError') {}
export class TokenAbsentError extends errorClass('TOKEN_ABSENT', 'TokenAbsentError') {}
export class UsageError extends errorClass('USAGE', 'UsageError') {}

const CLASSES: Record<ErrorCode, new (message: string, detail?: { chunk?: number; offset?: number }) => NoteSealError> = {
  WRONG_KEY: WrongKeyError, WRONG_PASSPHRASE: WrongPassphraseError, NOT_NOTESEAL: NotNoteSealError,
  UNSUPPORTED_VERSION: UnsupportedVersionError, CORRUPTED: CorruptedError, TRUNCATED: TruncatedError,
  TRAILING_DATA: TrailingDataError, UNFINISHED: UnfinishedError, DAMAGED_KEYFILE: DamagedKeyfileError,
  KEY_NOT_FOUND: KeyNotFoundError, LIMIT_EXCEEDED: LimitExceededError, INVALID_ARGUMENT: InvalidArgumentError,
  UNTRUSTED_RECIPIENTS: UntrustedRecipientsError, NOT_A_REGULAR_FILE: NotARegularFileError,
  NO_KEY: NoKeyError, AGENT_REFUSED: AgentRefusedError, UNVERIFIED_WRITER: UnverifiedWriterError, USAGE: UsageError,
  WRONG_PIN: WrongPinError, TOKEN_ABSENT: TokenAbsentError,
};

/** The library's error for anything thrown inside it (the same message; the class of its code). */
export function libraryError(e: unknown): unknown {
  if (e instanceof NoteSealError) return e;
  const make = (code: ErrorCode, message: string, detail?: { chunk?: number; offset?: number }) => {
    const out = new CLASSES[code](message, detail);
    (out as { cause?: unknown }).cause = e;
    return out;
  };
  if (e instanceof CoreError) return make(e.code, e.message, e.detail);
  if (e instanceof NoAgent) return make('NO_KEY', `${e.message}; or set NOTESEAL_IDENTITY / NOTESEAL_IDENTITY_FILE (reads) or NOTESEAL_PASSPHRASE_FILE`);
  if (e instanceof AgentRefused) return make('AGENT_REFUSED', e.message);
  if (e instanceof UnverifiedWriter) return make('UNVERIFIED_WRITER', e.message);
  if (e instanceof CliUsageError || e instanceof EnvFileError) return make('USAGE', e.message);
  return e;
}

/** Runs `fn`, throwing the library's error for what it throws. */
export async function mapped<T>(fn: () => Promise<T>): Promise<T> {
  try { return await fn(); } catch (e) { throw libraryError(e); }
}
