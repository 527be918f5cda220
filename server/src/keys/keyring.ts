// The Keyring: what the worker (and the CLI) hold while NoteSeal is unlocked. It owns the master keys in
// memory, wraps fresh per-file data keys into stanzas, unwraps them for the format, and carries out the
// keyfile operations (change passphrase, rotate, shred). `lock()` zeroes every key buffer it holds.
import fs from 'node:fs/promises';
import path from 'node:path';
import { NoteSealError } from '../crypto/errors';
import { openRegularFile } from '../crypto/safe-open';
import { deriveFileKeys } from '../crypto/derive';
import { readHeaderFromHandle } from '../crypto/file-io';
import type { Stanza, UnwrapDataKey } from '../crypto/format';
import { headerMacMatches, type ParsedHeader } from '../crypto/header';
import { KEY_LENGTH } from './aead';
import { constantTimeEqual, randomKey, wipe } from './bytes';
import { calibrateKdf, deriveKek, PRODUCTION_KDF_POLICY, SALT_LENGTH, type KdfPolicy } from './kdf';
import {
  buildKeyfile, createKeyfileExclusive, keyfileExists, keyfileLockPath, masterKeyIdOf, readKeyfile, unwrapWithKek,
  unwrapWithMasterKey, wipeMasterKeys, writeKeyfile, type Keyfile, type KeyfileKdf, type MasterKeys,
} from './keyfile';
import { withLock } from './lockfile';
import {
  createDetachedKey, keystoreDirFor, loadDetachedKey, rewrapDetachedKeys, shredDetachedKey,
} from './keystore';
import { decodeRecoveryKey, encodeRecoveryKey } from './recovery-key';
import { rewrapFolder, type OnRotationProgress, type RotationReport } from './rotation';
import { detachedStanza, parseStanza, unwrapDataKeyStanza, wrapDataKeyStanza } from './stanzas';
import { generateIdentity, loadIdentity, rewrapIdentity, storeIdentity, wipeIdentity, type HeldIdentity } from './identity';
import { importAgeIdentities, loadAgeIdentities, rewrapAgeIdentities } from './age-identities';
import { FilePassphrases } from './file-passphrases';
import { importDotenvxKeys, loadDotenvxKey, rewrapDotenvxKeys } from './dotenvx-keys';
import { recipientStanzas, unwrapWithReceivingKeys, type ReceivingKey, type Recipient } from './recipients';
import { checkSlotName, openSlot, rewrapSlot, wrapPkcs11Slot, wrapTpmSlot, type Pkcs11Slot, type Slot, type TpmSlot } from './slots';

export type Passphrase = string | Uint8Array;

/** How long a keyfile change waits for another process's change (a write takes milliseconds). */
const KEYFILE_LOCK_WAIT_MS = 10_000;

export interface KeyringOptions {
  /** KDF calibration and floor. Default: production (about 1 s, never below m=64 MiB, t=3). */
  kdf?: Readonly<KdfPolicy>;
  /** Where detached data keys live. Default: beside the keyfile (`keyfile.keys/`). */
  keystoreDir?: string;
}

export interface NewFileKeys {
  /** The fresh data key for this file; the caller wipes it after encrypting. */
  dataKey: Uint8Array;
  stanzas: Stanza[];
  /** For a detached key: its id in the key store (what `shred` takes). */
  detachedKeyId?: string;
}

export interface RotationResult {
  /** The recovery key for the new master key: the old one no longer unlocks this keyfile. */
  recoveryKey: string;
  masterKeyId: string;
  detachedKeysRewrapped: number;
  files: RotationReport;
}

/**
 * Bytes from a file, a descriptor or a terminal as text. Invalid UTF-8 is refused rather than decoded
 * lossily: U+FFFD replacements would make different byte strings the same passphrase.
 */
function strictUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new NoteSealError('INVALID_ARGUMENT', 'The passphrase is not valid UTF-8 text (check the passphrase file\'s encoding).');
  }
}

