// The recipient stanzas this key hierarchy writes into a file header. The format treats them as opaque.
//   type 1 (MASTER_WRAPPED): masterKeyId (8) | nonce (12) | AES-256-GCM(wrap key, data key) (32 + 16)
//          wrap key = HKDF(master key, info "file-key-wrap" + master key id) -- never Argon2id per file.
//   type 2 (DETACHED):       keyId (16): the data key lives in the key store, so it can be shredded.
import type { Stanza } from '../crypto/format';
import { deriveSubkey, KEY_LENGTH, NONCE_LENGTH, open, seal, TAG_LENGTH } from './aead';
import { concatBytes, fromHex, toHex, utf8, wipe } from './bytes';
import type { MasterKey } from './keyfile';

export const STANZA_MASTER_WRAPPED = 1;
export const STANZA_DETACHED = 2;

const MASTER_ID_BYTES = 8;
export const DETACHED_ID_BYTES = 16;
const MASTER_BODY_LENGTH = MASTER_ID_BYTES + NONCE_LENGTH + KEY_LENGTH + TAG_LENGTH;

export type ParsedStanza =
  | { kind: 'master-wrapped'; type: 1; masterKeyId: string; nonce: Uint8Array; wrappedKey: Uint8Array }
  | { kind: 'detached'; type: 2; keyId: string }
  | { kind: 'unknown'; type: number; length: number };

/** Reads a stanza body; anything this build does not understand (or malformed) is 'unknown', never an error. */
export function parseStanza(stanza: Stanza): ParsedStanza {
  const { type, body } = stanza;
  if (type === STANZA_MASTER_WRAPPED && body.length === MASTER_BODY_LENGTH) {
    return {
      kind: 'master-wrapped', type,
      masterKeyId: toHex(body.subarray(0, MASTER_ID_BYTES)),
      nonce: body.slice(MASTER_ID_BYTES, MASTER_ID_BYTES + NONCE_LENGTH),
      wrappedKey: body.slice(MASTER_ID_BYTES + NONCE_LENGTH),
    };
  }
  if (type === STANZA_DETACHED && body.length === DETACHED_ID_BYTES) {
    return { kind: 'detached', type, keyId: toHex(body) };
  }
  return { kind: 'unknown', type, length: body.length };
}

function stanzaAad(masterKeyId: string): Uint8Array {
  return utf8(`noteseal/v1/stanza-1\0${masterKeyId}`);
}

function fileWrapKey(master: MasterKey): Uint8Array {
  return deriveSubkey(master.key, 'file-key-wrap', master.id);
}

export function wrapDataKeyStanza(master: MasterKey, dataKey: Uint8Array): Stanza {
  const wrapKey = fileWrapKey(master);
  const { nonce, ciphertext } = seal(wrapKey, dataKey, stanzaAad(master.id));
  wipe(wrapKey);
  return { type: STANZA_MASTER_WRAPPED, body: concatBytes(fromHex(master.id)!, nonce, ciphertext) };
}

/** The data key in a type-1 stanza, or null when `master` does not open it. */
export function unwrapDataKeyStanza(
  stanza: Extract<ParsedStanza, { kind: 'master-wrapped' }>, master: MasterKey,
): Uint8Array | null {
  const wrapKey = fileWrapKey(master);
  const dataKey = open(wrapKey, { nonce: stanza.nonce, ciphertext: stanza.wrappedKey }, stanzaAad(master.id));
  wipe(wrapKey);
  return dataKey;
}

export function detachedStanza(keyId: string): Stanza {
  const body = fromHex(keyId);
  if (!body || body.length !== DETACHED_ID_BYTES) throw new Error('detached key id must be 16 bytes of hex');
  return { type: STANZA_DETACHED, body };
}
