// One small interface per file format (docs/FORMAT.md, "Formats"): open (bytes and the keys at hand ->
// plaintext and what is needed to save it again) and save (plaintext -> bytes), one file per format, as each
// recipient kind has its own file. NoteSeal's own .enc is the first; age the second. Callers pick a format
// by name or by the file's first bytes and work through this interface alone.
import fs from 'node:fs/promises';
import type { EncryptOptions, Stanza, UnwrapDataKey } from '../crypto/format';
import type { AgeRecipient, AgeStanza } from './age';
import { ageFormat } from './age-format';
import { encFormat } from './enc';

export type FormatName = 'enc' | 'age';

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

export const HEAD_BYTES = 2048;
export const FORMATS: readonly FileFormat<never>[] = [encFormat as FileFormat<never>, ageFormat as FileFormat<never>];

export function formatNamed(name: FormatName): FileFormat<never> {
  return FORMATS.find(f => f.name === name)!;
}

/** The format of bytes, or undefined when none recognises them. */
export function formatOfBytes(head: Uint8Array): FileFormat<never> | undefined {
  return FORMATS.find(f => f.sniff(head));
}

/** The format of a file, from its first bytes (a name proves nothing: `notes.age` may be anything). */
export async function formatOfFile(file: string): Promise<FileFormat<never> | undefined> {
  const handle = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(head, 0, HEAD_BYTES, 0);
    return formatOfBytes(head.subarray(0, bytesRead));
  } finally { await handle.close(); }
}

/** Whether a file is an age file (binary or armored), by its first bytes; false for a file that cannot be read. */
export async function isAgeFile(file: string): Promise<boolean> {
  if (file === '-') return false;
  return (await formatOfFile(file).catch(() => undefined))?.name === 'age';
}

/** Whether a path is an age file by its name (the Explorer's and the CLI's first guess). */
export function hasAgeName(file: string): boolean {
  return /\.age$/i.test(file);
}