/** UTF-8 bytes of the passphrase in Unicode NFC, so the same words typed anywhere give the same key. */
function passphraseBytes(passphrase: Passphrase): Uint8Array {
  const bytes = typeof passphrase === 'string'
    ? new TextEncoder().encode(passphrase.normalize('NFC'))
    : passphrase.some(b => b >= 0x80)
      ? new TextEncoder().encode(strictUtf8(passphrase).normalize('NFC'))
      : passphrase.slice();
  if (bytes.length === 0) throw new NoteSealError('INVALID_ARGUMENT', 'The passphrase is empty.');
  return bytes;
}

async function newKdfAndKek(passphrase: Passphrase, policy: Readonly<KdfPolicy>): Promise<{ kdf: KeyfileKdf; kek: Uint8Array }> {
  const pass = passphraseBytes(passphrase);
  try {
    const params = await calibrateKdf(policy);
    const kdf = { ...params, salt: randomKey(SALT_LENGTH) };
    return { kdf, kek: await deriveKek(pass, kdf.salt, params) };
  } finally {
    wipe(pass);
  }
}

async function kekFor(passphrase: Passphrase, kf: Keyfile): Promise<Uint8Array> {
  const pass = passphraseBytes(passphrase);
  try { return await deriveKek(pass, kf.kdf.salt, kf.kdf); } finally { wipe(pass); }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(() => true, () => false);
}

export class Keyring {
  private keys: MasterKeys | null = null;
  /** Kept while unlocked so a rotation can wrap the new master key without asking for the passphrase again. */
  private kek: Uint8Array | null = null;
  private kdf: KeyfileKdf | null = null;
  /** The keyfile's MAC as last read or written: lets us refuse to overwrite a keyfile another process changed. */
  private loadedMac: Uint8Array | null = null;
  /** The keyfile's unlock slots as last read or written (they wrap the current master key). */
  private slots: Slot[] = [];
  private readonly policy: Readonly<KdfPolicy>;
  /** The keyfile's identity while unlocked (undefined: not loaded yet; null: this keyfile has none). */
  private heldIdentity: HeldIdentity | null | undefined = undefined;
  /** Passphrases of passphrase (scrypt) age files the user gave while unlocked; wiped by lock(). */
  readonly filePassphrases = new FilePassphrases();
  readonly keystoreDir: string;

  constructor(readonly keyfilePath: string, options: KeyringOptions = {}) {
    this.policy = options.kdf ?? PRODUCTION_KDF_POLICY;
    this.keystoreDir = options.keystoreDir ?? keystoreDirFor(keyfilePath);
  }

  /** Setup: creates the master key and the keyfile. Returns the unlocked keyring and the recovery key (show it once). */
  static async init(keyfilePath: string, passphrase: Passphrase, options: KeyringOptions = {}): Promise<{ keyring: Keyring; recoveryKey: string }> {
    if (await exists(keyfilePath)) throw keyfileExists(keyfilePath);
    const keyring = new Keyring(keyfilePath, options);
    const { kdf, kek } = await newKdfAndKek(passphrase, keyring.policy);
    const masterKey = randomKey(KEY_LENGTH);
    const keys: MasterKeys = { current: { id: masterKeyIdOf(masterKey), key: masterKey }, retired: [] };
    try {
      // Another init may have finished during the calibration: create exclusively, never rename over it.
      await keyring.save(keys, kek, kdf, { create: true });
    } catch (e) {
      wipeMasterKeys(keys);
      wipe(kek);
      throw e;
    }
    await keyring.ensureIdentity();
    return { keyring, recoveryKey: encodeRecoveryKey(masterKey) };
  }

  get isUnlocked(): boolean {
    return this.keys !== null;
  }

  /** The current master key's id (not secret), or null while locked. */
  get masterKeyId(): string | null {
    return this.keys?.current.id ?? null;
  }

