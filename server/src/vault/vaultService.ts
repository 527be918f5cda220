// The worker's vault: the keyring while unlocked, and the lock/unlock/setup operations. Keys live only
// here, in the worker's memory; lock() wipes them. The remembered master key is kept by the client in
// SecretStorage and fetched through the `secrets` bridge: the worker never writes it anywhere.
import fs from 'node:fs';
import { decryptBuffer } from '../crypto/format';
import { Keyring } from '../keys/keyring';
import { PRODUCTION_KDF_POLICY, type KdfPolicy } from '../keys/kdf';
import { generateSlotKey, listTokenLabels } from '../keys/pkcs11';
import { createTpmKey, tpmPresent } from '../keys/tpm';
import { checkSlotName, RESERVED_SLOT_NAMES, type Slot } from '../keys/slots';
import { canWorkNow, slotNeedsPin, slotWithModule, unlockThroughSlot } from '../keys/slot-use';
import type { RememberedSecret, SlotChoice, SlotRemoval, VaultState } from '../protocol';
import { TokenWatch } from './tokenWatch';
import { WorkerError } from './workerErrors';
import { withWipedDataKeys } from './dataKeys';
import { ageFormat } from '../formats/age-format';
import { openAgeBytes } from './ageNotes';

export interface SecretBridge {
  get(name: RememberedSecret): Promise<string | null>;
  store(name: RememberedSecret, value: string): Promise<void>;
  delete(name: RememberedSecret): Promise<void>;
}

export class VaultService {
  private keyring: Keyring;
  private readonly listeners: ((s: VaultState) => void)[] = [];
  private readonly tokenGoneListeners: ((slot: string, token: string) => void)[] = [];
  /** Polls the token while unlocked through a PKCS#11 slot with `watchToken` (tokenWatch.ts). */
  private tokenWatch: TokenWatch | undefined;
  /** The environment the token and TPM tools run in (the tests point SOFTHSM2_CONF / TPM2TOOLS_TCTI here). */
  env: NodeJS.ProcessEnv = process.env;

  /**
   * `kdf` is production unless the caller passes another policy; the worker never reads
   * NOTESEAL_TEST_FAST_KDF (only the CLI does, with a warning): see worker.ts.
   */
  constructor(readonly keyfilePath: string, private readonly secrets: SecretBridge, private readonly kdf: Readonly<KdfPolicy> = PRODUCTION_KDF_POLICY) {
    this.keyring = this.newKeyring();
  }

  private newKeyring(): Keyring {
    return new Keyring(this.keyfilePath, { kdf: this.kdf });
  }

  onDidChange(listener: (s: VaultState) => void): void { this.listeners.push(listener); }

  state(): VaultState {
    return {
      initialized: fs.existsSync(this.keyfilePath),
      locked: !this.keyring.isUnlocked,
      keyfile: this.keyfilePath,
      masterKeyId: this.keyring.masterKeyId,
    };
  }

  /** The token of the slot NoteSeal was unlocked with is gone (only with `watchToken`). */
  onTokenRemoved(listener: (slot: string, token: string) => void): void { this.tokenGoneListeners.push(listener); }

  private changed(): VaultState {
    const s = this.state();
    if (s.locked) this.stopTokenWatch();
    for (const l of this.listeners) l(s);
    return s;
  }

  /** The unlocked keyring, or LOCKED / NOT_INITIALIZED. */
  unlocked(): Keyring {
    if (this.keyring.isUnlocked) return this.keyring;
    if (!fs.existsSync(this.keyfilePath)) throw new WorkerError('NOT_INITIALIZED', 'NoteSeal is not set up yet: run "NoteSeal: Set Up Encryption".');
    throw new WorkerError('LOCKED', 'NoteSeal is locked: unlock it to read or save encrypted files.');
  }

  async init(passphrase: string, remember: boolean): Promise<{ recoveryKey: string; state: VaultState }> {
    const { keyring, recoveryKey } = await Keyring.init(this.keyfilePath, passphrase, { kdf: this.kdf });
    this.keyring.lock();
    this.keyring = keyring;
    if (remember) await this.remember();
    return { recoveryKey, state: this.changed() };
  }

  async unlock(passphrase: string, remember: boolean): Promise<VaultState> {
    this.requireInitialized();
    this.stopTokenWatch();
    await this.keyring.unlock(passphrase);
    if (remember) await this.remember();
    return this.changed();
  }

