// Text forms of identities (docs/KEYS.md, "Identities"): one line a person can paste into chat.
//   noteseal1…          a NoteSeal public identity: bech32m (BIP-350, no length limit), HRP "noteseal",
//                       data = kind (1 byte: 1 X-Wing, 2 X25519) | Ed25519 signing key (32) | receiving key
//   age1…               an age X25519 recipient: bech32 (BIP-173), HRP "age", 32 bytes (a recipient only: no signing key)
//   AGE-SECRET-KEY-1…   an age X25519 identity (secret key): bech32, HRP "AGE-SECRET-KEY-" in upper case, 32 bytes
// Every parser here takes untrusted text and fails only with INVALID_ARGUMENT.
import { bech32, bech32m } from '@scure/base';
import { NoteSealError } from '../crypto/errors';
import { constantTimeEqual } from './bytes';
import { x25519 } from './curves';
import { RECIPIENT_KINDS, type ReceivingKey, type Recipient, type RecipientKindName } from './recipients';

export const IDENTITY_HRP = 'noteseal';
const KIND_CODES: Record<RecipientKindName, number> = { xwing: 1, x25519: 2 };
/** Longest accepted identity line (an X-Wing identity is 2,014 characters). */
const MAX_IDENTITY_LENGTH = 4096;

/** A member of a recipient list: where to send data keys and, for NoteSeal identities, who signs. */
export interface PublicIdentity extends Recipient {
  /** Ed25519 public key; absent for an age recipient, which cannot sign. */
  signingKey?: Uint8Array;
  /** The canonical text (lower case). */
  text: string;
}

function invalid(why: string): NoteSealError {
  return new NoteSealError('INVALID_ARGUMENT', `Not a public identity: ${why} (expected noteseal1… or age1…).`);
}

export function encodeIdentity(kind: RecipientKindName, signingKey: Uint8Array, receivingKey: Uint8Array): string {
  const data = new Uint8Array(1 + 32 + receivingKey.length);
  data[0] = KIND_CODES[kind];
  data.set(signingKey, 1);
  data.set(receivingKey, 33);
  return bech32m.encode(IDENTITY_HRP, bech32m.toWords(data), false);
}

function decodeBech32(coder: typeof bech32, text: string): { prefix: string; bytes: Uint8Array } | null {
  try {
    const { prefix, words } = coder.decode(text as `${string}1${string}`, false);
    return { prefix, bytes: coder.fromWords(words) };
  } catch {
    return null;
  }
}

/** Parses `noteseal1…` or `age1…` (surrounding white space ignored). */
export function parsePublicIdentity(input: string): PublicIdentity {
  const text = input.trim();
  if (text.length === 0) throw invalid('it is empty');
  if (text.length > MAX_IDENTITY_LENGTH) throw invalid('it is too long');
  if (text !== text.toLowerCase()) throw invalid('it must be lower case');
  if (text.startsWith('age1')) {
    const d = decodeBech32(bech32, text);
    if (!d || d.prefix !== 'age') throw invalid('its age1 checksum or encoding is wrong');
    if (d.bytes.length !== 32) throw invalid(`an age X25519 recipient holds 32 bytes, not ${d.bytes.length}`);
    return { kind: 'x25519', publicKey: d.bytes, text };
  }
  if (!text.startsWith(`${IDENTITY_HRP}1`)) throw invalid('unknown prefix');
  const d = decodeBech32(bech32m, text);
  if (!d || d.prefix !== IDENTITY_HRP) throw invalid('its checksum or encoding is wrong');
  const kind = (Object.keys(KIND_CODES) as RecipientKindName[]).find(k => KIND_CODES[k] === d.bytes[0]);
  if (!kind) throw invalid(`unknown identity kind ${d.bytes[0] ?? 'none'}`);
  const expected = 33 + RECIPIENT_KINDS[kind].publicKeyLength;
  if (d.bytes.length !== expected) throw invalid(`a ${kind} identity holds ${expected} bytes, not ${d.bytes.length}`);
  return { kind, signingKey: d.bytes.slice(1, 33), publicKey: d.bytes.slice(33), text };
}

/** The short form shown beside names: the first 12 and last 6 characters. */
export function shortIdentity(text: string): string {
  return text.length <= 24 ? text : `${text.slice(0, 12)}…${text.slice(-6)}`;
}

/**
 * The X25519 keys of an age identity file (`age-keygen` output): one `AGE-SECRET-KEY-1…` per line, `#`
 * comments and blank lines ignored. Anything else is refused, never guessed at.
 */
export function parseAgeIdentityFile(text: string): ReceivingKey[] {
  const keys: ReceivingKey[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const d = line.startsWith('AGE-SECRET-KEY-1') && line === line.toUpperCase() ? decodeBech32(bech32, line) : null;
    if (!d || d.prefix !== 'age-secret-key-' || d.bytes.length !== 32) {
      throw new NoteSealError('INVALID_ARGUMENT', `The identity file's line ${i + 1} is not an AGE-SECRET-KEY-1… X25519 identity.`);
    }
    keys.push({ kind: 'x25519', secretKey: d.bytes, publicKey: x25519.publicOf(d.bytes) });
  }
  if (keys.length === 0) throw new NoteSealError('INVALID_ARGUMENT', 'The identity file holds no AGE-SECRET-KEY-1… line.');
  return keys;
}

/** `age1…` for an X25519 public key (what age-keygen prints as "public key"). */
export function encodeAgeRecipient(publicKey: Uint8Array): string {
  return bech32.encode('age', bech32.toWords(publicKey));
}

/** Whether two public identities are the same member (same keys). */
export function sameIdentity(a: PublicIdentity, b: PublicIdentity): boolean {
  return a.kind === b.kind && constantTimeEqual(a.publicKey, b.publicKey)
    && (a.signingKey && b.signingKey ? constantTimeEqual(a.signingKey, b.signingKey) : !a.signingKey && !b.signingKey);
}