  /** WRONG_PASSPHRASE for a wrong passphrase; DAMAGED_KEYFILE for a keyfile that is malformed or altered. */
  async unlock(passphrase: Passphrase): Promise<void> {
    const kf = await readKeyfile(this.keyfilePath, this.policy.floor);
    const kek = await kekFor(passphrase, kf);
    let keys: MasterKeys;
    try { keys = unwrapWithKek(kf, kek); } catch (e) { wipe(kek); throw e; }
    this.adopt(keys, kek, kf);
  }

  /**
   * Unlocks with the printable recovery key. With `newPassphrase` the keyfile is rewritten under it
   * (the "forgot my passphrase" path); without, the keyring is unlocked but cannot rotate until one is set.
   */
  async unlockWithRecoveryKey(recoveryKey: string, newPassphrase?: Passphrase): Promise<void> {
    const kf = await readKeyfile(this.keyfilePath, this.policy.floor);
    const keys = unwrapWithMasterKey(kf, decodeRecoveryKey(recoveryKey), 'WRONG_KEY');
    this.adopt(keys, null, kf);
    if (newPassphrase !== undefined) await this.changePassphrase(newPassphrase);
  }

  private adopt(keys: MasterKeys, kek: Uint8Array | null, kf: Keyfile): void {
    this.lock();
    this.keys = keys;
    this.kek = kek;
    this.kdf = kf.kdf;
    this.loadedMac = kf.mac;
    this.slots = kf.slots;
  }

  /**
   * Unlocks through an unlock slot (slots.ts). `slotSecret` gets the slot's secret from its device: the ECDH
   * output from the token (keys/pkcs11.ts) or the slot key the TPM decrypts (keys/tpm.ts). KEY_NOT_FOUND for an unknown slot name; WRONG_KEY when the
   * token's answer does not open the slot; DAMAGED_KEYFILE when the keyfile was altered (its MAC).
   * Unlocked this way the keyring holds no KEK: changing the passphrase works, rotating and slot changes need it.
   */
  async unlockWithSlot(name: string, slotSecret: (slot: Slot) => Promise<Uint8Array>): Promise<void> {
    const kf = await readKeyfile(this.keyfilePath, this.policy.floor);
    const slot = kf.slots.find(s => s.name === name);
    if (!slot) throw new NoteSealError('KEY_NOT_FOUND', `The keyfile has no unlock slot named "${name}".`);
    const masterKey = openSlot(slot, await slotSecret(slot), kf.masterKeyId);
    this.adopt(unwrapWithMasterKey(kf, masterKey, 'DAMAGED_KEYFILE'), null, kf);
  }

  /** The unlock slots of the keyfile on disk, read without unlocking (names, kinds, dates, token labels). */
  static async readSlots(keyfilePath: string, options: KeyringOptions = {}): Promise<Slot[]> {
    return (await readKeyfile(keyfilePath, (options.kdf ?? PRODUCTION_KDF_POLICY).floor)).slots;
  }

  /** Adds a PKCS#11 slot wrapping the current master key to the token key `publicKey` (the token is not needed). */
  addPkcs11Slot(fields: { name: string; token: string; keyId: string; publicKey: Uint8Array }, now = new Date()): Promise<Pkcs11Slot> {
    return this.addSlot(fields.name, master => wrapPkcs11Slot({ ...fields, created: now.toISOString() }, master));
  }

  /** Adds a TPM slot wrapping the current master key to the TPM key's public half (keys/tpm.ts made the key). */
  addTpmSlot(fields: { name: string; pin: boolean; tpmPublic: Uint8Array; tpmPrivate: Uint8Array; publicKey: Uint8Array }, now = new Date()): Promise<TpmSlot> {
    return this.addSlot(fields.name, master => wrapTpmSlot({ ...fields, created: now.toISOString() }, master));
  }