  /** Unlocks with the master key remembered on this device; LOCKED if none is remembered. */
  async unlockRemembered(): Promise<VaultState> {
    this.requireInitialized();
    const secret = await this.secrets.get('masterKey');
    if (!secret) throw new WorkerError('LOCKED', 'No key is remembered on this device.');
    try {
      await this.keyring.unlockWithRecoveryKey(secret);
    } catch (e) {
      // A stale remembered key (the master key was rotated elsewhere) is useless: forget it.
      await this.secrets.delete('masterKey');
      throw e;
    }
    return this.changed();
  }

  async unlockWithRecoveryKey(recoveryKey: string, newPassphrase: string): Promise<VaultState> {
    this.requireInitialized();
    await this.keyring.unlockWithRecoveryKey(recoveryKey, newPassphrase);
    return this.changed();
  }

  async forgetRemembered(): Promise<void> {
    await this.secrets.delete('masterKey');
  }

  /**
   * Change Passphrase proves the user knows the current passphrase (an unlocked, unattended window must
   * not be enough), then keeps SecretStorage consistent: the remembered key is re-stored or forgotten.
   */
  async changePassphrase(currentPassphrase: string, newPassphrase: string, remember: boolean): Promise<void> {
    const keyring = this.unlocked();
    const check = this.newKeyring();
    try { await check.unlock(currentPassphrase); } finally { check.lock(); }
    await keyring.changePassphrase(newPassphrase);
    if (remember) await this.remember();
    else await this.forgetRemembered();
  }

  /** Decrypts a whole `.enc` or age file's bytes in memory (a revision the client read: git, Timeline). */
  async decryptBytes(data: Uint8Array): Promise<Buffer> {
    if (ageFormat.sniff(data.subarray(0, 64))) return openAgeBytes(this.unlocked(), data, 'this revision');
    return withWipedDataKeys(this.unlocked().unwrap, unwrap => decryptBuffer(data, unwrap));
  }

  lock(): VaultState {
    this.stopTokenWatch();
    this.keyring.lock();
    return this.changed();
  }

  // ---- unlock slots (issue 28; keys/slots.ts) ----

  /** The keyfile's slots with whether each can work now; no tool runs when there is no slot. */
  async slots(pkcs11Module: string | null): Promise<SlotChoice[]> {
    if (!fs.existsSync(this.keyfilePath)) return [];
    const slots = await Keyring.readSlots(this.keyfilePath, { kdf: this.kdf });
    return Promise.all(slots.map(async slot => {
      const use = slotWithModule(slot, pkcs11Module);
      return slotChoice(slot, use !== null && await canWorkNow(use, this.env));
    }));
  }

  tokenLabels(pkcs11Module: string): Promise<string[]> {
    return listTokenLabels(pkcs11Module, this.env);
  }

  /**
   * Unlocks through the slot `name` with `pin` (WRONG_PIN with the tries left, TOKEN_ABSENT, WRONG_KEY for
   * another token under the same label). With `watchToken`, a PKCS#11 slot's token is then polled.
   */
  async unlockWithSlot(name: string, pin: string, pkcs11Module: string | null, watchToken: boolean): Promise<VaultState> {
    this.requireInitialized();
    const slot = (await Keyring.readSlots(this.keyfilePath, { kdf: this.kdf })).find(s => s.name === name);
    if (!slot) throw new WorkerError('KEY_NOT_FOUND', `The keyfile has no unlock slot named "${name}".`);
    const use = slotWithModule(slot, pkcs11Module);
    if (!use) throw new WorkerError('INVALID_ARGUMENT', `The unlock slot "${name}" is a PKCS#11 token: set noteseal.pkcs11.module (the token's PKCS#11 module) in your user settings.`);
    this.stopTokenWatch();
    const pinBytes = Buffer.from(pin, 'utf8');
    try { await unlockThroughSlot(this.keyring, use, pinBytes, this.env); } finally { pinBytes.fill(0); }
    if (watchToken && 'target' in use) {
      const { token } = use.target;
      this.tokenWatch = new TokenWatch(use.target, this.env, () => { for (const l of this.tokenGoneListeners) l(name, token); });
    }
    return this.changed();
  }

