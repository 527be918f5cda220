// The file-format interface (formats/index.ts): its own module, so each format imports it without a cycle.
import type { EncryptOptions, Stanza, UnwrapDataKey } from '../crypto/format';
import type { AgeRecipient, AgeStanza } from './age';

export type FormatName = 'enc' | 'age' | 'dotenvx' | 'sops';

/** The keys a caller has at hand; each format asks only for what its file needs. */
export interface KeysAtHand {
  /** NoteSeal's own stanzas (.enc): the data key from the keyring or the agent. */
  unwrap: UnwrapDataKey;
  /** A new .enc write's data key (the caller wipes it), stanzas and options. */
  newEncKeys?(): Promise<{ dataKey: Uint8Array; stanzas: Stanza[]; options: EncryptOptions }>;
  /**
   * The 16-byte file key of an age header, from the age identities held (your identity, imported ones) in
   * this process or the agent; a typed AgeError when none fits. The format wipes it.
   */
  ageFileKey(stanzas: AgeStanza[]): Promise<Uint8Array>;
  /** The passphrase of one file (an age scrypt file): asked only when the file is one, never NoteSeal's own. */
  filePassphrase(file: string): Promise<Uint8Array>;
  /** Who a new write of `file` is for, in age's terms (the recipients rule: docs/KEYS.md). */
  ageRecipientsFor?(file: string): Promise<AgeRecipient[]>;
  /** A dotenvx file's secp256k1 private key for its public key (hex), or null: the file then opens write-only. */
  dotenvxSecretKey?(publicKeyHex: string): Promise<Uint8Array | null>;
}

export interface OpenedFile<S> {
  plaintext: Buffer;
  /** What `save` needs to write this file again as its kind (recipients, armor, passphrase...). */
  saveState: S;
}

export interface FileFormat<S = unknown> {
  readonly name: FormatName;
  /** Whether these first bytes (up to HEAD_BYTES) begin a file of this format. */
  sniff(head: Uint8Array): boolean;
  open(bytes: Uint8Array, keys: KeysAtHand, file: string): Promise<OpenedFile<S>>;
  save(plaintext: Uint8Array, state: S): Promise<Buffer>;
}
