// The key store for detached data keys (crypto-shredding): a directory beside the keyfile holding one
// small file per data key, each wrapped under the master key. Deleting the entry (`shred`) makes every
// file that references it unreadable for good, whoever holds the passphrase.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fsyncDirectory } from '../crypto/atomic';
import { NoteSealError } from '../crypto/errors';
import { writeFileAtomic } from '../crypto/format';
import { deriveSubkey, KEY_LENGTH, open, seal } from './aead';
import { fromBase64, randomKey, toBase64, toHex, utf8, wipe } from './bytes';
import type { MasterKey, MasterKeys } from './keyfile';
import { DETACHED_ID_BYTES } from './stanzas';

const ENTRY_FORMAT = 'noteseal-detached-key';
const ENTRY_SUFFIX = '.key';
const KEY_ID = /^[0-9a-f]{32}$/;

/** `~/.config/noteseal/keyfile.json` -> `~/.config/noteseal/keyfile.keys/`. */
export function keystoreDirFor(keyfilePath: string): string {
  const base = path.basename(keyfilePath).replace(/\.json$/i, '');
  return path.join(path.dirname(keyfilePath), `${base}.keys`);
}

function entryPath(dir: string, keyId: string): string {
  // The id becomes a file name: validate it so nothing like "../x" can escape the store.
  if (!KEY_ID.test(keyId)) throw new NoteSealError('INVALID_ARGUMENT', 'A detached key id is 32 hexadecimal characters.');
  return path.join(dir, keyId + ENTRY_SUFFIX);
}

function entryWrapKey(master: MasterKey): Uint8Array {
  return deriveSubkey(master.key, 'detached-key-wrap', master.id);
}

function entryAad(keyId: string): Uint8Array {
  return utf8(`noteseal/v1/detached-key\0${keyId}`);
}

async function writeEntry(dir: string, keyId: string, dataKey: Uint8Array, master: MasterKey): Promise<void> {
  const wrapKey = entryWrapKey(master);
  const { nonce, ciphertext } = seal(wrapKey, dataKey, entryAad(keyId));
  wipe(wrapKey);
  const text = JSON.stringify({
    format: ENTRY_FORMAT, version: 1, keyId, masterKeyId: master.id,
    nonce: toBase64(nonce), ciphertext: toBase64(ciphertext),
  }) + '\n';
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(entryPath(dir, keyId), Buffer.from(text, 'utf8'), 0o600);
}

interface Entry { masterKeyId: string; nonce: Uint8Array; ciphertext: Uint8Array }

async function readEntry(dir: string, keyId: string): Promise<Entry> {
  let text: string;
  try {
    text = await fs.readFile(entryPath(dir, keyId), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    throw new NoteSealError('KEY_NOT_FOUND',
      `The data key ${keyId} is not in the key store: it was shredded (the file is unreadable for good) or the key store ${dir} is missing.`);
  }
  const damaged = () => new NoteSealError('DAMAGED_KEYFILE', `The key store entry ${keyId} is damaged.`);
  let parsed: unknown;
  try { parsed = JSON.parse(text); } catch { throw damaged(); }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw damaged(); // `null` parses too
  const json = parsed as Record<string, unknown>;
  const nonce = typeof json.nonce === 'string' ? fromBase64(json.nonce) : null;
  const ciphertext = typeof json.ciphertext === 'string' ? fromBase64(json.ciphertext) : null;
  if (json.format !== ENTRY_FORMAT || json.version !== 1 || json.keyId !== keyId
    || typeof json.masterKeyId !== 'string' || !nonce || !ciphertext) throw damaged();
  return { masterKeyId: json.masterKeyId, nonce, ciphertext };
}

/** Creates and stores a fresh data key; returns its id and the key (the caller wipes it). */
export async function createDetachedKey(dir: string, master: MasterKey): Promise<{ keyId: string; dataKey: Uint8Array }> {
  const keyId = toHex(randomBytes(DETACHED_ID_BYTES));
  const dataKey = randomKey(KEY_LENGTH);
  await writeEntry(dir, keyId, dataKey, master);
  return { keyId, dataKey };
}

/** KEY_NOT_FOUND when shredded; WRONG_KEY when wrapped under a master key this keyring does not hold. */
export async function loadDetachedKey(dir: string, keyId: string, keys: MasterKeys): Promise<Uint8Array> {
  const entry = await readEntry(dir, keyId);
  const master = [keys.current, ...keys.retired].find(k => k.id === entry.masterKeyId);
  if (!master) {
    throw new NoteSealError('WRONG_KEY', `The data key ${keyId} is wrapped under master key ${entry.masterKeyId}, which this keyfile does not hold.`);
  }
  const wrapKey = entryWrapKey(master);
  const dataKey = open(wrapKey, entry, entryAad(keyId));
  wipe(wrapKey);
  if (!dataKey) throw new NoteSealError('DAMAGED_KEYFILE', `The key store entry ${keyId} fails its integrity check.`);
  return dataKey;
}

export async function listDetachedKeyIds(dir: string): Promise<string[]> {
  let names: string[];
  try { names = await fs.readdir(dir); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names.filter(n => n.endsWith(ENTRY_SUFFIX)).map(n => n.slice(0, -ENTRY_SUFFIX.length)).filter(id => KEY_ID.test(id));
}

/** Rewraps every entry not yet under the current master key (after a rotation). Returns how many changed. */
export async function rewrapDetachedKeys(dir: string, keys: MasterKeys): Promise<number> {
  let changed = 0;
  for (const keyId of await listDetachedKeyIds(dir)) {
    const entry = await readEntry(dir, keyId);
    if (entry.masterKeyId === keys.current.id) continue;
    const dataKey = await loadDetachedKey(dir, keyId, keys);
    await writeEntry(dir, keyId, dataKey, keys.current);
    wipe(dataKey);
    changed++;
  }
  return changed;
}

/**
 * Destroys a detached data key: overwrite with random bytes and fsync, then unlink and fsync the directory.
 * On SSDs and copy-on-write file systems the overwrite is best effort; the unlink is what counts, and the
 * key was only ever stored wrapped under the master key.
 */
export async function shredDetachedKey(dir: string, keyId: string): Promise<void> {
  const file = entryPath(dir, keyId);
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r+');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    throw new NoteSealError('KEY_NOT_FOUND', `The data key ${keyId} is not in the key store (already shredded?).`);
  }
  try {
    const { size } = await handle.stat();
    await handle.write(randomBytes(size), 0, size, 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.unlink(file);
  await fsyncDirectory(dir); // Windows cannot fsync a folder (EPERM): the unlink stands on its own there
}