  /** Adds a PKCS#11 slot (the passphrase verified first, the slot name checked before the token makes a key). */
  async addPkcs11Slot(passphrase: string, pkcs11Module: string, token: string, name: string, pin: string): Promise<SlotChoice> {
    return this.withPassphraseKeyring(passphrase, async keyring => {
      checkSlotName(name, await Keyring.readSlots(this.keyfilePath, { kdf: this.kdf }));
      const pinBytes = Buffer.from(pin, 'utf8');
      try {
        const { keyId, publicKey } = await generateSlotKey({ module: pkcs11Module, token }, `noteseal ${name}`, pinBytes, this.env);
        return slotChoice(await keyring.addPkcs11Slot({ name, token, keyId, publicKey }), true);
      } finally {
        pinBytes.fill(0);
      }
    });
  }

  tpmPresent(): Promise<boolean> {
    return tpmPresent(this.env);
  }

  /** Adds a TPM slot (`noteseal unlock add tpm [--pin]`): a key made in this machine's TPM; `pin` null: none. */
  async addTpmSlot(passphrase: string, name: string, pin: string | null): Promise<SlotChoice> {
    if (pin !== null && pin.length === 0) throw new WorkerError('INVALID_ARGUMENT', 'The PIN is empty: give one, or add the slot without a PIN.');
    return this.withPassphraseKeyring(passphrase, async keyring => {
      checkSlotName(name, await Keyring.readSlots(this.keyfilePath, { kdf: this.kdf }));
      const pinBytes = pin === null ? null : Buffer.from(pin, 'utf8');
      try {
        const key = await createTpmKey(pinBytes, this.env);
        return slotChoice(await keyring.addTpmSlot({ name, pin: pinBytes !== null, ...key }), true);
      } finally {
        pinBytes?.fill(0);
      }
    });
  }

  /** Removes a slot, then with `rotate` rotates the master key (rewrapping the other slots and `folder`'s files). */
  async removeSlot(passphrase: string, name: string, rotate: boolean, folder: string | null): Promise<SlotRemoval> {
    if ((RESERVED_SLOT_NAMES as readonly string[]).includes(name.toLowerCase())) {
      throw new WorkerError('INVALID_ARGUMENT', 'The passphrase and the recovery key are not unlock slots: they always open the keyfile and cannot be removed (change the passphrase instead).');
    }
    return this.withPassphraseKeyring(passphrase, async keyring => {
      await keyring.removeSlot(name);
      if (!rotate) return { recoveryKey: null, rewrapped: 0, failed: [] };
      const result = await keyring.rotate(folder ?? undefined);
      return { recoveryKey: result.recoveryKey, rewrapped: result.files.rewrapped, failed: result.files.failed.map(f => ({ path: f.file, message: f.message })) };
    });
  }

  /**
   * Runs a slot change on a keyring unlocked with `passphrase` (slot changes need the passphrase's KEK, and an
   * unlocked window is not proof enough). If NoteSeal was unlocked, that keyring then replaces the one held
   * (it read the keyfile just written), and a key remembered on this device follows a rotation; otherwise it
   * is locked again: a slot change does not unlock.
   */
  private async withPassphraseKeyring<T>(passphrase: string, change: (keyring: Keyring) => Promise<T>): Promise<T> {
    this.requireInitialized();
    const keyring = this.newKeyring();
    await keyring.unlock(passphrase);
    const before = keyring.masterKeyId;
    try {
      const result = await change(keyring);
      const rotated = keyring.masterKeyId !== before;
      const remembered = rotated && await this.secrets.get('masterKey') !== null;
      if (this.keyring.isUnlocked) {
        this.keyring.lock();
        this.keyring = keyring;
        if (remembered) await this.remember(); // the remembered key follows the rotation
        this.changed();
      } else {
        if (remembered) await this.secrets.delete('masterKey'); // stale now; unlocking asks again
        keyring.lock();
      }
      return result;
    } catch (e) {
      keyring.lock();
      throw e;
    }
  }

  private stopTokenWatch(): void {
    this.tokenWatch?.stop();
    this.tokenWatch = undefined;
  }

  private async remember(): Promise<void> {
    await this.secrets.store('masterKey', this.keyring.exportMasterKey());
  }

  private requireInitialized(): void {
    if (!fs.existsSync(this.keyfilePath)) throw new WorkerError('NOT_INITIALIZED', 'NoteSeal is not set up yet: run "NoteSeal: Set Up Encryption".');
  }
}

function slotChoice(slot: Slot, available: boolean): SlotChoice {
  return { name: slot.name, kind: slot.kind, created: slot.created, ...(slot.kind === 'pkcs11' ? { token: slot.token } : {}), needsPin: slotNeedsPin(slot), available };
}
