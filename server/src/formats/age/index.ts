// Reading and writing age files (c2sp.org/age) with NoteSeal's own code: X25519, mlkem768x25519 (age1pq1)
// and scrypt recipients, binary or ASCII-armored. Conformance: the C2SP vectors (test/unit/formats).
import { randomBytes } from 'node:crypto';
import { wipe } from '../../keys/bytes';
import { armor, dearmor, looksArmored } from './armor';
import { AgeError, headerFailure } from './errors';
import { checkHeaderMac, encodeHeader, FILE_KEY_LENGTH, parseHeader, type AgeHeader, type AgeStanza } from './header';
import type { AgeIdentity, AgeRecipient } from './recipient';
import { SCRYPT_TYPE } from './scrypt';
import { sealPayloadStream } from './file-stream';
import { NONCE_LENGTH, openPayload, plaintextLengthOf, sealPayload } from './stream';

export { AgeError, isAgeError, type AgeFailure } from './errors';
export type { AgeIdentity, AgeRecipient } from './recipient';
export type { AgeStanza } from './header';
export { looksArmored } from './armor';
export { x25519Identity, x25519Recipient } from './x25519';
export { hybridIdentity, hybridRecipient, HYBRID_TYPE } from './mlkem768x25519';
export { scryptIdentity, scryptRecipient, SCRYPT_TYPE } from './scrypt';

/** What a reader learns before any key is used: enough to ask for the right key and to save again alike. */
export interface AgeFileFacts {
  armored: boolean;
  stanzas: AgeStanza[];
  /** A passphrase file (its only stanza is scrypt). */
  passphrase: boolean;
}

export function ageFileFacts(bytes: Uint8Array): AgeFileFacts {
  const armored = looksArmored(bytes);
  const { stanzas } = parseHeader(armored ? dearmor(bytes) : bytes);
  return { armored, stanzas, passphrase: stanzas.some(s => s.args[0] === SCRYPT_TYPE) };
}

/** The stanza types of a file, for a "no identity fits" message: "X25519 ×2, mlkem768x25519". */
export function describeStanzas(stanzas: readonly AgeStanza[]): string {
  const counts = new Map<string, number>();
  for (const s of stanzas) counts.set(s.args[0]!, (counts.get(s.args[0]!) ?? 0) + 1);
  return [...counts].map(([t, n]) => (n > 1 ? `${t} ×${n}` : t)).join(', ');
}

/**
 * The file key of a parsed header, from the first identity that opens a stanza; its MAC checked. A header
 * failure for a malformed stanza of a type an identity handles; "no match" when none opens one.
 */
export function unwrapFileKey(stanzas: readonly AgeStanza[], identities: readonly AgeIdentity[]): Uint8Array {
  if (stanzas.some(s => s.args[0] === SCRYPT_TYPE) && stanzas.length !== 1) throw headerFailure('a scrypt stanza is not alone in the header');
  for (const identity of identities) {
    const fileKey = identity.unwrap(stanzas);
    if (!fileKey) continue;
    if (fileKey.length !== FILE_KEY_LENGTH) throw headerFailure('a stanza holds a file key of the wrong length');
    return fileKey;
  }
  const held = [...new Set(identities.map(i => i.type))].join(', ') || 'none';
  throw new AgeError('no match', `No identity NoteSeal holds opens this age file: it is for ${describeStanzas(stanzas)}; the identities tried are ${held}.`);
}

export interface OpenedAge extends AgeFileFacts { plaintext: Buffer }

/**
 * The whole plaintext of an age file, or a typed AgeError and no plaintext at all (every chunk authenticates
 * before any of it is returned).
 */
export function openAge(bytes: Uint8Array, identities: readonly AgeIdentity[]): OpenedAge {
  const { binary, armored, header } = parseAgeFile(bytes);
  return finishOpen(binary, armored, header, unwrapFileKey(header.stanzas, identities));
}

