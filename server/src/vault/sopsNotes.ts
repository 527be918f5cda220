// sops files in the `noteseal:` view (issue 27): `secrets.sops.yaml` opens under its own name as `sops edit`
// shows it (values decrypted, the `sops` metadata hidden, comments and key order kept) and saves back as sops
// writes it, through the format interface (formats/sops.ts): same data key and options, unchanged values keep
// their ciphertexts, the MAC and `lastmodified` are new, the recipients stay exactly as the file has them. The
// data key opens with the age identities NoteSeal holds; a file wrapped only for PGP, KMS or Vault is refused
// with the keys that would open it (formats/sops-keys.ts).
import type { Stats } from 'node:fs';
import path from 'node:path';
import { isNoteSealError } from '../crypto/errors';
import { readRegularFile } from '../crypto/safe-open';
import { writeAll, replaceFileAtomic } from '../crypto/atomic';
import { isSopsFile, type KeysAtHand } from '../formats';
import { ageFileKeyFor } from '../formats/age-format';
import { sopsDocument, sopsFormat, sopsStoreOf, type SopsSaveState } from '../formats/sops';
import { acceptedRuleFor, acceptSopsConfig, findSopsConfig, readSopsConfig, rewrapSopsText, ruleFor, ruleRecipients, sopsConfigState } from '../formats/sops-config';
import { goRegex } from '../formats/sops-metadata';
import { wipe } from '../keys/bytes';
import type { Keyring } from '../keys/keyring';
import type { PendingSopsConfig } from '../protocol';
import { WorkerError } from './workerErrors';

/** Whether `file` (a regular file, never through a link) carries sops metadata. */
export function isSopsNote(file: string): Promise<boolean> {
  return isSopsFile(file);
}

/**
 * The names sops users give their encrypted files (sops's own docs and examples): `*.sops.yaml`,
 * `*.sops.json`, `*.sops.env`, `*.sops.ini`, `secrets*.yaml|json`, `*.enc.yaml|json|env|ini`, `*.secret(s).yaml`.
 */
export function hasSopsName(file: string): boolean {
  const name = path.basename(file).toLowerCase();
  return /\.(sops|enc|secrets?)\.(ya?ml|json|env|ini)$/.test(name) || /^secrets?([._-][^/]*)?\.(ya?ml|json)$/.test(name);
}

/**
 * Whether VS Code opens `file` through NoteSeal from the Explorer: it carries sops metadata, and it has a sops
 * name or a creation rule of a `.sops.yaml` this machine accepted matches it (an unaccepted one chooses nothing).
 */
export async function opensAsSops(file: string, keyfilePath: string | null): Promise<boolean> {
  if (!(await isSopsFile(file))) return false;
  if (hasSopsName(file)) return true;
  if (!keyfilePath) return false;
  try {
    const configFile = await findSopsConfig(file);
    if (!configFile) return false;
    const config = await readSopsConfig(configFile);
    if ((await sopsConfigState(keyfilePath, config)).state !== 'accepted') return false;
    const rel = path.relative(path.dirname(config.file), file).split(path.sep).join('/');
    return config.rules.some(r => r.pathRegex !== undefined && goRegex(r.pathRegex, 'path_regex').test(rel));
  } catch { return false; }
}

/** The keys the worker has for sops files: the age identities of the key store (imported ones, yours as age1pq1). */
export function sopsKeysAtHand(keyring: Keyring): KeysAtHand {
  const refused = () => { throw new WorkerError('INVALID_ARGUMENT', 'not a sops file'); };
  return { unwrap: refused, filePassphrase: refused, ageFileKey: stanzas => ageFileKeyFor(keyring, stanzas) };
}

async function openSops(keyring: Keyring, file: string, maxBytes: number) {
  const bytes = await readRegularFile(file, { maxBytes }).catch(e => {
    if (!isNoteSealError(e, 'LIMIT_EXCEEDED')) throw e;
    throw new WorkerError('LIMIT_EXCEEDED', `${file} is too large to open in the editor. Use the noteseal CLI for it.`);
  });
  try {
    return await sopsFormat.open(bytes, sopsKeysAtHand(keyring), file);
  } catch (e) {
    if (isNoteSealError(e) && !e.message.includes(file)) e.message = `${file}: ${e.message}`;
    throw e;
  }
}

/** The document of a sops file as `sops edit` shows it (the MAC checked first). */
export async function readSopsNote(keyring: Keyring, file: string, maxBytes: number): Promise<Buffer> {
  const { plaintext, saveState } = await openSops(keyring, file, maxBytes);
  wipe(saveState.dataKey);
  return plaintext;
}

