// The versioned keyfile (JSON). It holds the Argon2id parameters and salt, the master key wrapped under the
// passphrase-derived KEK, and retired master keys wrapped under the current master key.
//
// Three layers of checking, so each failure gets the right name:
//  - checksum (SHA-256, unkeyed): accidental damage is DAMAGED_KEYFILE before any passphrase is tried;
//  - AES-GCM with AAD over the KDF fields: a wrong passphrase (or a downgraded KDF field) fails to unwrap;
//  - mac (HMAC under a key derived from the master key): edits by someone without the master key,
//    e.g. to the retired list, are DAMAGED_KEYFILE once unlocked.
import { createHash, createHmac } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { NoteSealError } from '../crypto/errors';
import { fsyncDirectory, tempSiblingPath } from '../crypto/atomic';
import { writeFileAtomic } from '../crypto/format';
import { deriveSubkey, KEY_LENGTH, open, seal, type Sealed } from './aead';
import { constantTimeEqual, fromBase64, toBase64, toHex, utf8, wipe } from './bytes';
import { KDF_CEILING, KDF_FLOOR, kdfParamsAcceptable, type KdfParams } from './kdf';
import { parseSlotList, slotMacInput, slotToJson, type Slot, type SlotJson } from './slots';

export const KEYFILE_FORMAT = 'noteseal-keyfile';
export const KEYFILE_VERSION = 1;
/** A keyfile with unlock slots is version 2, so a build that knows no slots refuses it instead of dropping them. */
export const KEYFILE_VERSION_WITH_SLOTS = 2;
const KEY_ID_BYTES = 8;

export interface KeyfileKdf extends KdfParams { salt: Uint8Array }

export interface RetiredEntry extends Sealed { masterKeyId: string }

/** A parsed, structurally valid keyfile. Nothing in it is secret without the passphrase. */
export interface Keyfile {
  kdf: KeyfileKdf;
  masterKeyId: string;
  wrappedMasterKey: Sealed;
  retired: RetiredEntry[];
  /** Unlock slots (slots.ts); empty in a version-1 keyfile. */
  slots: Slot[];
  mac: Uint8Array;
}

export interface MasterKey { id: string; key: Uint8Array }

/** The keys a keyfile yields once unlocked. Callers must wipe them (`wipeMasterKeys`) when done. */
export interface MasterKeys { current: MasterKey; retired: MasterKey[] }

export function wipeMasterKeys(keys: MasterKeys): void {
  wipe(keys.current.key, ...keys.retired.map(r => r.key));
}

/** A master key's public name: derived from the key, so an unwrapped key can be checked against it. */
export function masterKeyIdOf(masterKey: Uint8Array): string {
  const derived = deriveSubkey(masterKey, 'key-id', '');
  const id = toHex(derived.subarray(0, KEY_ID_BYTES));
  wipe(derived);
  return id;
}

// ---- canonical byte strings for AAD, MAC and checksum -------------------------------------------------

function kekAad(kf: Pick<Keyfile, 'kdf' | 'masterKeyId'>): Uint8Array {
  const { m, t, p, salt } = kf.kdf;
  // Always version 1 here: adding the first slot (version 2) must not change the passphrase's wrap.
  return utf8(JSON.stringify([KEYFILE_FORMAT, KEYFILE_VERSION, 'argon2id', m, t, p, toBase64(salt), kf.masterKeyId]));
}

function macInput(kf: Omit<Keyfile, 'mac'>): Uint8Array {
  const sealed = (s: Sealed) => [toBase64(s.nonce), toBase64(s.ciphertext)];
  return utf8(JSON.stringify([
    new TextDecoder().decode(kekAad(kf)),
    sealed(kf.wrappedMasterKey),
    kf.retired.map(r => [r.masterKeyId, ...sealed(r)]),
    // Only present with slots, so version-1 MACs stay as they were; stripping the slots breaks the MAC.
    ...(kf.slots.length > 0 ? [['slots', ...kf.slots.map(slotMacInput)]] : []),
  ]));
}

function computeMac(masterKey: Uint8Array, kf: Omit<Keyfile, 'mac'>): Uint8Array {
  const macKey = deriveSubkey(masterKey, 'keyfile-mac', kf.masterKeyId);
  const mac = new Uint8Array(createHmac('sha256', macKey).update(macInput(kf)).digest());
  wipe(macKey);
  return mac;
}

function retiredWrapKey(current: MasterKey): Uint8Array {
  return deriveSubkey(current.key, 'retired-key-wrap', current.id);
}

// ---- JSON form ------------------------------------------------------------------------------------------

interface SealedJson { nonce: string; ciphertext: string }
interface KeyfileJson {
  format: string;
  version: number;
  kdf: { alg: 'argon2id'; m: number; t: number; p: number; salt: string };
  masterKeyId: string;
  wrappedMasterKey: SealedJson;
  retired: (SealedJson & { masterKeyId: string })[];
  slots?: SlotJson[];
  mac: string;
  checksum?: string;
}

