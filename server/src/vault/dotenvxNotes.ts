// dotenvx `.env` files in the `noteseal:` view (issue 27): `.env.production` opens as its plain dotenv view
// (values decrypted) under its own name and saves back as dotenvx writes it, through the format interface
// (formats/dotenvx.ts): unchanged values keep their bytes, changed and new ones are encrypted to the file's
// DOTENV_PUBLIC_KEY. Without the private key (imported with `noteseal identity import .env.keys`, or
// DOTENV_PRIVATE_KEY… in the worker's environment, as dotenvx reads it) the file opens write-only.
import type { Stats } from 'node:fs';
import { isNoteSealError } from '../crypto/errors';
import { readRegularFile } from '../crypto/safe-open';
import { writeAll, replaceFileAtomic } from '../crypto/atomic';
import { formatOfFile, type KeysAtHand } from '../formats';
import { dotenvxFormat, dotenvxPublicKey, dotenvxTextOf, noDotenvxKey, openDotenvxText, sealedValuesOf, secretFor, secretsFromEnv, type DotenvxSaveState } from '../formats/dotenvx';
import { parseDotenvx } from '../formats/dotenvx-parse';
import type { Keyring } from '../keys/keyring';
import { WorkerError } from './workerErrors';

/** Whether `file` (a regular file, never through a link) is a dotenvx file by its first bytes. */
export async function isDotenvxNote(file: string): Promise<boolean> {
  return (await formatOfFile(file))?.name === 'dotenvx';
}

/** The private key for a public key: the environment's first (never stored), then the key store's. */
function keysAtHand(keyring: Keyring): KeysAtHand {
  const refused = () => { throw new WorkerError('INVALID_ARGUMENT', 'not a dotenvx file'); };
  return {
    unwrap: refused, ageFileKey: refused, filePassphrase: refused,
    async dotenvxSecretKey(publicHex) {
      const env = secretsFromEnv(process.env);
      try {
        const found = secretFor(env, publicHex);
        return found ? new Uint8Array(found) : await keyring.dotenvxSecretKey(publicHex);
      } finally { for (const k of env) k.fill(0); }
    },
  };
}

async function readDotenvxBytes(file: string, maxBytes: number): Promise<Buffer> {
  return readRegularFile(file, { maxBytes }).catch(e => {
    if (!isNoteSealError(e, 'LIMIT_EXCEEDED')) throw e;
    throw new WorkerError('LIMIT_EXCEEDED', `${file} is too large to open in the editor. Use the noteseal CLI for it.`);
  });
}

async function openDotenvx(keyring: Keyring, file: string, maxBytes: number) {
  const bytes = await readDotenvxBytes(file, maxBytes);
  try {
    return await dotenvxFormat.open(bytes, keysAtHand(keyring), file);
  } catch (e) {
    if (isNoteSealError(e)) e.message = `${file}: ${e.message}`;
    throw e;
  }
}

/** The plain dotenv view of a dotenvx file (values decrypted, or shown `encrypted:…` without the key). */
export async function readDotenvxNote(keyring: Keyring, file: string, maxBytes: number): Promise<Buffer> {
  return (await openDotenvx(keyring, file, maxBytes)).plaintext;
}

/**
 * The decrypted view of a dotenvx file for searching (search/service.ts), in memory only. Unlike the editor's
 * read, a file whose values no key at hand opens is not searched (its write-only view holds only ciphertexts):
 * WRONG_KEY, naming the key to import, so the search lists it as not searched.
 */
export async function readDotenvxForSearch(keyring: Keyring, file: string, maxBytes: number): Promise<Buffer> {
  const text = dotenvxTextOf(await readDotenvxBytes(file, maxBytes));
  const secret = await keysAtHand(keyring).dotenvxSecretKey!(dotenvxPublicKey(parseDotenvx(text)).hex);
  try {
    if (!secret && sealedValuesOf(text).length) throw noDotenvxKey(text);
    return Buffer.from(openDotenvxText(text, secret).view, 'utf8');
  } finally { secret?.fill(0); }
}

/**
 * Replaces the dotenvx file `file` with the edited view `plaintext`: compared with the file as it is on disk
 * now, so a value the view shows unchanged keeps its bytes. `beforeRename` may refuse at the last moment.
 */
export async function writeDotenvxNote(keyring: Keyring, file: string, plaintext: Uint8Array, maxBytes: number, beforeRename?: () => Promise<void>): Promise<Stats> {
  const opened = await openDotenvx(keyring, file, maxBytes);
  opened.plaintext.fill(0);
  const bytes = await dotenvxFormat.save(plaintext, opened.saveState as DotenvxSaveState);
  return replaceFileAtomic(file, async handle => { await writeAll(handle, [bytes]); }, undefined, beforeRename);
}