  private async addSlot<S extends Slot>(name: string, wrap: (master: MasterKeys['current']) => S): Promise<S> {
    const keys = this.requireKeys();
    const kek = this.requireKek('add an unlock slot');
    checkSlotName(name, this.slots);
    const slot = wrap(keys.current);
    await this.save(keys, kek.slice(), this.kdf!, { slots: [...this.slots, slot] });
    return slot;
  }

  /** Removes a slot. Older copies of the keyfile still open with it: rotate to cut it off (`unlock remove --rotate`). */
  async removeSlot(name: string): Promise<Slot> {
    const keys = this.requireKeys();
    const kek = this.requireKek('remove an unlock slot');
    const slot = this.slots.find(s => s.name === name);
    if (!slot) throw new NoteSealError('KEY_NOT_FOUND', `The keyfile has no unlock slot named "${name}".`);
    await this.save(keys, kek.slice(), this.kdf!, { slots: this.slots.filter(s => s !== slot) });
    return slot;
  }

  private requireKek(what: string): Uint8Array {
    if (!this.kek || !this.kdf) {
      throw new NoteSealError('INVALID_ARGUMENT', `To ${what}, unlock with the passphrase (not the recovery key or an unlock slot).`);
    }
    return this.kek;
  }

  /**
   * The current master key in its printable form, for "remember on this device" (the OS keychain through
   * VS Code's SecretStorage). The caller must not log or persist it anywhere else.
   */
  exportMasterKey(): string {
    return encodeRecoveryKey(this.requireKeys().current.key);
  }

  /** Forgets every key, zeroing the buffers first. Safe to call when already locked. */
  lock(): void {
    if (this.keys) wipeMasterKeys(this.keys);
    wipe(this.kek);
    wipeIdentity(this.heldIdentity);
    this.heldIdentity = undefined;
    this.filePassphrases.wipeAll();
    this.keys = null;
    this.kek = null;
    this.kdf = null;
    this.loadedMac = null;
    this.slots = [];
  }

  private requireKeys(): MasterKeys {
    if (!this.keys) throw new NoteSealError('INVALID_ARGUMENT', 'NoteSeal is locked: unlock it first.');
    return this.keys;
  }

  /** This keyfile's identity (its secret keys stay in the keyring), or null if it has none yet. */
  async identity(): Promise<HeldIdentity | null> {
    const keys = this.requireKeys();
    if (this.heldIdentity === undefined) {
      const loaded = await loadIdentity(this.keystoreDir, keys);
      if (this.keys !== keys) { wipeIdentity(loaded); return this.identity(); } // locked or re-unlocked meanwhile
      this.heldIdentity = loaded;
    }
    return this.heldIdentity;
  }

  /** The identity, created (X-Wing + Ed25519) and stored if this keyfile has none. */
  async ensureIdentity(): Promise<{ identity: HeldIdentity; created: boolean }> {
    const existing = await this.identity();
    if (existing) return { identity: existing, created: false };
    const fresh = generateIdentity();
    const stored = await storeIdentity(this.keystoreDir, fresh, this.requireKeys().current, { create: true });
    if (!stored) { // another process created one first: that one is the identity
      wipeIdentity(fresh);
      this.heldIdentity = undefined;
      const theirs = await this.identity();
      if (!theirs) throw new NoteSealError('DAMAGED_KEYFILE', 'The identity vanished while it was being created.');
      return { identity: theirs, created: false };
    }
    wipeIdentity(this.heldIdentity);
    this.heldIdentity = fresh;
    return { identity: fresh, created: true };
  }

  /**
   * The receiving keys that open age files: this keyfile's identity (an age1pq1 identity when X-Wing) and
   * every imported age identity (age-identities.ts). Copies: the caller wipes their secrets.
   */
  async ageReceivingKeys(): Promise<ReceivingKey[]> {
    const keys = this.requireKeys();
    const own = (await this.identity())?.receiving;
    const imported = await loadAgeIdentities(this.keystoreDir, keys);
    return own ? [{ ...own, secretKey: new Uint8Array(own.secretKey) }, ...imported] : imported;
  }

