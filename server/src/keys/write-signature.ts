// The write signature (stanza type 6, docs/KEYS.md "Write signature"): the writer's Ed25519 signature over
// the immutable prefix, a commitment to the data key, the SHA-256 of the whole payload and (version 2) the
// file's path relative to the folder of the list that governs it. It does not cover the other stanzas, so
// rewrapping (updatekeys, rotate) keeps it valid; a new salt or payload (a save, --rekey, recovery) needs a
// new one. The commitment stops a signer from giving different recipients different data keys for one
// signed ciphertext (AES-GCM is not key-committing); the path stops a member's `staging.env.enc` from
// passing as their `prod.env.enc`.
//   v1 body = signer Ed25519 key (32) | signed at, ms since 1970 (8, big-endian) | commitment (32) | signature (64)
//   v2 body = the same | path length (2, big-endian, 1..1024) | path (UTF-8, `/`-separated)
//   commitment = HKDF-SHA256(IKM = data key, salt = file salt, info = "NoteSeal v1 write key commitment", 32)
//   signed v1  = "noteseal/v1/write-signature\0" | prefix (31) | commitment | payload SHA-256 (32) | signer | signed at
//   signed v2  = "noteseal/v2/write-signature\0" | the same | path length (2) | path
// The version is told by the body's length: 136 bytes is version 1 (still read, shown as not bound to a path).
import { createHash, hkdfSync } from 'node:crypto';
import path from 'node:path';
import { openRegularFile } from '../crypto/safe-open';
import { hashFrom, parseHeader, readHeaderFromFile, type PayloadBoundStanza, type Stanza } from '../crypto/format';
import { concatBytes, constantTimeEqual, toHex, utf8 } from './bytes';
import { ed25519, type RawKeyPair } from './curves';

export const STANZA_WRITE_SIGNATURE = 6;
/** Version 1's body, and the fixed part of version 2's. */
export const WRITE_SIGNATURE_LENGTH = 32 + 8 + 32 + 64;
/** A signed path longer than this (in UTF-8 bytes) is refused: a stanza holds at most 2,048 bytes. */
export const MAX_SIGNED_PATH_BYTES = 1024;
const PREFIX_LENGTH = 31;

/** The signed path's bytes: length (2) | UTF-8. */
function encodeSignedPath(signedPath: string): Uint8Array {
  const bytes = utf8(signedPath);
  if (bytes.length === 0 || bytes.length > MAX_SIGNED_PATH_BYTES) throw new Error(`a signed path must be 1 to ${MAX_SIGNED_PATH_BYTES} bytes of UTF-8`);
  const out = new Uint8Array(2 + bytes.length);
  new DataView(out.buffer).setUint16(0, bytes.length);
  out.set(bytes, 2);
  return out;
}

/** The body length of a signature for `signedPath` (version 2), or of version 1 without one. */
export function writeSignatureLength(signedPath?: string): number {
  return WRITE_SIGNATURE_LENGTH + (signedPath === undefined ? 0 : encodeSignedPath(signedPath).length);
}

export function keyCommitment(dataKey: Uint8Array, salt: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', dataKey, salt, utf8('NoteSeal v1 write key commitment'), 32));
}

function u64(ms: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(ms));
  return b;
}

/** What is signed: version 2 with a signed path, version 1 without. */
export function signedMessage(prefix: Uint8Array, commitment: Uint8Array, payloadSha256: Uint8Array, signer: Uint8Array, atMs: number, signedPath?: string): Uint8Array {
  return signedPath === undefined
    ? concatBytes(utf8('noteseal/v1/write-signature\0'), prefix, commitment, payloadSha256, signer, u64(atMs))
    : concatBytes(utf8('noteseal/v2/write-signature\0'), prefix, commitment, payloadSha256, signer, u64(atMs), encodeSignedPath(signedPath));
}

/**
 * The stanza's body: `signing` signs the write of the file with this prefix, key commitment and payload hash,
 * and (version 2) for this path relative to the folder of its list (see signedPathOf).
 */
export function signWriteBody(signing: RawKeyPair, prefix: Uint8Array, commitment: Uint8Array, payloadSha256: Uint8Array, atMs = Date.now(), signedPath?: string): Uint8Array {
  // A keyring locked meanwhile has zeroed the key: sign nothing rather than with the all-zero key.
  if (signing.secretKey.every(b => b === 0)) throw new Error('the signing key was wiped (NoteSeal locked)');
  const sig = ed25519.sign(signing.secretKey, signing.publicKey, signedMessage(prefix, commitment, payloadSha256, signing.publicKey, atMs, signedPath));
  return concatBytes(signing.publicKey, u64(atMs), commitment, sig, signedPath === undefined ? new Uint8Array(0) : encodeSignedPath(signedPath));
}

