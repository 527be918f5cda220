// age files in the `noteseal:` view (issue 26): `config.yaml.age` opens decrypted in VS Code's own editor and
// saves back as a real age file, through the format interface (formats/). Reading uses every age identity
// NoteSeal holds (your identity as age1pq1, imported ones); a save writes a fresh age file (armored if the
// file was) to the recipients rule (formats/age-recipients.ts: the accepted `.age-recipients`, else the
// folder's accepted members, else your identity); a passphrase (scrypt) file opens with, and is saved again to,
// its own passphrase, which the user gives in the editor. Plaintext stays in memory, as for `.enc` notes.
import type { Stats } from 'node:fs';
import { isNoteSealError } from '../crypto/errors';
import { readRegularFile } from '../crypto/safe-open';
import { writeAll, replaceFileAtomic } from '../crypto/atomic';
import type { KeysAtHand } from '../formats';
import { ageFileFacts, describeStanzas, isAgeError, scryptRecipient, type AgeStanza } from '../formats/age';
import { ageFileKeyFor, ageFileKeyFrom, ageFormat } from '../formats/age-format';
import { ageRecipientsFor } from '../formats/age-recipients';
import { wipe } from '../keys/bytes';
import type { Keyring } from '../keys/keyring';
import type { Recipient } from '../keys/recipients';
import type { AgeFileDescription } from '../protocol';
import { WorkerError } from './workerErrors';

/**
 * The keys the worker has for age files: the keyring's age identities, and the own passphrase of a
 * passphrase (scrypt) file that the user gave in the editor (held while unlocked: keys/file-passphrases.ts).
 */
function keysAtHand(keyring: Keyring): KeysAtHand {
  return {
    unwrap: () => { throw new WorkerError('INVALID_ARGUMENT', 'not a .enc file'); },
    ageFileKey: stanzas => ageFileKeyFor(keyring, stanzas),
    filePassphrase: async file => heldFilePassphrase(keyring, file),
  };
}

function heldFilePassphrase(keyring: Keyring, file: string): Uint8Array {
  const held = keyring.filePassphrases.get(file);
  if (held) return held;
  throw new WorkerError('FILE_PASSPHRASE_NEEDED', `${file} is a passphrase-protected age file: it opens with its own age passphrase (the one given to age -p), not your NoteSeal passphrase. Nothing was read.`);
}

/** Bytes of an age file, safely (never through a link or a pipe), at most `maxBytes`. */
async function readAgeBytes(file: string, maxBytes: number): Promise<Buffer> {
  return readRegularFile(file, { maxBytes }).catch(e => {
    if (!isNoteSealError(e, 'LIMIT_EXCEEDED')) throw e;
    throw new WorkerError('LIMIT_EXCEEDED', `${file} is too large to open in the editor. Use the noteseal CLI for it.`);
  });
}

/** The plaintext of an age file (authenticated to its end before any of it is returned). */
export async function readAgeNote(keyring: Keyring, file: string, maxBytes: number): Promise<Buffer> {
  return openAgeBytes(keyring, await readAgeBytes(file, maxBytes), file);
}

/**
 * The plaintext of age bytes: the file's, or a revision's (git, Timeline: `file` then names it). A passphrase
 * file opens with the passphrase held for `file`, else FILE_PASSPHRASE_NEEDED.
 */
export async function openAgeBytes(keyring: Keyring, bytes: Uint8Array, file: string): Promise<Buffer> {
  let passphraseFile = false;
  try {
    passphraseFile = ageFileFacts(bytes).passphrase;
    const { plaintext, saveState } = await ageFormat.open(bytes, keysAtHand(keyring), file);
    wipe(saveState.passphrase);
    return plaintext;
  } catch (e) {
    if (passphraseFile && isAgeError(e, 'no match')) {
      keyring.filePassphrases.forget(file); // a wrong one is not kept: the editor asks again
      throw new WorkerError('FILE_PASSPHRASE_NEEDED', `That passphrase does not open the age file ${file} (it needs the file's own age passphrase, not your NoteSeal passphrase). Nothing was read.`);
    }
    if (isNoteSealError(e)) e.message = `${file}: ${e.message}`;
    throw e;
  }
}

/**
 * Which of your imported age identities opens a file with these stanzas (null: none, or your NoteSeal identity
 * does): a save falling back to "your identity" then encrypts to that one (ageRecipientsFor, openedBy).
 */
async function importedOpener(keyring: Keyring, facts: { stanzas?: readonly AgeStanza[] }, own: Uint8Array | undefined): Promise<Recipient | null> {
  if (!facts.stanzas?.length) return null;
  const held = await keyring.ageReceivingKeys();
  try {
    for (const key of held) {
      if (own && Buffer.from(key.publicKey).equals(Buffer.from(own))) continue;
      try { wipe(ageFileKeyFrom([key], facts.stanzas)); } catch { continue; }
      return { kind: key.kind, publicKey: new Uint8Array(key.publicKey) };
    }
    return null;
  } finally { for (const k of held) wipe(k.secretKey); }
}

/**
 * Replaces the age file `file` (0 bytes: a new one) with `plaintext` sealed to the recipients rule, armored
 * if the file was. `beforeRename` may refuse at the last moment (the file changed meanwhile): nothing is replaced.
 */
export async function writeAgeNote(keyring: Keyring, file: string, plaintext: Uint8Array, maxBytes: number, beforeRename?: () => Promise<void>): Promise<Stats> {
  const old = await readAgeBytes(file, maxBytes);
  const facts = old.length ? ageFileFacts(old) : { armored: false, passphrase: false, stanzas: [] };
  if (facts.passphrase) {
    // A passphrase file stays one: sealed again to the passphrase the user opened it with.
    const passphrase = heldFilePassphrase(keyring, file);
    try {
      const bytes = await ageFormat.save(plaintext, { armored: facts.armored, passphrase, recipients: async () => [scryptRecipient(passphrase)] });
      return await replaceFileAtomic(file, async handle => { await writeAll(handle, [bytes]); }, undefined, beforeRename);
    } finally { wipe(passphrase); }
  }
  const identity = await keyring.identity();
  const ctx = { keyfilePath: keyring.keyfilePath, ownIdentity: identity?.public ?? null, openedBy: await importedOpener(keyring, facts, identity?.receiving.publicKey) };
  const bytes = await ageFormat.save(plaintext, { armored: facts.armored, passphrase: null, recipients: async () => (await ageRecipientsFor(file, ctx)).recipients });
  return replaceFileAtomic(file, async handle => { await writeAll(handle, [bytes]); }, undefined, beforeRename);
}

/**
 * "Who Can Read This File?" for an age file: its header's stanza types (an age header does not name its
 * recipients), who the next save encrypts it to (the recipients rule, or why it would refuse), and no writer.
 */
export async function describeAgeNote(keyring: Keyring, file: string, maxBytes: number): Promise<AgeFileDescription> {
  const facts = ageFileFacts(await readAgeBytes(file, maxBytes));
  const base = { file, armored: facts.armored, passphrase: facts.passphrase, stanzaTypes: describeStanzas(facts.stanzas) };
  if (facts.passphrase) return base;
  const identity = await keyring.identity();
  try {
    const choice = await ageRecipientsFor(file, { keyfilePath: keyring.keyfilePath, ownIdentity: identity?.public ?? null, openedBy: await importedOpener(keyring, facts, identity?.receiving.publicKey) });
    return { ...base, nextSave: { source: choice.source, recipients: choice.texts } };
  } catch (e) {
    if (!isNoteSealError(e)) throw e;
    return { ...base, nextSaveProblem: e.message };
  }
}
