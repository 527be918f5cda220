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
import { dotenvxFormat, dotenvxPublicKey, dotenvxTextOf, noDotenvxKey, openDotenvxText, saveDotenvxText, savedDotenvxState, sealedValuesOf, secretFor, secretsFromEnv, type DotenvxSaveState } from '../formats/dotenvx';
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

async function openDotenvxBytes(keyring: Keyring, file: string, bytes: Buffer) {
  try {
    return await dotenvxFormat.open(bytes, keysAtHand(keyring), file);
  } catch (e) {
    if (isNoteSealError(e)) e.message = `${file}: ${e.message}`;
    throw e;
  }
}

/** Files whose open state is kept at most (the oldest is dropped): a workspace's `.env` files, not a crawl. */
const MAX_KEPT_STATES = 64;

/**
 * What the editor's last open or save of each dotenvx file left: the file's bytes then (its ciphertext) and its
 * save state (each value as the view shows it, decrypted). A save of a file whose bytes are still exactly those
 * uses it, instead of decrypting every value of the file again to learn which ones the edit left unchanged; any
 * other bytes (another writer) are opened afresh. Held only while unlocked: clear() at lock drops it all (the
 * values are JS strings, which cannot be zeroed: dropped, then collected, as the editor's own copies are).
 */
export class DotenvxOpenStates {
  private readonly kept = new Map<string, { bytes: Buffer; state: DotenvxSaveState }>();

  /** The state of `file` if `bytes` are still the bytes it was opened or saved as. */
  get(file: string, bytes: Uint8Array): DotenvxSaveState | undefined {
    const k = this.kept.get(file);
    return k && k.bytes.equals(bytes) ? k.state : undefined;
  }

  set(file: string, bytes: Uint8Array, state: DotenvxSaveState | null): void {
    this.kept.delete(file);
    if (!state) return;
    this.kept.set(file, { bytes: Buffer.from(bytes), state });
    if (this.kept.size > MAX_KEPT_STATES) this.kept.delete(this.kept.keys().next().value!);
  }

  get size(): number { return this.kept.size; }

  clear(): void { this.kept.clear(); }
}

/** The plain dotenv view of a dotenvx file (values decrypted, or shown `encrypted:…` without the key); its state kept in `states`. */
export async function readDotenvxNote(keyring: Keyring, file: string, maxBytes: number, states?: DotenvxOpenStates): Promise<Buffer> {
  const bytes = await readDotenvxBytes(file, maxBytes);
  const opened = await openDotenvxBytes(keyring, file, bytes);
  states?.set(file, bytes, opened.saveState as DotenvxSaveState);
  return opened.plaintext;
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
export async function writeDotenvxNote(keyring: Keyring, file: string, plaintext: Uint8Array, maxBytes: number, beforeRename?: () => Promise<void>, states?: DotenvxOpenStates): Promise<Stats> {
  const onDisk = await readDotenvxBytes(file, maxBytes);
  let state = states?.get(file, onDisk);
  if (!state) {
    const opened = await openDotenvxBytes(keyring, file, onDisk);
    opened.plaintext.fill(0);
    state = opened.saveState as DotenvxSaveState;
  }
  const view = Buffer.from(plaintext).toString('utf8');
  const text = saveDotenvxText(view, state);
  const bytes = Buffer.from(text, 'utf8');
  states?.set(file, onDisk, null); // until the new bytes are in place, no state stands for the file
  const written = await replaceFileAtomic(file, async handle => { await writeAll(handle, [bytes]); }, undefined, beforeRename);
  states?.set(file, bytes, savedDotenvxState(view, text));
  return written;
}