/** As openAge, with the file key from elsewhere (the agent holds the identities): `fileKeyOf` as unwrapFileKey. */
export async function openAgeWithFileKey(bytes: Uint8Array, fileKeyOf: (stanzas: AgeStanza[]) => Promise<Uint8Array>): Promise<OpenedAge> {
  const { binary, armored, header } = parseAgeFile(bytes);
  const fileKey = await fileKeyOf(header.stanzas);
  if (fileKey.length !== FILE_KEY_LENGTH) { wipe(fileKey); throw headerFailure('a stanza holds a file key of the wrong length'); }
  return finishOpen(binary, armored, header, fileKey);
}

function parseAgeFile(bytes: Uint8Array): { binary: Uint8Array; armored: boolean; header: AgeHeader } {
  const armored = looksArmored(bytes);
  const binary = armored ? dearmor(bytes) : bytes;
  return { binary, armored, header: parseHeader(binary) };
}

/** Checks the MAC and opens the payload under `fileKey` (wiped here). */
function finishOpen(binary: Uint8Array, armored: boolean, header: AgeHeader, fileKey: Uint8Array): OpenedAge {
  try {
    checkHeaderMac(header, fileKey);
    // One buffer of the exact size (large files: no second copy); wiped if a later chunk fails.
    const payload = binary.subarray(header.payloadOffset);
    const length = plaintextLengthOf(Math.max(0, payload.length - NONCE_LENGTH));
    const plaintext = Buffer.allocUnsafe(length ?? 0);
    let at = 0;
    try {
      for (const part of openPayload(fileKey, payload)) {
        if (at + part.length > plaintext.length) throw new AgeError('payload', 'The age file\'s content is damaged: its chunks do not add up.');
        part.copy(plaintext, at);
        at += part.length;
        part.fill(0);
      }
    } catch (e) { plaintext.fill(0); throw e; }
    return { armored, stanzas: header.stanzas, passphrase: header.stanzas.some(s => s.args[0] === SCRYPT_TYPE), plaintext };
  } finally { wipe(fileKey); }
}

/** A new age file (fresh file key and nonce) of `plaintext` for `recipients`; armored on request. */
export function sealAge(plaintext: Uint8Array, recipients: readonly AgeRecipient[], opts: { armor?: boolean } = {}): Buffer {
  const parts = [...sealAgeParts(plaintext, recipients)];
  const binary = Buffer.concat(parts);
  return opts.armor ? armor(binary) : binary;
}

/** The binary age file in pieces (header, nonce, chunks), for writing a large file without one more copy. */
export function* sealAgeParts(plaintext: Uint8Array, recipients: readonly AgeRecipient[]): Generator<Buffer> {
  checkRecipients(recipients);
  const fileKey = new Uint8Array(randomBytes(FILE_KEY_LENGTH));
  try {
    yield encodeHeader(recipients.map(r => r.wrap(fileKey)), fileKey);
    yield* sealPayload(fileKey, plaintext);
  } finally { wipe(fileKey); }
}

/** The binary age file of what `source` yields, in batches, in memory bounded by a chunk (the CLI's encrypt). */
export async function* sealAgeStream(source: AsyncIterable<Uint8Array>, recipients: readonly AgeRecipient[]): AsyncGenerator<Buffer[]> {
  const { header, fileKey } = newAgeHeader(recipients);
  try {
    yield [header];
    yield* sealPayloadStream(fileKey, source);
  } finally { wipe(fileKey); }
}

/** The header of a new age file for `recipients` and its fresh file key (the caller wipes it). */
export function newAgeHeader(recipients: readonly AgeRecipient[]): { header: Buffer; fileKey: Uint8Array } {
  checkRecipients(recipients);
  const fileKey = new Uint8Array(randomBytes(FILE_KEY_LENGTH));
  try {
    return { header: encodeHeader(recipients.map(r => r.wrap(fileKey)), fileKey), fileKey };
  } catch (e) { wipe(fileKey); throw e; }
}

function checkRecipients(recipients: readonly AgeRecipient[]): void {
  if (recipients.length === 0) throw new AgeError('header', 'An age file needs at least one recipient.', 'INVALID_ARGUMENT');
  if (recipients.some(r => r.type === SCRYPT_TYPE) && recipients.length !== 1) {
    throw new AgeError('header', 'A passphrase (scrypt) age file has no other recipient.', 'INVALID_ARGUMENT');
  }
}
