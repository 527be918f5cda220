// One small interface for every kind of recipient (age's layout: one file per kind). A kind wraps a file's
// data key to a public key as one header stanza, and opens such a stanza with a matching key pair.
import { createHash } from 'node:crypto';
import type { Stanza } from '../../crypto/format';
import type { RawKeyPair } from '../curves';

export type RecipientKindName = 'x25519' | 'xwing';

export interface RecipientKind {
  name: RecipientKindName;
  stanzaType: number;
  publicKeyLength: number;
  /** Every stanza of this kind has exactly this body length. */
  bodyLength: number;
  wrap(publicKey: Uint8Array, dataKey: Uint8Array): Stanza;
  /** The data key, or null when `key` does not open this stanza body. Never throws on crafted bytes. */
  unwrap(body: Uint8Array, key: RawKeyPair): Uint8Array | null;
  generate(): RawKeyPair;
}

/** A public key that can be sent a data key. */
export interface Recipient { kind: RecipientKindName; publicKey: Uint8Array }

export const RECIPIENT_ID_BYTES = 8;
const KIND_BYTE: Record<RecipientKindName, number> = { x25519: 1, xwing: 2 };

/**
 * The first 8 bytes of every recipient stanza: names the recipient (so `inspect` can list who can read a file
 * and an opener tries only its own stanza), SHA-256 over a domain tag, the kind and the public key.
 */
export function recipientIdOf(kind: RecipientKindName, publicKey: Uint8Array): Uint8Array {
  const h = createHash('sha256').update('noteseal/v1/recipient-id\0').update(Uint8Array.of(KIND_BYTE[kind])).update(publicKey).digest();
  return new Uint8Array(h.subarray(0, RECIPIENT_ID_BYTES));
}
