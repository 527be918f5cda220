// What the extension (client/src/) may take from the worker's side besides the protocol (protocol.ts): the
// paths, names and constants both sides must agree on. Pure, stateless; test/unit/foundation/boundaries.test.ts
// fails when a client file imports any other worker module, so a new need is added here, in the open.
export { AGE_SUFFIX, ENC_SUFFIX, DOTENVX_HEAD_BYTES, encPathOf, hasDotenvName, isAgePath, isEncPath, isSealedPath, logicalPathOf, looksLikeDotenvxText, viewPathOf } from './encPaths';
/** The first bytes of every NoteSeal file (a `.enc` holding anything else is plaintext). */
export { MAGIC } from './crypto/constants';
export { AGE_SNIFF_BYTES, looksLikeAgeFile } from './formats/age/sniff';
/** The keyfile setting is checked as the worker checks $NOTESEAL_KEYFILE: `~` expanded, then absolute. */
export { absoluteKeyfilePath } from './keys/location';
/** The name Share Folder… gives the user in a new recipients list, the same as the CLI's. */
export { defaultOwnName } from './keys/own-name';
/** The `.enc` guard reads a file's first bytes itself, never through a link a repository planted (issue 21 §3). */
export { isNoteSealError } from './crypto/errors';
export { openRegularFile, readRegularFile } from './crypto/safe-open';
