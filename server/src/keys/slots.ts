// Unlock slots (issue 28): more ways to open the same master key, beside the passphrase and the recovery key,
// as LUKS keyslots do. Each slot wraps the current master key its own way and carries a name and a creation
// date; the keyfile's MAC covers the whole list (keyfile.ts), so a slot removed or altered by someone without
// the master key is DAMAGED_KEYFILE once unlocked. Retired master keys need no slot of their own: they are
// wrapped under the current master key.
//
// Kind `pkcs11`: ECDH on P-256 with a key pair that never leaves the token. Wrapping needs only the token's
// public key (so a rotation rewraps the slot without the token); unwrapping asks the token for the shared
// secret with the slot's ephemeral public key (CKM_ECDH1_DERIVE, CKD_NULL: the x coordinate).
// ECDH rather than RSA-OAEP: every PIV card (YubiKey included) and SoftHSM2 do ECDH on P-256 in the token,
// while RSA-OAEP decryption inside PIV cards is not universal (ykcs11 emulates it over raw RSA).
// The format is docs/KEYS.md, "Unlock slots".
import { constants as cryptoConstants, createPublicKey, diffieHellman, generateKeyPairSync, publicEncrypt, type KeyObject } from 'node:crypto';
import { NoteSealError } from '../crypto/errors';
import { deriveSubkey, KEY_LENGTH, open, seal, type Sealed } from './aead';
import { fromBase64, fromHex, randomKey, toBase64, utf8, wipe } from './bytes';

export const SLOT_KINDS = ['pkcs11', 'tpm'] as const;
export type SlotKind = (typeof SLOT_KINDS)[number];
export const MAX_SLOTS = 16;
/** Names the CLI shows for the ways in that are not slots: they can neither be added nor removed. */
export const RESERVED_SLOT_NAMES = ['passphrase', 'recovery'] as const;
const SLOT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** DER SubjectPublicKeyInfo of a P-256 key with an uncompressed point: 26 bytes of prefix + 65. */
const P256_SPKI_LENGTH = 91;

export interface Pkcs11Slot extends Sealed {
  kind: 'pkcs11';
  name: string;
  /** ISO 8601 UTC, when the slot was added. */
  created: string;
  /** The token's label (CKA_LABEL of the token), how the slot finds its token. */
  token: string;
  /** CKA_ID of the key pair on the token, hex. */
  keyId: string;
  /** The token key's public half (DER SubjectPublicKeyInfo, P-256). */
  publicKey: Uint8Array;
  /** The ephemeral public key of this wrap (DER SubjectPublicKeyInfo, P-256). */
  ephemeralKey: Uint8Array;
}

/**
 * Kind `tpm`: an RSA-2048 decryption key made by this machine's TPM 2.0 under the owner hierarchy's primary
 * key (optionally with a PIN as its auth value); its private part only loads into this TPM. A random slot key
 * K is RSA-OAEP(SHA-256)-encrypted to its public half (`sealedKey`), and K wraps the master key.
 */
export interface TpmSlot extends Sealed {
  kind: 'tpm';
  name: string;
  created: string;
  /** Whether the TPM key has a PIN (its auth value); the TPM's dictionary-attack lockout limits guessing. */
  pin: boolean;
  /** The key's TPM2B_PUBLIC and TPM2B_PRIVATE blobs (the private one is encrypted by the TPM's parent key). */
  tpmPublic: Uint8Array;
  tpmPrivate: Uint8Array;
  /** The key's public half (DER SubjectPublicKeyInfo, RSA 2048), so a rotation rewraps without the TPM. */
  publicKey: Uint8Array;
  /** RSA-OAEP(SHA-256, MGF1-SHA-256, no label) of the 32-byte slot key K. */
  sealedKey: Uint8Array;
}

export type Slot = Pkcs11Slot | TpmSlot;

/** What `noteseal unlock list` shows: nothing secret. */
export interface SlotInfo { name: string; kind: SlotKind; created: string; token?: string; keyId?: string; pin?: boolean }

