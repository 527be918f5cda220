// The write signature (stanza type 6, docs/KEYS.md "Write signature"): the writer's Ed25519 signature over
// the immutable prefix, a commitment to the data key, and the SHA-256 of the whole payload. It does not
// cover the other stanzas, so rewrapping (updatekeys, rotate) keeps it valid; a new salt or payload (a save,
// --rekey, recovery) needs a new one. The commitment stops a signer from giving different recipients
// different data keys for one signed ciphertext (AES-GCM is not key-committing).
//   body = signer Ed25519 key (32) | signed at, ms since 1970 (8, big-endian) | commitment (32) | signature (64)
//   commitment = HKDF-SHA256(IKM = data key, salt = file salt, info = "NoteSeal v1 write key commitment", 32)
//   signed     = "noteseal/v1/write-signature\0" | prefix (31) | commitment | payload SHA-256 (32) | signer | signed at
import { hkdfSync } from 'node:crypto';
import { openRegularFile } from '../crypto/safe-open';
import { hashFrom, readHeaderFromFile, type PayloadBoundStanza, type Stanza } from '../crypto/format';
import { concatBytes, constantTimeEqual, toHex, utf8 } from './bytes';
import { ed25519, type RawKeyPair } from './curves';

export const STANZA_WRITE_SIGNATURE = 6;
export const WRITE_SIGNATURE_LENGTH = 32 + 8 + 32 + 64;
const PREFIX_LENGTH = 31;

export function keyCommitment(dataKey: Uint8Array, salt: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', dataKey, salt, utf8('NoteSeal v1 write key commitment'), 32));
}

function u64(ms: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(ms));
  return b;
}

export function signedMessage(prefix: Uint8Array, commitment: Uint8Array, payloadSha256: Uint8Array, signer: Uint8Array, atMs: number): Uint8Array {
  return concatBytes(utf8('noteseal/v1/write-signature\0'), prefix, commitment, payloadSha256, signer, u64(atMs));
}

/** The stanza's body: `signing` signs the write of the file with this prefix, key commitment and payload hash. */
export function signWriteBody(signing: RawKeyPair, prefix: Uint8Array, commitment: Uint8Array, payloadSha256: Uint8Array, atMs = Date.now()): Uint8Array {
  // A keyring locked meanwhile has zeroed the key: sign nothing rather than with the all-zero key.
  if (signing.secretKey.every(b => b === 0)) throw new Error('the signing key was wiped (NoteSeal locked)');
  const sig = ed25519.sign(signing.secretKey, signing.publicKey, signedMessage(prefix, commitment, payloadSha256, signing.publicKey, atMs));
  return concatBytes(signing.publicKey, u64(atMs), commitment, sig);
}

/**
 * The stanza the format fills in once the payload is written (EncryptOptions.payloadBound, AppendWriter),
 * its body made by `sign` from the prefix, the key commitment and the payload hash. The commitment is derived
 * in `prepare`, so the data key need not outlive the start of the write (a recording's key is wiped right
 * after its file is created; its signature is made at close).
 */
function boundSignature(dataKey: Uint8Array, sign: (prefix: Uint8Array, commitment: Uint8Array, payloadSha256: Uint8Array) => Uint8Array | Promise<Uint8Array>): PayloadBoundStanza {
  let commitment: Uint8Array | undefined;
  const commit = (prefix: Uint8Array) => (commitment ??= keyCommitment(dataKey, prefix.subarray(15, 31)));
  return {
    type: STANZA_WRITE_SIGNATURE,
    length: WRITE_SIGNATURE_LENGTH,
    prepare(prefix) { commit(prefix); },
    build(prefix, payloadSha256) { return sign(prefix, commit(prefix), payloadSha256); },
  };
}

/** The write signature, made with this keyring's signing key. */
export function writeSignatureStanza(signing: RawKeyPair, dataKey: Uint8Array, now = () => Date.now()): PayloadBoundStanza {
  return boundSignature(dataKey, (prefix, commitment, payloadSha256) => signWriteBody(signing, prefix, commitment, payloadSha256, now()));
}

/**
 * A write signature made elsewhere (the agent, which holds the signing key): `sign` returns the whole body.
 * What comes back is checked before it lands: a body that is not a valid signature of this write fails the
 * write rather than leaving a file that looks signed and is not.
 */
