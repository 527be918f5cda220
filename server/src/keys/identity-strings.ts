// Text forms of identities (docs/KEYS.md, "Identities"): one line a person can paste into chat.
//   noteseal1…          a NoteSeal public identity: bech32m (BIP-350, no length limit), HRP "noteseal",
//                       data = kind (1 byte: 1 X-Wing, 2 X25519) | Ed25519 signing key (32) | receiving key
//   age1…               an age X25519 recipient: bech32 (BIP-173), HRP "age", 32 bytes (a recipient only: no signing key)
//   age1pq1…            an age post-quantum recipient (ML-KEM-768 + X25519, X-Wing): bech32 without its length
//                       limit, HRP "age1pq", 1,216 bytes = the X-Wing public key (c2sp.org/age, "MLKEM768-X25519")
//   AGE-SECRET-KEY-1…   an age X25519 identity (secret key): bech32, HRP "AGE-SECRET-KEY-" in upper case, 32 bytes
//   AGE-SECRET-KEY-PQ-1… an age post-quantum identity: bech32, HRP "AGE-SECRET-KEY-PQ-" in upper case, 32 bytes =
//                       the X-Wing seed (NoteSeal's own X-Wing secret key, so these are X-Wing recipients as they are)
//   NOTESEAL-SECRET-KEY-1… a NoteSeal identity secret (a server's or CI job's NOTESEAL_IDENTITY): bech32 without its
//                       length limit, HRP "NOTESEAL-SECRET-KEY-" in upper case, 65 bytes = kind (1 X-Wing, 2 X25519) |
//                       receiving secret (32) | Ed25519 signing secret (32), the secret the key store seals (keys/identity.ts)
// Every parser here takes untrusted text and fails only with INVALID_ARGUMENT.
import { bech32, bech32m } from '@scure/base';
import { NoteSealError } from '../crypto/errors';
import { constantTimeEqual, wipe } from './bytes';
import { ed25519, x25519 } from './curves';
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
 * never guessed at; a message names the line, never its content (it is a secret key). `identitySecrets`:
 * `NOTESEAL-SECRET-KEY-1…` lines too (their receiving keys: an identity given to a program only reads).
 */
export function parseAgeIdentityFile(text: string, options: { identitySecrets?: boolean } = {}): ReceivingKey[] {
  const keys: ReceivingKey[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (options.identitySecrets && line.toUpperCase().startsWith(SECRET_PREFIX)) {
      const secret = parseIdentitySecret(line, `The identity file's line ${i + 1}`);
      wipe(secret.signingSecret);
      keys.push(secret.receiving);
    } else {
      keys.push(parseAgeIdentityLine(line, i + 1));
    }
  }
  const forms = options.identitySecrets ? 'NOTESEAL-SECRET-KEY-1…, AGE-SECRET-KEY-1… or AGE-SECRET-KEY-PQ-1…' : 'AGE-SECRET-KEY-1… or AGE-SECRET-KEY-PQ-1…';
  if (keys.length === 0) throw new NoteSealError('INVALID_ARGUMENT', `The identity file holds no ${forms} line.`);
  return keys;
}

const SECRET_HRP = 'noteseal-secret-key-';
const SECRET_PREFIX = SECRET_HRP.toUpperCase() + '1';
const SECRET_KINDS: Record<number, RecipientKindName> = { 1: 'xwing', 2: 'x25519' };

/** A NoteSeal identity's secret as one line, `NOTESEAL-SECRET-KEY-1…` (upper case, as age's secret keys are). */
export function encodeIdentitySecret(kind: RecipientKindName, receivingSecret: Uint8Array, signingSecret: Uint8Array): string {
  const data = new Uint8Array(65);
  data[0] = KIND_CODES[kind];
  data.set(receivingSecret, 1);
  data.set(signingSecret, 33);
  const words = bech32.toWords(data);
  wipe(data);
  return bech32.encode(SECRET_HRP, words, false).toUpperCase();
}

/** The held form of a NoteSeal identity secret: its receiving key, its signing secret, its public identity. */
export interface IdentitySecret { receiving: ReceivingKey; signingSecret: Uint8Array; identity: string }

/**
 * Parses a `NOTESEAL-SECRET-KEY-1…` line. Refused (INVALID_ARGUMENT, `where` first) unless it is all upper
 * case, its checksum holds and it carries a known kind and both 32-byte secrets; the message never quotes it.
 */
export function parseIdentitySecret(line: string, where = 'The NoteSeal identity secret'): IdentitySecret {
  const bad = (why: string) => new NoteSealError('INVALID_ARGUMENT', `${where} ${why}.`);
  const text = line.trim();
  if (!text.startsWith(SECRET_PREFIX)) throw bad('is not a NOTESEAL-SECRET-KEY-1… identity secret');
  if (text !== text.toUpperCase()) throw bad('is not all upper case, as NoteSeal identity secrets are');
  const d = decodeBech32(bech32, text);
  if (!d || d.prefix !== SECRET_HRP) throw bad('is not a NoteSeal identity secret: its checksum or encoding is wrong');
  const kind = SECRET_KINDS[d.bytes[0]!];
  if (!kind || d.bytes.length !== 65) { wipe(d.bytes); throw bad(`holds ${kind ? `${d.bytes.length} bytes, not 65` : 'an unknown identity kind'}`); }
  const secretKey = d.bytes.slice(1, 33);
  const signingSecret = d.bytes.slice(33, 65);
  wipe(d.bytes);
  const publicKey = kind === 'xwing' ? xwingPublicOf(secretKey) : x25519.publicOf(secretKey);
  return { receiving: { kind, secretKey, publicKey }, signingSecret, identity: encodeIdentity(kind, ed25519.publicOf(signingSecret), publicKey) };
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
