// @noteseal/core: NoteSeal's encrypted files for programs (docs/LIBRARY.md). The same format, keys and checks
// as the `noteseal` command: this entry point is bundled, with the code it uses, by scripts/pack-lib.mjs.
export { open, recover, NoteSealFile, type OpenFlags, type OpenOptions } from './handle';
export { readFile, writeFile, createReadStream, createWriteStream, type ReadOptions, type WriteOptions, type WriteStreamOptions } from './files';
export { loadEnv, type LoadEnvOptions } from './env';
export type { KeyOptions } from './keys';
export {
  NoteSealError, WrongKeyError, WrongPassphraseError, NotNoteSealError, UnsupportedVersionError, CorruptedError,
  TruncatedError, TrailingDataError, UnfinishedError, DamagedKeyfileError, KeyNotFoundError, LimitExceededError,
  InvalidArgumentError, UntrustedRecipientsError, NotARegularFileError, NoKeyError, AgentRefusedError,
  UnverifiedWriterError, WrongPinError, TokenAbsentError, UsageError, type ErrorCode,
} from './errors';
export { VERSION } from '../version';