function toJson(kf: Keyfile): KeyfileJson {
  const sealed = (s: Sealed): SealedJson => ({ nonce: toBase64(s.nonce), ciphertext: toBase64(s.ciphertext) });
  return {
    format: KEYFILE_FORMAT,
    version: kf.slots.length > 0 ? KEYFILE_VERSION_WITH_SLOTS : KEYFILE_VERSION,
    kdf: { alg: 'argon2id', m: kf.kdf.m, t: kf.kdf.t, p: kf.kdf.p, salt: toBase64(kf.kdf.salt) },
    masterKeyId: kf.masterKeyId,
    wrappedMasterKey: sealed(kf.wrappedMasterKey),
    retired: kf.retired.map(r => ({ masterKeyId: r.masterKeyId, ...sealed(r) })),
    ...(kf.slots.length > 0 ? { slots: kf.slots.map(slotToJson) } : {}),
    mac: toBase64(kf.mac),
  };
}

function checksumOf(json: KeyfileJson): string {
  const rest: Partial<KeyfileJson> = { ...json };
  delete rest.checksum;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

export function serializeKeyfile(kf: Keyfile): string {
  const json = toJson(kf);
  return JSON.stringify({ ...json, checksum: checksumOf(json) }, null, 2) + '\n';
}

function damaged(why: string): NoteSealError {
  return new NoteSealError('DAMAGED_KEYFILE', `The keyfile is damaged: ${why}`);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isKeyId = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{16}$/.test(v);

function parseSealed(v: unknown, where: string): Sealed {
  if (!isRecord(v) || typeof v.nonce !== 'string' || typeof v.ciphertext !== 'string') throw damaged(`${where} is malformed.`);
  const nonce = fromBase64(v.nonce);
  const ciphertext = fromBase64(v.ciphertext);
  if (!nonce || nonce.length !== 12) throw damaged(`${where} has a bad nonce.`);
  if (!ciphertext || ciphertext.length !== KEY_LENGTH + 16) throw damaged(`${where} has a bad wrapped key.`);
  return { nonce, ciphertext };
}

/**
 * Parses and structurally checks keyfile text. Throws DAMAGED_KEYFILE for anything malformed, a checksum
 * mismatch, or KDF parameters outside [floor, ceiling] (a keyfile weakened below the floor is refused).
 */
export function parseKeyfile(text: string, floor: Readonly<KdfParams> = KDF_FLOOR): Keyfile {
  let json: unknown;
  try { json = JSON.parse(text); } catch { throw damaged('it is not valid JSON.'); }
  if (!isRecord(json) || json.format !== KEYFILE_FORMAT) throw damaged('it is not a NoteSeal keyfile.');
  if (json.version !== KEYFILE_VERSION && json.version !== KEYFILE_VERSION_WITH_SLOTS) {
    throw damaged(`version ${String(json.version)} is not supported by this build (expected ${KEYFILE_VERSION} or ${KEYFILE_VERSION_WITH_SLOTS}).`);
  }
  if (typeof json.checksum !== 'string' || json.checksum !== checksumOf(json as unknown as KeyfileJson)) {
    throw damaged('its checksum does not match (the file was altered or corrupted).');
  }
  const kdf = json.kdf;
  if (!isRecord(kdf) || kdf.alg !== 'argon2id' || typeof kdf.salt !== 'string') throw damaged('the kdf field is malformed.');
  const params = { m: kdf.m, t: kdf.t, p: kdf.p } as KdfParams;
  if (!kdfParamsAcceptable(params, floor)) {
    throw damaged(`its Argon2id parameters (m=${String(kdf.m)} KiB, t=${String(kdf.t)}, p=${String(kdf.p)}) are outside the accepted range `
      + `(minimum m=${floor.m} KiB, t=${floor.t}, p=${floor.p}; maximum m=${KDF_CEILING.m} KiB, t=${KDF_CEILING.t}, p=${KDF_CEILING.p}): `
      + 'weakened, or crafted to stall the unlock.');
  }
  const salt = fromBase64(kdf.salt);
  if (!salt || salt.length < 16 || salt.length > 64) throw damaged('the KDF salt is malformed.');
  if (!isKeyId(json.masterKeyId)) throw damaged('the master key id is malformed.');
  if (!Array.isArray(json.retired)) throw damaged('the retired key list is malformed.');
  const retired = json.retired.map((r: unknown, i: number): RetiredEntry => {
    if (!isRecord(r) || !isKeyId(r.masterKeyId)) throw damaged(`retired key ${i + 1} is malformed.`);
    return { masterKeyId: r.masterKeyId, ...parseSealed(r, `retired key ${i + 1}`) };
  });
  if (json.version === KEYFILE_VERSION && json.slots !== undefined) throw damaged('a version-1 keyfile has no unlock slots.');
  const slots = json.version === KEYFILE_VERSION ? [] : parseSlotList(json.slots, damaged);
  const mac = typeof json.mac === 'string' ? fromBase64(json.mac) : null;
  if (!mac || mac.length !== 32) throw damaged('the mac is malformed.');
  return {
    kdf: { ...params, salt },
    masterKeyId: json.masterKeyId,
    wrappedMasterKey: parseSealed(json.wrappedMasterKey, 'the wrapped master key'),
    retired,
    slots,
    mac,
  };
}

/**
 * Builds a keyfile for `keys`, wrapping the current master key under `kek` and the retired ones under it.
 * `slots` must already wrap `keys.current` (slots.ts); the MAC covers them.
 */
export function buildKeyfile(keys: MasterKeys, kek: Uint8Array, kdf: KeyfileKdf, slots: readonly Slot[] = []): Keyfile {
  const partial = { kdf: { ...kdf, salt: kdf.salt.slice() }, masterKeyId: keys.current.id };
  const wrappedMasterKey = seal(kek, keys.current.key, kekAad(partial));
  const wrapKey = retiredWrapKey(keys.current);
  const retired = keys.retired.map(r => ({ masterKeyId: r.id, ...seal(wrapKey, r.key, utf8(r.id)) }));
  wipe(wrapKey);
  const body = { ...partial, wrappedMasterKey, retired, slots: [...slots] };
  return { ...body, mac: computeMac(keys.current.key, body) };
}

/** Opens the master key with a KEK derived from the passphrase. Wrong KEK -> WRONG_PASSPHRASE. */
export function unwrapWithKek(kf: Keyfile, kek: Uint8Array): MasterKeys {
  const masterKey = open(kek, kf.wrappedMasterKey, kekAad(kf));
  if (!masterKey) {
    throw new NoteSealError('WRONG_PASSPHRASE', 'The passphrase is wrong (it does not open the keyfile).');
  }
  return unwrapWithMasterKey(kf, masterKey, 'DAMAGED_KEYFILE');
}

/**
 * Opens the rest of the keyfile with the current master key (from the KEK or from a recovery key).
 * A master key that is not this keyfile's fails with `mismatch` (WRONG_KEY for a recovery key).
 * Takes ownership of `masterKey`.
 */
export function unwrapWithMasterKey(
  kf: Keyfile, masterKey: Uint8Array, mismatch: 'WRONG_KEY' | 'DAMAGED_KEYFILE' = 'WRONG_KEY',
): MasterKeys {
  const id = masterKeyIdOf(masterKey);
  if (!constantTimeEqual(utf8(id), utf8(kf.masterKeyId))) {
    wipe(masterKey);
    throw mismatch === 'WRONG_KEY'
      ? new NoteSealError('WRONG_KEY', 'This recovery key belongs to a different keyfile (or to a master key that was rotated out).')
      : damaged('the master key does not match its id.');
  }
  const current = { id, key: masterKey };
  if (!constantTimeEqual(computeMac(masterKey, kf), kf.mac)) {
    wipe(masterKey);
    throw damaged('its integrity check failed (the file was altered).');
  }
  const wrapKey = retiredWrapKey(current);
  const retired: MasterKey[] = [];
  for (const r of kf.retired) {
    const key = open(wrapKey, r, utf8(r.masterKeyId));
    if (!key) {
      wipe(wrapKey, masterKey, ...retired.map(k => k.key));
      throw damaged(`retired key ${r.masterKeyId} cannot be unwrapped.`);
    }
    retired.push({ id: r.masterKeyId, key });
  }
  wipe(wrapKey);
  return { current, retired };
}

// ---- files ----------------------------------------------------------------------------------------------

export async function readKeyfile(keyfilePath: string, floor: Readonly<KdfParams> = KDF_FLOOR): Promise<Keyfile> {
  return parseKeyfile(await fs.readFile(keyfilePath, 'utf8'), floor);
}

/** Writes crash-safely (temp sibling, fsync, rename) with mode 0600; creates the directory as 0700. */
export async function writeKeyfile(keyfilePath: string, kf: Keyfile): Promise<void> {
  await fs.mkdir(path.dirname(keyfilePath), { recursive: true, mode: 0o700 });
  await writeFileAtomic(keyfilePath, Buffer.from(serializeKeyfile(kf), 'utf8'), 0o600);
}

/**
 * Creates a new keyfile, never replacing one: a complete, fsynced temp sibling is hard-linked into place,
 * which fails with EEXIST if any keyfile appeared meanwhile (another window's or the CLI's `init`).
 */
export async function createKeyfileExclusive(keyfilePath: string, kf: Keyfile): Promise<void> {
  const dir = path.dirname(keyfilePath);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = tempSiblingPath(keyfilePath);
  const handle = await fs.open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(serializeKeyfile(kf), 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.link(tmp, keyfilePath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw keyfileExists(keyfilePath);
    throw e;
  } finally {
    await fs.unlink(tmp).catch(() => undefined);
  }
  await fsyncDirectory(dir);
}

export function keyfileExists(keyfilePath: string): NoteSealError {
  return new NoteSealError('INVALID_ARGUMENT', `A keyfile already exists at ${keyfilePath}; change its passphrase or rotate it instead.`);
}

/** The lock file beside the keyfile that every process holds while it rewrites the keyfile. */
export function keyfileLockPath(keyfilePath: string): string {
  return `${keyfilePath}.lock`;
}