/**
 * Replaces the sops file `file` with the edited document `plaintext`, encrypted with the data key, options and
 * recipients of the file as it is on disk now (so a value the editor shows unchanged keeps its ciphertext).
 * `beforeRename` may refuse at the last moment (the file changed meanwhile): nothing is replaced.
 */
export async function writeSopsNote(keyring: Keyring, file: string, plaintext: Uint8Array, maxBytes: number, beforeRename?: () => Promise<void>): Promise<Stats> {
  const opened = await openSops(keyring, file, maxBytes);
  opened.plaintext.fill(0);
  const state: SopsSaveState = opened.saveState;
  try {
    const bytes = await sopsFormat.save(plaintext, state).catch(e => {
      if (isNoteSealError(e)) e.message = `${file}: ${e.message}`;
      throw e;
    });
    return await replaceFileAtomic(file, async handle => { await writeAll(handle, [bytes]); }, undefined, beforeRename);
  } finally { wipe(state.dataKey); }
}

/** The age recipients a sops file lists in its metadata (read without opening it). */
async function fileAgeRecipients(file: string): Promise<string[]> {
  const text = (await readRegularFile(file, { maxBytes: MAX_SOPS_BYTES })).toString('utf8');
  const metadata = sopsDocument(sopsStoreOf(file, text), text).metadata;
  if (!metadata) throw new WorkerError('INVALID_ARGUMENT', `${file} is not a sops file: it has no sops metadata`);
  const entries = metadata['age'];
  return Array.isArray(entries) ? entries.map(e => String((e as { recipient?: unknown }).recipient)) : [];
}

const MAX_SOPS_BYTES = 16 * 1024 * 1024;

/**
 * The `.sops.yaml` governing the sops file `file` (or the plaintext file Encrypt with sops would make one: no
 * recipients yet) when this machine has not accepted its text, or null.
 */
export async function pendingSopsConfig(keyfilePath: string, file: string): Promise<PendingSopsConfig | null> {
  const configFile = await findSopsConfig(file);
  if (!configFile) return null;
  const config = await readSopsConfig(configFile);
  const { state, at } = await sopsConfigState(keyfilePath, config);
  if (state === 'accepted') return null;
  const rule = ruleFor(config, file);
  const has = await isSopsFile(file) ? await fileAgeRecipients(file) : [];
  return {
    configFile, reason: state, ...(at ? { at } : {}), sha256: config.sha256, rule: rule.index + 1,
    add: rule.age.filter(r => !has.includes(r)), remove: has.filter(r => !rule.age.includes(r)), others: rule.others,
  };
}

/** Accepts the `.sops.yaml` at `configFile` if its text still has `sha256` (what the user reviewed). */
export async function acceptSopsConfigAt(keyfilePath: string, configFile: string, sha256: string): Promise<void> {
  const config = await readSopsConfig(configFile);
  if (config.sha256 !== sha256) throw new WorkerError('UNTRUSTED_RECIPIENTS', `${configFile} changed after it was shown to you: nothing was accepted. Look at it again.`);
  await acceptSopsConfig(keyfilePath, config);
}

/**
 * `sops updatekeys` in VS Code: the data key of the sops file `file` rewrapped to the age recipients of the
 * matching rule of the ACCEPTED `.sops.yaml` (UNTRUSTED_RECIPIENTS otherwise); values and MAC unchanged.
 */
export async function updateSopsKeys(keyring: Keyring, file: string): Promise<{ added: string[]; removed: string[]; configFile: string }> {
  const { config, rule } = await acceptedRuleFor(keyring.keyfilePath, file);
  const recipients = ruleRecipients(config, rule);
  const before = await readRegularFile(file, { maxBytes: MAX_SOPS_BYTES });
  const opened = await sopsFormat.open(before, sopsKeysAtHand(keyring), file);
  opened.plaintext.fill(0);
  let result;
  try { result = rewrapSopsText(before.toString('utf8'), opened.saveState, recipients); } finally { wipe(opened.saveState.dataKey); }
  if (!result) return { added: [], removed: [], configFile: config.file };
  const { bytes, old, now } = result;
  await replaceFileAtomic(file, async handle => { await writeAll(handle, [bytes]); }, undefined, async () => {
    if (!(await readRegularFile(file, { maxBytes: MAX_SOPS_BYTES })).equals(before)) {
      throw new WorkerError('CHANGED_ON_DISK', `${file} changed on disk meanwhile: its keys were not updated. Try again.`);
    }
  });
  return { added: now.filter(r => !old.includes(r)), removed: old.filter(r => !now.includes(r)), configFile: config.file };
}