  /** Seals age identities (from an identity file) into the key store under the current master key. */
  async importAgeIdentities(keys: readonly ReceivingKey[]): Promise<{ added: string[]; already: string[] }> {
    return importAgeIdentities(this.keystoreDir, keys, this.requireKeys().current);
  }

  /** Seals dotenvx private keys (from a .env.keys file) into the key store under the current master key. */
  async importDotenvxKeys(secrets: readonly Uint8Array[]): Promise<{ added: string[]; already: string[] }> {
    return importDotenvxKeys(this.keystoreDir, secrets, this.requireKeys().current);
  }

  /** The imported dotenvx private key for a DOTENV_PUBLIC_KEY (hex), or null (the caller wipes it). */
  async dotenvxSecretKey(publicKeyHex: string): Promise<Uint8Array | null> {
    return loadDotenvxKey(this.keystoreDir, this.requireKeys(), publicKeyHex);
  }

  /** A fresh random data key for a new file, and the stanzas that let this keyring find it again. */
  async newFileStanzas(options: { detached?: boolean; recipients?: readonly Recipient[] } = {}): Promise<NewFileKeys> {
    const { current } = this.requireKeys();
    const recipients = options.recipients ?? [];
    if (options.detached) {
      // A shared data key could never be shredded: detached keys stay single-user.
      if (recipients.length > 0) throw new NoteSealError('INVALID_ARGUMENT', 'A detached (shreddable) key cannot be shared with recipients.');
      const { keyId, dataKey } = await createDetachedKey(this.keystoreDir, current);
      return { dataKey, stanzas: [detachedStanza(keyId)], detachedKeyId: keyId };
    }
    const dataKey = randomKey(KEY_LENGTH);
    try {
      return { dataKey, stanzas: await this.stanzasFor(dataKey, recipients) };
    } catch (e) { wipe(dataKey); throw e; }
  }

  /**
   * The stanzas of an existing data key: this keyfile's type-1 stanza and one per other recipient (what
   * `updatekeys` writes into a header without touching the content).
   */
  async stanzasFor(dataKey: Uint8Array, recipients: readonly Recipient[]): Promise<Stanza[]> {
    const { current } = this.requireKeys();
    const own = recipients.length > 0 ? (await this.identity())?.receiving : undefined;
    return [wrapDataKeyStanza(current, dataKey), ...recipientStanzas(recipients, dataKey, own)];
  }

  /**
   * For the format's decrypt functions: the data key from the first stanza we can open. WRONG_KEY when no
   * key we hold fits; KEY_NOT_FOUND when the file's detached key was shredded. Returns a fresh buffer.
   */
  readonly unwrap = (async (stanzas: readonly Stanza[]): Promise<Uint8Array> => {
    const keys = this.requireKeys();
    let detachedError: unknown = null;
    const foreignIds: string[] = [];
    for (const stanza of stanzas.map(parseStanza)) {
      if (stanza.kind === 'master-wrapped') {
        const master = [keys.current, ...keys.retired].find(k => k.id === stanza.masterKeyId);
        if (!master) { foreignIds.push(stanza.masterKeyId); continue; }
        const dataKey = unwrapDataKeyStanza(stanza, master);
        if (dataKey) return dataKey;
      } else if (stanza.kind === 'detached') {
        try { return await loadDetachedKey(this.keystoreDir, stanza.keyId, keys); } catch (e) { detachedError ??= e; }
      }
    }
    // Shared to this keyfile's identity (stanza types 4 and 5).
    const identity = await this.identity().catch(() => null);
    const shared = identity ? unwrapWithReceivingKeys(stanzas, [identity.receiving]) : null;
    if (shared) return shared;
    if (detachedError) throw detachedError;
    if (foreignIds.length > 0 && await this.reloadIfRotatedElsewhere()) return this.unwrap(stanzas);
    throw new NoteSealError('WRONG_KEY', foreignIds.length > 0
      ? `This file was encrypted for master key ${foreignIds.join(', ')}, which this keyfile does not hold.`
      : 'No key in this keyfile opens this file (or its header was altered).');
  }) satisfies UnwrapDataKey;

