// The passphrases of passphrase (scrypt) age files opened in the editor (issue 26). Each is a FILE's own age
// passphrase, never NoteSeal's; it is held in the worker's memory only while NoteSeal is unlocked (the
// keyring's lock wipes them all), so that a save keeps the file a passphrase file without asking again.
import path from 'node:path';
import { wipe } from './bytes';

export class FilePassphrases {
  private readonly held = new Map<string, Uint8Array>();

  /** A copy of the passphrase held for `file` (the caller wipes it), or null. */
  get(file: string): Uint8Array | null {
    const p = this.held.get(path.resolve(file));
    return p ? new Uint8Array(p) : null;
  }

  /** Holds a copy of `passphrase` for `file`, replacing (and wiping) one held before. */
  set(file: string, passphrase: Uint8Array): void {
    this.forget(file);
    this.held.set(path.resolve(file), new Uint8Array(passphrase));
  }

  forget(file: string): void {
    const key = path.resolve(file);
    wipe(this.held.get(key));
    this.held.delete(key);
  }

  get size(): number { return this.held.size; }

  wipeAll(): void {
    for (const p of this.held.values()) wipe(p);
    this.held.clear();
  }
}
