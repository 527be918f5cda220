// sops files (github.com/getsops/sops) behind the format interface: YAML, JSON, dotenv and INI documents
// whose values are each `ENC[AES256_GCM,…]` under one data key, with a `sops` metadata block (the data key
// wrapped per master key, the options, a MAC over every value). Opening unwraps the data key from an `age`
// entry, decrypts every value, checks the MAC and shows the document without its metadata, as `sops
// decrypt` does. Saving encrypts it again with the same data key and options: an unchanged value keeps its
// ciphertext, a changed one gets a fresh IV; the MAC and `lastmodified` are new, the recipients untouched.
import { randomBytes } from 'node:crypto';
import { NoteSealError } from '../crypto/errors';
import { wipe } from '../keys/bytes';
import { decryptValue, encryptValue } from './sops-cipher';
import { ageEntriesFor, DATA_KEY_LENGTH, sopsDataKey } from './sops-keys';
import { dotenvDocument, iniDocument } from './sops-lines';
import { lastModifiedAad, nowRfc3339, optionsOf, type SopsMetadataObject } from './sops-metadata';
import { decryptTree, encryptTree, SopsMacError, type SopsStash } from './sops-tree';
import { yamlDocument, type SopsDocument } from './sops-yaml';
import { hasConflictMarkers, openPending, PENDING_KEY, sealPending, type SopsPending } from './sops-pending';
import type { FileFormat } from './types';

export type SopsStoreKind = 'yaml' | 'json' | 'dotenv' | 'ini';