  /**
   * Another process (the CLI) may have rotated the keyfile while we were unlocked. If the keyfile on disk
   * differs but still opens with our KEK (same passphrase and KDF salt), adopt it. Returns true if adopted.
   */
  private async reloadIfRotatedElsewhere(): Promise<boolean> {
    if (!this.kek || !this.kdf || !this.loadedMac) return false;
    let kf: Keyfile;
    try { kf = await readKeyfile(this.keyfilePath, this.policy.floor); } catch { return false; }
    if (constantTimeEqual(kf.mac, this.loadedMac) || !constantTimeEqual(kf.kdf.salt, this.kdf.salt)) return false;
    let keys: MasterKeys;
    try { keys = unwrapWithKek(kf, this.kek); } catch { return false; }
    this.adopt(keys, this.kek.slice(), kf);
    return true;
  }

  /** Rewraps only the master key, under a new salt and freshly calibrated KDF parameters. */
  async changePassphrase(newPassphrase: Passphrase): Promise<void> {
    const keys = this.requireKeys();
    await this.refuseIfChangedOnDisk();   // early, before a second of calibration; save() checks again under the lock
    const { kdf, kek } = await newKdfAndKek(newPassphrase, this.policy);
    try { await this.save(keys, kek, kdf); } catch (e) { wipe(kek); throw e; }
  }

  /**
   * New master key; the old one is retired (kept in the keyfile, wrapped under the new one) so files not
   * yet rewrapped stay readable. Then the key store and every `.enc` file below `folder` are rewrapped
   * without re-encrypting content. Files elsewhere keep working through the retired key.
   */
  async rotate(folder?: string, onProgress?: OnRotationProgress): Promise<RotationResult> {
    const keys = this.requireKeys();
    if (!this.kek || !this.kdf) {
      throw new NoteSealError('INVALID_ARGUMENT', 'Set a new passphrase before rotating (unlocked with the recovery key), or unlock with the passphrase (not an unlock slot).');
    }
    await this.refuseIfChangedOnDisk();
    const masterKey = randomKey(KEY_LENGTH);
    const rotated: MasterKeys = {
      current: { id: masterKeyIdOf(masterKey), key: masterKey },
      retired: [keys.current, ...keys.retired],
    };
    try {
      // Every slot is rewrapped for the new master key (a pkcs11 slot needs only its token's public key).
      await this.save(rotated, this.kek, this.kdf, { slots: this.slots.map(s => rewrapSlot(s, rotated.current)) });
    } catch (e) {
      wipe(masterKey);
      throw e;
    }
    const detachedKeysRewrapped = await rewrapDetachedKeys(this.keystoreDir, rotated);
    await rewrapIdentity(this.keystoreDir, rotated);
    await rewrapAgeIdentities(this.keystoreDir, rotated);
    await rewrapDotenvxKeys(this.keystoreDir, rotated);
    const files = folder === undefined
      ? { rewrapped: 0, alreadyCurrent: 0, detached: 0, failed: [] }
      : await rewrapFolder(folder, rotated.current, this.unwrap, onProgress);
    return { recoveryKey: encodeRecoveryKey(masterKey), masterKeyId: rotated.current.id, detachedKeysRewrapped, files };
  }

  /** Destroys a detached data key: files using it become unreadable for good (KEY_NOT_FOUND). */
  async shred(keyId: string): Promise<void> {
    await shredDetachedKey(this.keystoreDir, keyId);
  }