export function remoteWriteSignatureStanza(dataKey: Uint8Array, sign: (prefix: Uint8Array, commitment: Uint8Array, payloadSha256: Uint8Array) => Promise<Uint8Array>): PayloadBoundStanza {
  return boundSignature(dataKey, async (prefix, commitment, payloadSha256) => {
    const body = await sign(prefix, commitment, payloadSha256);
    if (!checkWriteBody(body, prefix, commitment, payloadSha256)) throw new Error('the agent sent an invalid write signature');
    return body;
  });
}

/** Whether the parsed signature signs this prefix and payload hash (its own commitment, signer and time). */
function signatureHolds(parsed: ParsedWriteSignature, prefix: Uint8Array, payloadSha256: Uint8Array): boolean {
  return ed25519.verify(parsed.signer, signedMessage(prefix, parsed.commitment, payloadSha256, parsed.signer, parsed.atMs), parsed.signature);
}

/** Whether `body` is a valid write signature over this prefix, key commitment and payload hash. */
export function checkWriteBody(body: Uint8Array, prefix: Uint8Array, commitment: Uint8Array, payloadSha256: Uint8Array): boolean {
  const parsed = body.length === WRITE_SIGNATURE_LENGTH ? parseWriteSignature([{ type: STANZA_WRITE_SIGNATURE, body }]) : null;
  return !!parsed && parsed !== 'malformed' && constantTimeEqual(parsed.commitment, commitment) && signatureHolds(parsed, prefix, payloadSha256);
}

export interface ParsedWriteSignature { signer: Uint8Array; atMs: number; commitment: Uint8Array; signature: Uint8Array }

/** The write signature stanza, or null when there is none; 'malformed' for a wrong length or more than one. */
export function parseWriteSignature(stanzas: readonly Stanza[]): ParsedWriteSignature | null | 'malformed' {
  const found = stanzas.filter(s => s.type === STANZA_WRITE_SIGNATURE);
  if (found.length === 0) return null;
  const b = found[0]!.body;
  if (found.length > 1 || b.length !== WRITE_SIGNATURE_LENGTH) return 'malformed';
  // All zero: the placeholder of a write that never finished signing (a recording that crashed or whose
  // close could not sign, and what recovery keeps): unsigned, not forged.
  if (b.every(x => x === 0)) return null;
  const atMs = Number(new DataView(b.buffer, b.byteOffset + 32, 8).getBigUint64(0));
  return { signer: b.slice(0, 32), atMs, commitment: b.slice(40, 72), signature: b.slice(72) };
}

export type WriteSignatureCheck =
  | { state: 'unsigned' }
  | { state: 'invalid'; why: string; signer?: string }
  | { state: 'valid'; signer: string; at: Date; keyCommitted: boolean | undefined };

/**
 * Checks a file's write signature against its bytes on disk. With the file's data key the commitment is
 * checked too (`keyCommitted`); without it (inspect needs no key) it is undefined.
 */
export async function checkWriteSignature(file: string, dataKey?: Uint8Array): Promise<WriteSignatureCheck> {
  const header = await readHeaderFromFile(file);
  const parsed = parseWriteSignature(header.stanzas);
  if (parsed === null) return { state: 'unsigned' };
  if (parsed === 'malformed') return { state: 'invalid', why: 'its write signature stanza is malformed' };
  const handle = await openRegularFile(file);
  let prefix: Buffer;
  let payloadHash: Buffer;
  try {
    prefix = Buffer.alloc(PREFIX_LENGTH);
    await handle.read(prefix, 0, PREFIX_LENGTH, 0);
    payloadHash = await hashFrom(handle, header.headerLength);
  } finally { await handle.close(); }
  const signer = toHex(parsed.signer);
  if (!signatureHolds(parsed, prefix, payloadHash)) {
    return { state: 'invalid', why: 'the signature does not match the file (it was changed after it was signed)', signer };
  }
  const keyCommitted = dataKey ? constantTimeEqual(keyCommitment(dataKey, header.salt), parsed.commitment) : undefined;
  if (keyCommitted === false) return { state: 'invalid', why: 'the signature was made for another data key', signer };
  return { state: 'valid', signer, at: new Date(parsed.atMs), keyCommitted };
}