export function slotInfo(slot: Slot): SlotInfo {
  return slot.kind === 'pkcs11'
    ? { name: slot.name, kind: slot.kind, created: slot.created, token: slot.token, keyId: slot.keyId }
    : { name: slot.name, kind: slot.kind, created: slot.created, pin: slot.pin };
}

export function checkSlotName(name: string, taken: readonly Slot[]): void {
  if (!SLOT_NAME.test(name)) {
    throw new NoteSealError('INVALID_ARGUMENT', `An unlock slot name is 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit: "${name}" is not.`);
  }
  if ((RESERVED_SLOT_NAMES as readonly string[]).includes(name.toLowerCase())) {
    throw new NoteSealError('INVALID_ARGUMENT', `"${name}" names the passphrase or the recovery key; choose another slot name.`);
  }
  if (taken.some(s => s.name === name)) throw new NoteSealError('INVALID_ARGUMENT', `An unlock slot named "${name}" already exists.`);
  if (taken.length >= MAX_SLOTS) throw new NoteSealError('INVALID_ARGUMENT', `A keyfile holds at most ${MAX_SLOTS} unlock slots.`);
}

// ---- the pkcs11 wrap ------------------------------------------------------------------------------------

function slotAad(slot: Omit<Pkcs11Slot, keyof Sealed> | Omit<TpmSlot, keyof Sealed>, masterKeyId: string): Uint8Array {
  return utf8(JSON.stringify(slot.kind === 'pkcs11'
    ? ['noteseal-slot', slot.kind, slot.name, slot.created, slot.token, slot.keyId, toBase64(slot.publicKey), toBase64(slot.ephemeralKey), masterKeyId]
    : ['noteseal-slot', slot.kind, slot.name, slot.created, slot.pin, toBase64(slot.tpmPublic), toBase64(slot.tpmPrivate),
      toBase64(slot.publicKey), toBase64(slot.sealedKey), masterKeyId]));
}

function p256Key(spki: Uint8Array, what: string): KeyObject {
  try {
    const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('not P-256');
    return key;
  } catch {
    throw new NoteSealError('INVALID_ARGUMENT', `${what} is not a P-256 public key.`);
  }
}

function wrapKeyFrom(sharedSecret: Uint8Array, masterKeyId: string): Uint8Array {
  return deriveSubkey(sharedSecret, 'slot-pkcs11', masterKeyId);
}

/** Wraps `masterKey` to the token's public key with a fresh ephemeral key. The token is not needed. */
export function wrapPkcs11Slot(
  fields: { name: string; created: string; token: string; keyId: string; publicKey: Uint8Array },
  master: { id: string; key: Uint8Array },
): Pkcs11Slot {
  const tokenKey = p256Key(fields.publicKey, 'The token key');
  const ephemeral = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const shared = new Uint8Array(diffieHellman({ privateKey: ephemeral.privateKey, publicKey: tokenKey }));
  const ephemeralKey = new Uint8Array(ephemeral.publicKey.export({ format: 'der', type: 'spki' }));
  const slot = { kind: 'pkcs11' as const, ...fields, publicKey: fields.publicKey.slice(), ephemeralKey };
  const wrapKey = wrapKeyFrom(shared, master.id);
  const sealed = seal(wrapKey, master.key, slotAad(slot, master.id));
  wipe(shared, wrapKey);
  return { ...slot, ...sealed };
}

/** Wraps `masterKey` to the TPM key's public half with a fresh slot key K. The TPM is not needed. */
export function wrapTpmSlot(
  fields: { name: string; created: string; pin: boolean; tpmPublic: Uint8Array; tpmPrivate: Uint8Array; publicKey: Uint8Array },
  master: { id: string; key: Uint8Array },
): TpmSlot {
  const rsa = rsaKey(fields.publicKey, 'The TPM key');
  const slotKey = randomKey(KEY_LENGTH);
  const sealedKey = new Uint8Array(publicEncrypt({ key: rsa, padding: cryptoConstants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, slotKey));
  const slot = { kind: 'tpm' as const, ...fields, sealedKey };
  const wrapKey = deriveSubkey(slotKey, 'slot-tpm', master.id);
  const sealed = seal(wrapKey, master.key, slotAad(slot, master.id));
  wipe(slotKey, wrapKey);
  return { ...slot, ...sealed };
}

function rsaKey(spki: Uint8Array, what: string): KeyObject {
  try {
    const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'rsa' || key.asymmetricKeyDetails?.modulusLength !== 2048) throw new Error('not RSA-2048');
    return key;
  } catch {
    throw new NoteSealError('INVALID_ARGUMENT', `${what} is not an RSA-2048 public key.`);
  }
}