/**
 * The path a write signature binds: `file` relative to `folder` (the folder holding the `.noteseal/` of the
 * list that governs it), `/`-separated; without a list, the file's own name.
 */
export function signedPathOf(file: string, folder: string | null): string {
  const abs = path.resolve(file);
  return folder ? path.relative(path.resolve(folder), abs).split(path.sep).join('/') : path.basename(abs);
}

/**
 * The stanza the format fills in once the payload is written (EncryptOptions.payloadBound, AppendWriter),
 * its body made by `sign` from the prefix, the key commitment and the payload hash. The commitment is derived
 * in `prepare`, so the data key need not outlive the start of the write (a recording's key is wiped right
 * after its file is created; its signature is made at close).
 */
function boundSignature(dataKey: Uint8Array, signedPath: string | undefined, sign: (prefix: Uint8Array, commitment: Uint8Array, payloadSha256: Uint8Array) => Uint8Array | Promise<Uint8Array>): PayloadBoundStanza {
  let commitment: Uint8Array | undefined;
  const commit = (prefix: Uint8Array) => (commitment ??= keyCommitment(dataKey, prefix.subarray(15, 31)));
  return {
    type: STANZA_WRITE_SIGNATURE,
    length: writeSignatureLength(signedPath),
    prepare(prefix) { commit(prefix); },
    build(prefix, payloadSha256) { return sign(prefix, commit(prefix), payloadSha256); },
  };
}

/** The write signature, made with this keyring's signing key; version 2 (bound to `signedPath`) when one is given. */
export function writeSignatureStanza(signing: RawKeyPair, dataKey: Uint8Array, signedPath?: string, now = () => Date.now()): PayloadBoundStanza {
  return boundSignature(dataKey, signedPath, (prefix, commitment, payloadSha256) => signWriteBody(signing, prefix, commitment, payloadSha256, now(), signedPath));
}

/**
 * A write signature made elsewhere (the agent, which holds the signing key): `sign` returns the whole body.
 * What comes back is checked before it lands: a body that is not a valid signature of this write fails the
 * write rather than leaving a file that looks signed and is not.
 */
export function remoteWriteSignatureStanza(dataKey: Uint8Array, signedPath: string | undefined, sign: (prefix: Uint8Array, commitment: Uint8Array, payloadSha256: Uint8Array) => Promise<Uint8Array>): PayloadBoundStanza {
  return boundSignature(dataKey, signedPath, async (prefix, commitment, payloadSha256) => {
    const body = await sign(prefix, commitment, payloadSha256);
    if (!checkWriteBody(body, prefix, commitment, payloadSha256, signedPath)) throw new Error('the agent sent an invalid write signature');
    return body;
  });
}

/** Whether the parsed signature signs this prefix and payload hash (its own commitment, signer and time). */
function signatureHolds(parsed: ParsedWriteSignature, prefix: Uint8Array, payloadSha256: Uint8Array): boolean {
  return ed25519.verify(parsed.signer, signedMessage(prefix, parsed.commitment, payloadSha256, parsed.signer, parsed.atMs, parsed.path), parsed.signature);
}

/** Whether `body` is a valid write signature over this prefix, key commitment and payload hash (and path). */
export function checkWriteBody(body: Uint8Array, prefix: Uint8Array, commitment: Uint8Array, payloadSha256: Uint8Array, signedPath?: string): boolean {
  const parsed = body.length === writeSignatureLength(signedPath) ? parseWriteSignature([{ type: STANZA_WRITE_SIGNATURE, body }]) : null;
  return !!parsed && parsed !== 'malformed' && parsed.path === signedPath && constantTimeEqual(parsed.commitment, commitment) && signatureHolds(parsed, prefix, payloadSha256);
}

/** `path`: the signed path (version 2); undefined for version 1. */
export interface ParsedWriteSignature { signer: Uint8Array; atMs: number; commitment: Uint8Array; signature: Uint8Array; path?: string }