  /**
   * The detached key id of `file` that is proven to be its own: the first detached stanza whose data key
   * verifies the header MAC. Key ids are public (any header shows them), so a crafted header may name other
   * recordings' keys; those fail the MAC and are never returned. INVALID_ARGUMENT when the file has no
   * detached stanza; KEY_NOT_FOUND when its key is already gone; WRONG_KEY when no listed key verifies it.
   */
  async verifiedDetachedKeyId(file: string): Promise<string> {
    const keys = this.requireKeys();
    const handle = await openRegularFile(file);
    let header: ParsedHeader;
    try { header = (await readHeaderFromHandle(handle)).header; } finally { await handle.close(); }
    const ids = detachedKeyIdsOf(header.stanzas);
    if (ids.length === 0) throw new NoteSealError('INVALID_ARGUMENT', 'This file has no detached key to shred (it was not encrypted with --detached, and it is not a recording).');
    let missing: unknown = null;
    for (const keyId of ids) {
      let dataKey: Uint8Array;
      try { dataKey = await loadDetachedKey(this.keystoreDir, keyId, keys); } catch (e) { missing ??= e; continue; }
      const fileKeys = deriveFileKeys(dataKey, header.salt, header.prefix);
      const verified = headerMacMatches(header, fileKeys.headerMacKey);
      fileKeys.dispose();
      wipe(dataKey);
      if (verified) return keyId;
    }
    if (missing && ids.length === 1) throw missing;
    throw new NoteSealError('WRONG_KEY', 'No detached key this file names verifies its header (the header was altered or crafted): nothing was shredded.');
  }

  /** Shreds the one detached key that verifiably belongs to `file` (see verifiedDetachedKeyId); returns its id. */
  async shredFileKey(file: string): Promise<string> {
    const keyId = await this.verifiedDetachedKeyId(file);
    await this.shred(keyId);
    return keyId;
  }

  /**
   * Writes the keyfile for `keys` and makes it this keyring's state (takes ownership of kek on success).
   * Holds the keyfile lock, and under it re-checks that the keyfile on disk is still the one we read (or,
   * with `create`, creates it exclusively): two windows or the CLI changing it at once never lose a master key.
   */
  private async save(keys: MasterKeys, kek: Uint8Array, kdf: KeyfileKdf, opts: { create?: boolean; slots?: Slot[] } = {}): Promise<void> {
    const kf = buildKeyfile(keys, kek, kdf, opts.slots ?? this.slots);
    await fs.mkdir(path.dirname(this.keyfilePath), { recursive: true, mode: 0o700 });
    await withLock(keyfileLockPath(this.keyfilePath), { waitMs: KEYFILE_LOCK_WAIT_MS, what: 'The keyfile' }, async () => {
      if (opts.create) {
        await createKeyfileExclusive(this.keyfilePath, kf);
      } else {
        await this.refuseIfChangedOnDisk();
        await writeKeyfile(this.keyfilePath, kf);
      }
    });
    if (this.kek && this.kek !== kek) wipe(this.kek);
    this.keys = keys;
    this.kek = kek;
    this.kdf = kf.kdf;
    this.loadedMac = kf.mac;
    this.slots = kf.slots;
  }

  /** Never clobber a keyfile that changed since we read it: its new master key would be lost. */
  private async refuseIfChangedOnDisk(): Promise<void> {
    const onDisk = await readKeyfile(this.keyfilePath, this.policy.floor);
    if (!this.loadedMac || !constantTimeEqual(onDisk.mac, this.loadedMac)) {
      throw new NoteSealError('INVALID_ARGUMENT', 'The keyfile changed on disk since it was unlocked; lock and unlock again, then retry.');
    }
  }
}

/** The detached key ids a file's stanzas reference (for `shred` by file). */
export function detachedKeyIdsOf(stanzas: readonly Stanza[]): string[] {
  return stanzas.map(parseStanza).flatMap(s => (s.kind === 'detached' ? [s.keyId] : []));
}