/** The master key from the slot key K the TPM decrypted. Wipes `slotKey`. WRONG_KEY when it does not open the slot. */
export function openTpmSlot(slot: TpmSlot, slotKey: Uint8Array, masterKeyId: string): Uint8Array {
  const wrapKey = deriveSubkey(slotKey, 'slot-tpm', masterKeyId);
  wipe(slotKey);
  const masterKey = open(wrapKey, slot, slotAad(slot, masterKeyId));
  wipe(wrapKey);
  if (!masterKey) throw new NoteSealError('WRONG_KEY', `The TPM's answer does not open the unlock slot "${slot.name}" (the slot was altered).`);
  return masterKey;
}

/** Opens either kind with its secret: the ECDH output (pkcs11) or the decrypted slot key (tpm). Wipes `secret`. */
export function openSlot(slot: Slot, secret: Uint8Array, masterKeyId: string): Uint8Array {
  return slot.kind === 'pkcs11' ? openPkcs11Slot(slot, secret, masterKeyId) : openTpmSlot(slot, secret, masterKeyId);
}

/** The slot wrapped again for another master key (a rotation): same token or TPM key, fresh randomness. */
export function rewrapSlot(slot: Slot, master: { id: string; key: Uint8Array }): Slot {
  return slot.kind === 'pkcs11'
    ? wrapPkcs11Slot({ name: slot.name, created: slot.created, token: slot.token, keyId: slot.keyId, publicKey: slot.publicKey }, master)
    : wrapTpmSlot({ name: slot.name, created: slot.created, pin: slot.pin, tpmPublic: slot.tpmPublic, tpmPrivate: slot.tpmPrivate, publicKey: slot.publicKey }, master);
}

/**
 * The master key from the token's ECDH output (the x coordinate, 32 bytes). Wipes `sharedSecret`.
 * WRONG_KEY when it does not open the slot: another token's key under the same label and id, or an altered slot.
 */
export function openPkcs11Slot(slot: Pkcs11Slot, sharedSecret: Uint8Array, masterKeyId: string): Uint8Array {
  const wrapKey = wrapKeyFrom(sharedSecret, masterKeyId);
  wipe(sharedSecret);
  const masterKey = open(wrapKey, slot, slotAad(slot, masterKeyId));
  wipe(wrapKey);
  if (!masterKey) {
    throw new NoteSealError('WRONG_KEY', `The token "${slot.token}" does not open the unlock slot "${slot.name}" (another token with the same label, or the slot was altered).`);
  }
  return masterKey;
}

// ---- JSON form (inside the keyfile) ---------------------------------------------------------------------

export type SlotJson = Record<string, string | boolean>;

export function slotToJson(slot: Slot): SlotJson {
  const head = { kind: slot.kind, name: slot.name, created: slot.created };
  const tail = { nonce: toBase64(slot.nonce), ciphertext: toBase64(slot.ciphertext) };
  return slot.kind === 'pkcs11'
    ? { ...head, token: slot.token, keyId: slot.keyId, publicKey: toBase64(slot.publicKey), ephemeralKey: toBase64(slot.ephemeralKey), ...tail }
    : { ...head, pin: slot.pin, tpmPublic: toBase64(slot.tpmPublic), tpmPrivate: toBase64(slot.tpmPrivate),
      publicKey: toBase64(slot.publicKey), sealedKey: toBase64(slot.sealedKey), ...tail };
}

/** The canonical form the keyfile MAC covers: the JSON fields' values in their fixed order. */
export function slotMacInput(slot: Slot): (string | boolean)[] {
  return Object.values(slotToJson(slot));
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3})?Z$/;

