// Exit statuses of the `noteseal` command: one per class of failure, so scripts can react precisely.
// Documented in docs/CLI.md; keep the two in step.
import type { NoteSealErrorCode } from '../crypto/errors';

export const ExitCode = {
  OK: 0,
  USAGE: 1,            // bad arguments, refused operation (e.g. would overwrite), no way to ask for a passphrase
  WRONG_KEY: 2,        // wrong passphrase, wrong token PIN, wrong recovery key, or no key we hold opens the file
  NOT_NOTESEAL: 3,     // not a NoteSeal file, or a version/suite this build cannot read
  DAMAGED_FILE: 4,     // corrupted, truncated, trailing data, unfinished recording, absurd size fields
  DAMAGED_KEYFILE: 5,  // keyfile (or key store entry) malformed or failing its integrity check
  KEY_NOT_FOUND: 6,    // a detached data key is gone (shredded): the file is unreadable for good
  IO: 7,               // file system error: missing file, permission denied, disk full...
  INTERNAL: 8,         // a bug: please report it
  AGENT_REFUSED: 9,    // the agent is locked (or refused) and there is no other way to the key; `agent status`: locked
  NO_AGENT: 10,        // `agent status|stop|lock`: no agent answers
  UNTRUSTED_RECIPIENTS: 11, // the folder's recipients list is refused (an unsigned change, a rewritten history)
  UNVERIFIED_WRITER: 12, // exec, the merge driver: a file not signed by you or a trusted member of its list (or its signature is invalid)
  TOKEN_ABSENT: 13,    // `--unlock NAME`: the slot's token is not present (or does not answer)
  TRANSCRIPTION: 14,   // `transcribe`: no engine installed, or the engine failed (exited early, hung, printed no transcript)
  INTERRUPTED: 130,    // Ctrl-C at a prompt
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export function exitCodeFor(code: NoteSealErrorCode): ExitCodeValue {
  switch (code) {
    case 'INVALID_ARGUMENT': return ExitCode.USAGE;
    case 'WRONG_KEY':
    case 'WRONG_PASSPHRASE':
    case 'WRONG_PIN': return ExitCode.WRONG_KEY;
    case 'TOKEN_ABSENT': return ExitCode.TOKEN_ABSENT;
    case 'NOT_NOTESEAL':
    case 'UNSUPPORTED_VERSION': return ExitCode.NOT_NOTESEAL;
    case 'CORRUPTED':
    case 'TRUNCATED':
    case 'TRAILING_DATA':
    case 'UNFINISHED':
    case 'LIMIT_EXCEEDED': return ExitCode.DAMAGED_FILE;
    case 'DAMAGED_KEYFILE': return ExitCode.DAMAGED_KEYFILE;
    case 'KEY_NOT_FOUND': return ExitCode.KEY_NOT_FOUND;
    case 'UNTRUSTED_RECIPIENTS': return ExitCode.UNTRUSTED_RECIPIENTS;
    case 'NOT_A_REGULAR_FILE': return ExitCode.IO;
  }
}
