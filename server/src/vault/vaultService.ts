// The worker's vault: the keyring while unlocked, and the lock/unlock/setup operations. Keys live only
// here, in the worker's memory; lock() wipes them. The remembered master key is kept by the client in
// SecretStorage and fetched through the `secrets` bridge: the worker never writes it anywhere.
import fs from 'node:fs';
import { decryptBuffer } from '../crypto/format';
import { Keyring } from '../keys/keyring';
import { PRODUCTION_KDF_POLICY, type KdfPolicy } from '../keys/kdf';
import type { RememberedSecret, VaultState } from '../protocol';
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

  private changed(): VaultState {
    const s = this.state();
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
    this.keyring.lock();
    return this.changed();
  }

  private async remember(): Promise<void> {
    await this.secrets.store('masterKey', this.keyring.exportMasterKey());
  }

  private requireInitialized(): void {
    if (!fs.existsSync(this.keyfilePath)) throw new WorkerError('NOT_INITIALIZED', 'NoteSeal is not set up yet: run "NoteSeal: Set Up Encryption".');
  }
}