/** Structural check of one slot; `damaged(why)` makes the keyfile's DAMAGED_KEYFILE error. */
export function parseSlot(v: unknown, index: number, damaged: (why: string) => NoteSealError): Slot {
  const where = `unlock slot ${index + 1}`;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw damaged(`${where} is malformed.`);
  const j = v as Record<string, unknown>;
  if (j.kind !== 'pkcs11' && j.kind !== 'tpm') throw damaged(`${where} has an unknown kind (${JSON.stringify(j.kind)?.slice(0, 40) ?? 'none'}): written by a newer NoteSeal?`);
  const text = (field: string): string => {
    const value = j[field];
    if (typeof value !== 'string') throw damaged(`${where} has no ${field}.`);
    return value;
  };
  const name = text('name');
  if (!SLOT_NAME.test(name) || (RESERVED_SLOT_NAMES as readonly string[]).includes(name.toLowerCase())) throw damaged(`${where} has a malformed name.`);
  const created = text('created');
  if (!ISO_UTC.test(created) || Number.isNaN(Date.parse(created))) throw damaged(`${where} has a malformed creation date.`);
  const sealed = (): Sealed => {
    const nonce = fromBase64(text('nonce'));
    const ciphertext = fromBase64(text('ciphertext'));
    if (!nonce || nonce.length !== 12) throw damaged(`${where} has a bad nonce.`);
    if (!ciphertext || ciphertext.length !== KEY_LENGTH + 16) throw damaged(`${where} has a bad wrapped key.`);
    return { nonce, ciphertext };
  };
  if (j.kind === 'tpm') {
    if (typeof j.pin !== 'boolean') throw damaged(`${where} has no pin flag.`);
    const blob = (field: string, max: number): Uint8Array => {
      const bytes = fromBase64(text(field));
      if (!bytes || bytes.length === 0 || bytes.length > max) throw damaged(`${where} has a malformed ${field}.`);
      return bytes;
    };
    const tpmPublic = blob('tpmPublic', 1024);
    const tpmPrivate = blob('tpmPrivate', 1024);
    const publicKey = blob('publicKey', 1024);
    try { rsaKey(publicKey, 'publicKey'); } catch { throw damaged(`${where} has a publicKey that is not an RSA-2048 key.`); }
    const sealedKey = blob('sealedKey', 256);
    if (sealedKey.length !== 256) throw damaged(`${where} has a malformed sealedKey.`);
    return { kind: 'tpm', name, created, pin: j.pin, tpmPublic, tpmPrivate, publicKey, sealedKey, ...sealed() };
  }
  const token = text('token');
  if (token.length === 0 || token.length > 32 || [...token].some(c => c.charCodeAt(0) < 0x20)) throw damaged(`${where} has a malformed token label.`);
  const keyId = text('keyId');
  const keyIdBytes = fromHex(keyId);
  if (!keyIdBytes || keyIdBytes.length === 0 || keyIdBytes.length > 64) throw damaged(`${where} has a malformed key id.`);
  const spki = (field: string): Uint8Array => {
    const bytes = fromBase64(text(field));
    if (!bytes || bytes.length !== P256_SPKI_LENGTH) throw damaged(`${where} has a malformed ${field}.`);
    try { p256Key(bytes, field); } catch { throw damaged(`${where} has a ${field} that is not a P-256 key.`); }
    return bytes;
  };
  const publicKey = spki('publicKey');
  const ephemeralKey = spki('ephemeralKey');
  return { kind: 'pkcs11', name, created, token, keyId, publicKey, ephemeralKey, ...sealed() };
}

/** The list as a whole: an array of at most MAX_SLOTS slots with distinct names. */
export function parseSlotList(v: unknown, damaged: (why: string) => NoteSealError): Slot[] {
  if (!Array.isArray(v) || v.length === 0) throw damaged('the unlock slot list is malformed.');
  if (v.length > MAX_SLOTS) throw damaged(`it lists ${v.length} unlock slots (at most ${MAX_SLOTS}).`);
  const slots = v.map((s, i) => parseSlot(s, i, damaged));
  if (new Set(slots.map(s => s.name)).size !== slots.length) throw damaged('two unlock slots have the same name.');
  return slots;
}
