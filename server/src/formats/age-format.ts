// age files (c2sp.org/age) behind the format interface. Opening tries every age identity NoteSeal holds
// (your identity is an age1pq1 identity; imported AGE-SECRET-KEY lines), or asks for the file's own
// passphrase when it is a scrypt file. Saving writes a new age file (fresh file key), armored if it was,
// to the recipients rule's recipients, or to the same passphrase when it was a passphrase file.
import fs from 'node:fs/promises';
import { wipe } from '../keys/bytes';
import { parseAgeIdentityFile } from '../keys/identity-strings';
import {
  ageFileFacts, isAgeError, openAgeWithFileKey, sealAge, scryptIdentity, scryptRecipient, SCRYPT_TYPE, unwrapFileKey, type AgeRecipient, type AgeStanza,
} from './age';
import type { Keyring } from '../keys/keyring';
import type { ReceivingKey } from '../keys/recipients';
import { ageIdentityOf } from './age/identities';
import { looksLikeAgeFile } from './age/sniff';
import type { FileFormat, KeysAtHand } from './types';

export interface AgeSaveState {
  armored: boolean;
  /** The file's passphrase when it is a passphrase (scrypt) file: it stays one. */
  passphrase: Uint8Array | null;
  /** The recipients of a new write (re-read at each save: the lists may change while it is open). */
  recipients: () => Promise<AgeRecipient[]>;
}

/** Opens age bytes with the keys at hand; the passphrase is asked only for a passphrase file. */
export async function openAgeWith(bytes: Uint8Array, keys: KeysAtHand, file: string): Promise<{ plaintext: Buffer; armored: boolean; passphrase: Uint8Array | null }> {
  const facts = ageFileFacts(bytes); // a header failure before any key or prompt
  const { fileKey, passphrase } = await ageFileKeyWith(facts.stanzas, keys, file);
  try {
    const opened = await openAgeWithFileKey(bytes, async () => fileKey);
    return { plaintext: opened.plaintext, armored: opened.armored, passphrase };
  } catch (e) {
    if (passphrase) wipe(passphrase);
    throw e;
  }
}

/**
 * The file key of an age header with the keys at hand: a passphrase file asks for its own passphrase (returned,
 * for a save that keeps it a passphrase file); any other asks the keys for its identities. The caller wipes both.
 */
export async function ageFileKeyWith(stanzas: AgeStanza[], keys: KeysAtHand, file: string): Promise<{ fileKey: Uint8Array; passphrase: Uint8Array | null }> {
  if (!stanzas.some(s => s.args[0] === SCRYPT_TYPE)) return { fileKey: await keys.ageFileKey(stanzas), passphrase: null };
  const passphrase = await keys.filePassphrase(file);
  const id = scryptIdentity(new Uint8Array(passphrase));
  try {
    return { fileKey: unwrapFileKey(stanzas, [id]), passphrase };
  } catch (e) {
    wipe(passphrase);
    if (isAgeError(e, 'no match')) throw Object.assign(e, { message: `The passphrase does not open the age file ${file} (it asks for the file's own passphrase, not NoteSeal's).` });
    throw e;
  } finally { id.wipe(); }
}

/** The file key of an age header from `keys` (an identity file's, or the keyring's: your identity and imported ones). */
export function ageFileKeyFrom(keys: readonly ReceivingKey[], stanzas: readonly AgeStanza[]): Uint8Array {
  const ids = keys.map(ageIdentityOf);
  try { return unwrapFileKey(stanzas, ids); } finally { for (const id of ids) id.wipe(); }
}

export async function ageFileKeyFor(keyring: Keyring, stanzas: readonly AgeStanza[]): Promise<Uint8Array> {
  const held = await keyring.ageReceivingKeys();
  try { return ageFileKeyFrom(held, stanzas); } finally { for (const k of held) wipe(k.secretKey); }
}

/** Seals the identities of an age identity file into `keyring`'s key store (VS Code's Import age Identity…). */
export async function importAgeIdentityFile(keyring: Keyring, file: string): Promise<{ added: string[]; already: string[] }> {
  const keys = parseAgeIdentityFile(await fs.readFile(file, 'utf8'));
  try { return await keyring.importAgeIdentities(keys); } finally { for (const k of keys) wipe(k.secretKey); }
}

export const ageFormat: FileFormat<AgeSaveState> = {
  name: 'age',
  sniff: looksLikeAgeFile,
  async open(bytes, keys, file) {
    const { plaintext, armored, passphrase } = await openAgeWith(bytes, keys, file);
    const rule = keys.ageRecipientsFor;
    const recipients = passphrase ? async () => [scryptRecipient(passphrase)]
      : rule ? () => rule(file) : () => Promise.reject(new Error('no recipients rule to save this file with'));
    return { plaintext, saveState: { armored, passphrase, recipients } };
  },
  async save(plaintext, state) {
    return sealAge(plaintext, await state.recipients(), { armor: state.armored });
  },
};
