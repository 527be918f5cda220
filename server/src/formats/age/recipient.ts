// One small interface for every age recipient type (one file each, as NoteSeal's own recipient kinds).
import type { AgeStanza } from './header';

/** Something that can open stanzas: an X25519 or hybrid identity, or a passphrase. */
export interface AgeIdentity {
  /** The stanza type it opens (its first argument), e.g. "X25519". */
  readonly type: string;
  /**
   * The 16-byte file key, or null when this identity opens none of these stanzas. A stanza of its own type
   * that is malformed is a header failure (AgeError), as age itself treats it; a wrong key is only null.
   */
  unwrap(stanzas: readonly AgeStanza[]): Uint8Array | null;
  /** Wipes its secret. */
  wipe(): void;
}

/** Something a file key can be wrapped to. */
export interface AgeRecipient {
  readonly type: string;
  wrap(fileKey: Uint8Array): AgeStanza;
}

/** The stanzas of one type, checked for the exact argument count its spec gives. */
export function stanzasOfType(stanzas: readonly AgeStanza[], type: string): readonly AgeStanza[] {
  return stanzas.filter(s => s.args[0] === type);
}
