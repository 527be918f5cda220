// Text forms of identities (docs/KEYS.md, "Identities"): one line a person can paste into chat.
//   noteseal1…          a NoteSeal public identity: bech32m (BIP-350, no length limit), HRP "noteseal",
//                       data = kind (1 byte: 1 X-Wing, 2 X25519) | Ed25519 signing key (32) | receiving key
//   age1…               an age X25519 recipient: bech32 (BIP-173), HRP "age", 32 bytes (a recipient only: no signing key)
//   age1pq1…            an age post-quantum recipient (ML-KEM-768 + X25519, X-Wing): bech32 without its length
//                       limit, HRP "age1pq", 1,216 bytes = the X-Wing public key (c2sp.org/age, "MLKEM768-X25519")
//   AGE-SECRET-KEY-1…   an age X25519 identity (secret key): bech32, HRP "AGE-SECRET-KEY-" in upper case, 32 bytes
//   AGE-SECRET-KEY-PQ-1… an age post-quantum identity: bech32, HRP "AGE-SECRET-KEY-PQ-" in upper case, 32 bytes =
//                       the X-Wing seed (NoteSeal's own X-Wing secret key, so these are X-Wing recipients as they are)
// Every parser here takes untrusted text and fails only with INVALID_ARGUMENT.
import { bech32, bech32m } from '@scure/base';
import { NoteSealError } from '../crypto/errors';
import { constantTimeEqual } from './bytes';
import { x25519 } from './curves';
import { RECIPIENT_KINDS, xwingPublicKeyProblem, xwingPublicOf, type ReceivingKey, type Recipient, type RecipientKindName } from './recipients';

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
  return new NoteSealError('INVALID_ARGUMENT', `Not a public identity: ${why} (expected noteseal1…, age1… or age1pq1…).`);
}

/** The age recipient and identity types NoteSeal takes, by bech32 HRP (lower case, as the checksum uses it). */
const AGE_RECIPIENT_TYPES = new Map<string, { kind: RecipientKindName; label: string }>([
  ['age', { kind: 'x25519', label: 'an age X25519 recipient (age1…)' }],
  ['age1pq', { kind: 'xwing', label: 'an age post-quantum recipient (age1pq1…)' }],
]);
const AGE_IDENTITY_TYPES = new Map<string, RecipientKindName>([['age-secret-key-', 'x25519'], ['age-secret-key-pq-', 'xwing']]);

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
  if (text.startsWith('age1')) return parseAgeRecipient(text);
  if (!text.startsWith(`${IDENTITY_HRP}1`)) throw invalid('unknown prefix');
  const d = decodeBech32(bech32m, text);
  if (!d || d.prefix !== IDENTITY_HRP) throw invalid('its checksum or encoding is wrong');
  const kind = (Object.keys(KIND_CODES) as RecipientKindName[]).find(k => KIND_CODES[k] === d.bytes[0]);
  if (!kind) throw invalid(`unknown identity kind ${d.bytes[0] ?? 'none'}`);
  const expected = 33 + RECIPIENT_KINDS[kind].publicKeyLength;
  if (d.bytes.length !== expected) throw invalid(`a ${kind} identity holds ${expected} bytes, not ${d.bytes.length}`);
  const publicKey = d.bytes.slice(33);
  checkReceivingKey(kind, publicKey);
  return { kind, signingKey: d.bytes.slice(1, 33), publicKey, text };
}

/** `age1…` (X25519) or `age1pq1…` (X-Wing): the type is the HRP, the part before the last `1`. */
function parseAgeRecipient(text: string): PublicIdentity {
  const d = decodeBech32(bech32, text);
  if (!d) throw invalid('its age checksum or encoding is wrong');
  const type = AGE_RECIPIENT_TYPES.get(d.prefix);
  if (!type) throw invalid(`${d.prefix}1… is an age recipient type NoteSeal does not take`);
  const length = RECIPIENT_KINDS[type.kind].publicKeyLength;
  if (d.bytes.length !== length) throw invalid(`${type.label} holds ${length} bytes, not ${d.bytes.length}`);
  checkReceivingKey(type.kind, d.bytes);
  return { kind: type.kind, publicKey: d.bytes, text };
}

/** An X-Wing key must be one ML-KEM-768 can encapsulate to (age checks the same when it parses one). */
function checkReceivingKey(kind: RecipientKindName, publicKey: Uint8Array): void {
  const problem = kind === 'xwing' ? xwingPublicKeyProblem(publicKey) : undefined;
  if (problem) throw invalid(problem);
}

/** The short form shown beside names: the first 12 and last 6 characters. */
export function shortIdentity(text: string): string {
  return text.length <= 24 ? text : `${text.slice(0, 12)}…${text.slice(-6)}`;
}

/**
 * The keys of an age identity file (`age-keygen` output): one `AGE-SECRET-KEY-1…` (X25519) or
 * `AGE-SECRET-KEY-PQ-1…` (X-Wing) per line, `#` comments and blank lines ignored. Anything else is refused,
 * never guessed at; a message names the line, never its content (it is a secret key).
 */
export function parseAgeIdentityFile(text: string): ReceivingKey[] {
  const keys: ReceivingKey[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    keys.push(parseAgeIdentityLine(line, i + 1));
  }
  if (keys.length === 0) throw new NoteSealError('INVALID_ARGUMENT', 'The identity file holds no AGE-SECRET-KEY-1… or AGE-SECRET-KEY-PQ-1… line.');
  return keys;
}

function parseAgeIdentityLine(line: string, n: number): ReceivingKey {
  const bad = (why: string) => new NoteSealError('INVALID_ARGUMENT', `The identity file's line ${n} ${why}.`);
  if (line.startsWith('AGE-PLUGIN-')) throw bad('is an age plugin identity, which needs its plugin (NoteSeal runs none)');
  if (!line.startsWith('AGE-SECRET-KEY-')) throw bad('is not an AGE-SECRET-KEY-1… or AGE-SECRET-KEY-PQ-1… age identity');
  if (line !== line.toUpperCase()) throw bad('is not all upper case, as age identities are');
  const d = decodeBech32(bech32, line);
  if (!d) throw bad('is not an age identity: its checksum or encoding is wrong');
  const kind = AGE_IDENTITY_TYPES.get(d.prefix);
  if (!kind) throw bad(`has the age identity type ${d.prefix.toUpperCase()}1…, which NoteSeal does not take`);
  if (d.bytes.length !== 32) throw bad(`holds ${d.bytes.length} bytes, not the 32 of an age identity`);
  const publicKey = kind === 'xwing' ? xwingPublicOf(d.bytes) : x25519.publicOf(d.bytes);
  return { kind, secretKey: d.bytes, publicKey };
}

/** `age1…` for an X25519 public key (what age-keygen prints as "public key"). */
export function encodeAgeRecipient(publicKey: Uint8Array): string {
  return bech32.encode('age', bech32.toWords(publicKey));
}

/** `age1pq1…` for an X-Wing public key (what `age-keygen -pq` prints); bech32 without its 90-character limit. */
export function encodeAgeHybridRecipient(publicKey: Uint8Array): string {
  return bech32.encode('age1pq', bech32.toWords(publicKey), false);
}

/** Whether two public identities are the same member (same keys). */
export function sameIdentity(a: PublicIdentity, b: PublicIdentity): boolean {
  return a.kind === b.kind && constantTimeEqual(a.publicKey, b.publicKey)
    && (a.signingKey && b.signingKey ? constantTimeEqual(a.signingKey, b.signingKey) : !a.signingKey && !b.signingKey);
}