/** Which store reads a file: by its name as sops does, else by its text. */
export function sopsStoreOf(file: string, text: string): SopsStoreKind {
  const name = file.toLowerCase();
  if (/\.json$/.test(name)) return 'json';
  if (/(^|[/\\.])env$/.test(name) || /\.env\.[^/\\]*$/.test(name) && !/\.(ya?ml|json|ini)$/.test(name)) return 'dotenv';
  if (/\.ini$/.test(name)) return 'ini';
  if (/\.ya?ml$/.test(name)) return 'yaml';
  if (/^\s*\{/.test(text)) return 'json';
  if (/^\[sops\]\s*$/m.test(text)) return 'ini';
  if (/^sops_(mac|lastmodified)=/m.test(text)) return 'dotenv';
  return 'yaml';
}

export function sopsDocument(kind: SopsStoreKind, text: string): SopsDocument {
  switch (kind) {
    case 'json': return yamlDocument(text, true);
    case 'dotenv': return dotenvDocument(text);
    case 'ini': return iniDocument(text);
    default: return yamlDocument(text, false);
  }
}

const METADATA_MARK = /(?:^sops:[ \t]*(?:#.*)?$|^sops_(?:mac|lastmodified|version)=|^\[sops\][ \t]*$|^[ \t]*"sops"[ \t]*:[ \t]*\{)/m;

/** Whether text carries sops metadata (a quick look; opening checks it for real). */
export function looksLikeSops(text: string): boolean {
  return METADATA_MARK.test(text) && text.includes('lastmodified');
}

export interface SopsSaveState {
  kind: SopsStoreKind;
  dataKey: Uint8Array;
  metadata: SopsMetadataObject;
  /** Ciphertexts of the values as read: an unchanged value is written back as it was. */
  stash: SopsStash;
  /** The file's decrypted values (its document) as read: a save of a text with conflict markers keeps them. */
  values?: string;
  /** An unresolved git merge sealed in the file (sops-pending.ts): NoteSeal shows its text instead of the values. */
  pending?: SopsPending;
}

export interface DecryptedSops { plaintext: string; mac: string; state: SopsSaveState }

/** The stored MAC, decrypted: upper-case hex of SHA-512; a typed error when missing or altered. */
export function storedMac(m: SopsMetadataObject, dataKey: Uint8Array): string {
  const enc = m['mac'];
  if (typeof enc !== 'string' || enc === '') throw new SopsMacError('this sops file has no MAC: its values cannot be checked (sops refuses it too, unless told --ignore-mac)');
  try {
    return decryptValue(enc, dataKey, lastModifiedAad(m), 'sops.mac').text;
  } catch {
    throw new SopsMacError('the MAC of this sops file does not decrypt with its data key under its lastmodified (the metadata was altered)');
  }
}

/** Decrypts a sops file's text with its data key and checks its MAC (the test hook: a data key from elsewhere). */
export function decryptSopsText(kind: SopsStoreKind, text: string, dataKey: Uint8Array): DecryptedSops {
  const doc = sopsDocument(kind, text);
  const metadata = doc.metadata;
  if (!metadata) throw new NoteSealError('INVALID_ARGUMENT', 'not a sops file: it has no sops metadata');
  const options = optionsOf(metadata);
  const stash: SopsStash = new Map();
  const mac = decryptTree(doc.branches, dataKey, options, stash);
  const stored = storedMac(metadata, dataKey);
  if (stored.toUpperCase() !== mac) throw new SopsMacError('MAC mismatch: the values of this sops file are not the ones its MAC covers (altered, or a merge of two versions)');
  const plaintext = doc.print(null);
  const pending = openPending(metadata, dataKey);
  if (!pending) return { plaintext, mac, state: { kind, dataKey, metadata, stash, values: plaintext } };
  for (const [k, v] of pending.stash) if (!stash.has(k)) stash.set(k, v); // the other sides' ciphertexts, for the resolved save
  return { plaintext, mac, state: { kind, dataKey, metadata, stash, values: plaintext, pending } };
}

/**
 * The plaintext view encrypted again as a sops file, and the MAC it now carries. A pending merge is dropped
 * (a save of the document resolves it), unless `pending` gives the one to seal beside these values.
 */
export function encryptSopsText(plaintext: string, state: SopsSaveState, now = new Date(), pending?: SopsPending): { text: string; mac: string } {
  const doc = sopsDocument(state.kind, plaintext);
  if (doc.metadata) throw new NoteSealError('INVALID_ARGUMENT', 'the document holds a top-level sops key: sops keeps its metadata there, so a value cannot use that name');
  const mac = encryptTree(doc.branches, state.dataKey, optionsOf(state.metadata), state.stash);
  const lastmodified = nowRfc3339(now);
  const metadata: SopsMetadataObject = { ...state.metadata, lastmodified };
  delete metadata[PENDING_KEY];
  metadata['mac'] = encryptValue({ type: 'str', text: mac }, state.dataKey, lastModifiedAad(metadata));
  if (pending) sealPending(metadata, state.dataKey, pending);
  return { text: doc.print(metadata), mac };
}

/**
 * What a save writes for the text of the `noteseal:` view: the document encrypted, or, while the text still
 * holds git's conflict markers, the file's values as they are with that text sealed as its pending merge (a
 * sops document cannot hold markers; the file stays valid for sops and teammates, who read the values).
 */
export function saveSopsView(text: string, state: SopsSaveState, now = new Date()): { text: string; pendingMerge: boolean } {
  if (!hasConflictMarkers(text)) return { text: encryptSopsText(text, state, now).text, pendingMerge: false };
  if (state.values === undefined) throw new NoteSealError('INVALID_ARGUMENT', 'this sops file is new: a text with git conflict markers (<<<<<<< / ======= / >>>>>>>) cannot be its first version');
  return { text: encryptSopsText(state.values, state, now, { text, stash: [...state.stash] }).text, pendingMerge: true };
}

export const sopsFormat: FileFormat<SopsSaveState> = {
  name: 'sops',
  sniff: head => looksLikeSops(Buffer.from(head).toString('utf8')),
  async open(bytes, keys, file) {
    const text = Buffer.from(bytes).toString('utf8');
    const kind = sopsStoreOf(file, text);
    const doc = sopsDocument(kind, text);
    if (!doc.metadata) throw new NoteSealError('INVALID_ARGUMENT', `not a sops file: ${file} has no sops metadata`);
    const dataKey = await sopsDataKey(doc.metadata, keys, file);
    try {
      const { plaintext, state } = decryptSopsText(kind, text, dataKey);
      return { plaintext: Buffer.from(state.pending?.text ?? plaintext, 'utf8'), saveState: state };
    } catch (e) { wipe(dataKey); throw e; }
  },
  save(plaintext, state) {
    return Promise.resolve(Buffer.from(saveSopsView(Buffer.from(plaintext).toString('utf8'), state).text, 'utf8'));
  },
};

/** The sops version NoteSeal's files say they were written for (the metadata format of sops 3.13). */
export const SOPS_VERSION = '3.13.2';

/**
 * The save state of a new sops file: a fresh data key wrapped to each age recipient, and the creation
 * rule's options (`encrypted_regex`, `unencrypted_suffix`, …, as sops names them). The caller wipes the key.
 */
export function newSopsState(kind: SopsStoreKind, recipients: Parameters<typeof ageEntriesFor>[1], options: SopsMetadataObject, dataKey = new Uint8Array(randomBytes(DATA_KEY_LENGTH))): SopsSaveState {
  if (recipients.length === 0) throw new NoteSealError('INVALID_ARGUMENT', 'a sops file needs at least one age recipient');
  const metadata: SopsMetadataObject = { age: ageEntriesFor(dataKey, recipients), lastmodified: '', mac: '' };
  for (const [k, v] of Object.entries(options)) if (v !== undefined && v !== null && v !== '' && v !== false) metadata[k] = v;
  metadata['version'] = SOPS_VERSION;
  optionsOf(metadata); // a rule with two options, or a regex NoteSeal cannot read, is refused before any write
  return { kind, dataKey, metadata, stash: new Map() };
}
