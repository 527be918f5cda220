// age's post-quantum hybrid type (c2sp.org/age, "mlkem768x25519"): `-> mlkem768x25519 <enc>`, where enc is
// an X-Wing (ML-KEM-768 + X25519) encapsulation and the body is HPKE (RFC 9180) base mode with X-Wing
// (KEM 0x647a), HKDF-SHA256 and ChaCha20-Poly1305, info "age-encryption.org/mlkem768x25519". NoteSeal's own
// identities receive with X-Wing keys, so every NoteSeal identity is an age1pq1 recipient as it is.
import { createHmac } from 'node:crypto';
import { xwingKem as xwing } from '../../keys/noble-lazy';
import { wipe } from '../../keys/bytes';
import { x25519 } from '../../keys/curves';
import { xwingPublicOf } from '../../keys/recipients';
import { chachaOpen, chachaSeal } from './chacha';
import { headerFailure } from './errors';
import { decodeRawBase64, encodeRawBase64 } from './base64';
import { FILE_KEY_LENGTH, type AgeStanza } from './header';
import { stanzasOfType, type AgeIdentity, type AgeRecipient } from './recipient';

export const HYBRID_TYPE = 'mlkem768x25519';
const INFO = Buffer.from('age-encryption.org/mlkem768x25519', 'latin1');
const ENC_LENGTH = 1120;
/** The X25519 half of an X-Wing ciphertext is its last 32 bytes. */
const X25519_SHARE_OFFSET = ENC_LENGTH - 32;
const SUITE_ID = Buffer.from([...Buffer.from('HPKE', 'latin1'), 0x64, 0x7a, 0x00, 0x01, 0x00, 0x03]);
const HPKE_V1 = Buffer.from('HPKE-v1', 'latin1');
/** Any clamped scalar maps exactly the low-order X25519 points to zero (see xwingPublicKeyProblem). */
const PROBE_SCALAR = new Uint8Array(32).fill(0x5a);

const hmac = (key: Uint8Array, ...data: Uint8Array[]) => {
  const h = createHmac('sha256', key);
  for (const d of data) h.update(d);
  return h.digest();
};
const labeledExtract = (salt: Uint8Array, label: string, ikm: Uint8Array) =>
  hmac(salt.length ? salt : new Uint8Array(32), HPKE_V1, SUITE_ID, Buffer.from(label, 'latin1'), ikm);
/** HKDF-Expand for one block (every length asked for here is at most 32). */
const labeledExpand = (prk: Uint8Array, label: string, info: Uint8Array, length: number) =>
  hmac(prk, Buffer.from([length >> 8, length & 0xff]), HPKE_V1, SUITE_ID, Buffer.from(label, 'latin1'), info, Uint8Array.of(1)).subarray(0, length);

/** HPKE's key schedule in base mode: the AEAD key and nonce of the first (only) message. */
function keySchedule(sharedSecret: Uint8Array): { key: Buffer; nonce: Buffer } {
  const empty = new Uint8Array(0);
  const context = Buffer.concat([Uint8Array.of(0), labeledExtract(empty, 'psk_id_hash', empty), labeledExtract(empty, 'info_hash', INFO)]);
  const secret = labeledExtract(sharedSecret, 'secret', empty);
  try {
    return { key: labeledExpand(secret, 'key', context, 32), nonce: labeledExpand(secret, 'base_nonce', context, 12) };
  } finally { secret.fill(0); }
}

export function hybridRecipient(publicKey: Uint8Array): AgeRecipient {
  return {
    type: HYBRID_TYPE,
    wrap(fileKey) {
      const { cipherText, sharedSecret } = xwing().encapsulate(publicKey);
      const { key, nonce } = keySchedule(sharedSecret);
      try {
        return { args: [HYBRID_TYPE, encodeRawBase64(cipherText)], body: chachaSeal(key, nonce, fileKey) };
      } finally { wipe(sharedSecret, key); }
    },
  };
}

/** An identity from an X-Wing seed (AGE-SECRET-KEY-PQ-1…, or a NoteSeal identity's receiving key). */
export function hybridIdentity(seed: Uint8Array): AgeIdentity {
  return {
    type: HYBRID_TYPE,
    unwrap(stanzas) {
      for (const s of stanzasOfType(stanzas, HYBRID_TYPE)) {
        const key = openStanza(s, seed);
        if (key) return key;
      }
      return null;
    },
    wipe: () => wipe(seed),
  };
}

function openStanza(s: AgeStanza, seed: Uint8Array): Uint8Array | null {
  if (s.args.length !== 2) throw headerFailure('an mlkem768x25519 stanza has the wrong number of arguments');
  const enc = decodeRawBase64(s.args[1]!);
  if (!enc || enc.length !== ENC_LENGTH) throw headerFailure('an mlkem768x25519 stanza\'s encapsulation is malformed');
  if (s.body.length !== FILE_KEY_LENGTH + 16) throw headerFailure('an mlkem768x25519 stanza\'s body has the wrong length');
  // X-Wing itself does not refuse an all-zero X25519 secret; age does (a low-order share), and so do we.
  if (!x25519.shared(PROBE_SCALAR, enc.subarray(X25519_SHARE_OFFSET))) throw headerFailure('an mlkem768x25519 stanza\'s X25519 share is a low-order point');
  let shared: Uint8Array;
  try { shared = xwing().decapsulate(enc, seed); } catch { return null; }
  const { key, nonce } = keySchedule(shared);
  try { return chachaOpen(key, nonce, s.body); } finally { wipe(shared, key); }
}

export { xwingPublicOf as hybridPublicOf };