/** The write signature stanza, or null when there is none; 'malformed' for a wrong length or more than one. */
export function parseWriteSignature(stanzas: readonly Stanza[]): ParsedWriteSignature | null | 'malformed' {
  const found = stanzas.filter(s => s.type === STANZA_WRITE_SIGNATURE);
  if (found.length === 0) return null;
  const b = found[0]!.body;
  if (found.length > 1 || b.length < WRITE_SIGNATURE_LENGTH || b.length === WRITE_SIGNATURE_LENGTH + 1 || b.length === WRITE_SIGNATURE_LENGTH + 2) return 'malformed';
  // All zero: the placeholder of a write that never finished signing (a recording that crashed or whose
  // close could not sign, and what recovery keeps): unsigned, not forged.
  if (b.every(x => x === 0)) return null;
  const view = new DataView(b.buffer, b.byteOffset, b.length);
  const atMs = Number(view.getBigUint64(32));
  const fixed = { signer: b.slice(0, 32), atMs, commitment: b.slice(40, 72), signature: b.slice(72, WRITE_SIGNATURE_LENGTH) };
  if (b.length === WRITE_SIGNATURE_LENGTH) return fixed;
  const pathLength = view.getUint16(WRITE_SIGNATURE_LENGTH);
  if (pathLength === 0 || pathLength > MAX_SIGNED_PATH_BYTES || b.length !== WRITE_SIGNATURE_LENGTH + 2 + pathLength) return 'malformed';
  try {
    return { ...fixed, path: new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(WRITE_SIGNATURE_LENGTH + 2)) };
  } catch { return 'malformed'; }
}

export type WriteSignatureCheck =
  | { state: 'unsigned' }
  | { state: 'invalid'; why: string; signer?: string }
  | { state: 'valid'; signer: string; at: Date; keyCommitted: boolean | undefined; path?: string };

/** The verdict on a parsed signature, given the file's prefix, payload hash and salt (and its data key, when held). */
function judge(parsed: ParsedWriteSignature | null | 'malformed', prefix: Uint8Array, payloadHash: Uint8Array, salt: Uint8Array, dataKey?: Uint8Array): WriteSignatureCheck {
  if (parsed === null) return { state: 'unsigned' };
  if (parsed === 'malformed') return { state: 'invalid', why: 'its write signature stanza is malformed' };
  const signer = toHex(parsed.signer);
  if (!signatureHolds(parsed, prefix, payloadHash)) {
    return { state: 'invalid', why: 'the signature does not match the file (it was changed after it was signed)', signer };
  }
  // AES-GCM does not commit to its key: a signature over another data key would vouch for content its
  // signer never wrote. Whoever holds the key checks that it is the one the signer committed to.
  const keyCommitted = dataKey ? constantTimeEqual(keyCommitment(dataKey, salt), parsed.commitment) : undefined;
  if (keyCommitted === false) return { state: 'invalid', why: 'the signature was made for another data key (its key commitment does not match)', signer };
  return { state: 'valid', signer, at: new Date(parsed.atMs), keyCommitted, ...(parsed.path !== undefined ? { path: parsed.path } : {}) };
}

/**
 * Checks a file's write signature against its bytes on disk. With the file's data key the commitment is
 * checked too (`keyCommitted`); without it (inspect needs no key) it is undefined.
 */
export async function checkWriteSignature(file: string, dataKey?: Uint8Array): Promise<WriteSignatureCheck> {
  const header = await readHeaderFromFile(file);
  const parsed = parseWriteSignature(header.stanzas);
  if (parsed === null || parsed === 'malformed') return judge(parsed, new Uint8Array(0), new Uint8Array(0), header.salt);
  const handle = await openRegularFile(file);
  let prefix: Buffer;
  let payloadHash: Buffer;
  try {
    prefix = Buffer.alloc(PREFIX_LENGTH);
    await handle.read(prefix, 0, PREFIX_LENGTH, 0);
    payloadHash = await hashFrom(handle, header.headerLength);
  } finally { await handle.close(); }
  return judge(parsed, prefix, payloadHash, header.salt, dataKey);
}

/** The same check over a whole file held in memory (exec, the git drivers). */
export function checkWriteSignatureBytes(file: Uint8Array, dataKey?: Uint8Array): WriteSignatureCheck {
  const header = parseHeader(file);
  const parsed = parseWriteSignature(header.stanzas);
  const payloadHash = createHash('sha256').update(file.subarray(header.headerLength)).digest();
  return judge(parsed, file.subarray(0, PREFIX_LENGTH), payloadHash, header.salt, dataKey);
}
