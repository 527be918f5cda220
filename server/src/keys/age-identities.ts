// Imported age identities (docs/KEYS.md, "Imported age identities"): AGE-SECRET-KEY-1… (X25519) and
// AGE-SECRET-KEY-PQ-1… (X-Wing) keys moved out of plaintext `keys.txt` files into the key store, each sealed
// under the master key like the identity entry, so lock wipes them, rotation rewraps them and nothing of
// them is in plaintext on disk. The public halves are readable without unlocking (`identity list`).
//   <keystore>/age-identities.json  { format, version: 1, identities: [{ recipient, kind, masterKeyId, nonce, ciphertext }] }
//   ciphertext = AES-256-GCM(HKDF(master, "age-identity-wrap" ‖ id), the 32-byte secret, AAD "noteseal/v1/age-identity\0" ‖ recipient)
// The store itself (reading, locking, sealing, rewrapping) is sealed-secrets.ts, shared with dotenvx keys.
import path from 'node:path';
import { constantTimeEqual, utf8, wipe } from './bytes';
import { x25519 } from './curves';
import { encodeAgeHybridRecipient, encodeAgeRecipient } from './identity-strings';
import type { MasterKey, MasterKeys } from './keyfile';
import { xwingPublicOf, type ReceivingKey, type RecipientKindName } from './recipients';
import { SealedSecrets, type Sealed } from './sealed-secrets';

const FILE_NAME = 'age-identities.json';

export interface HeldAgeIdentityInfo { recipient: string; kind: RecipientKindName }

const store = (dir: string) => new SealedSecrets<HeldAgeIdentityInfo>({
  file: FILE_NAME, format: 'noteseal-age-identities', list: 'identities', what: 'the imported age identities',
  wrapInfo: 'age-identity-wrap', aadPrefix: 'noteseal/v1/age-identity\0',
  idOf: e => e.recipient,
  wellFormed: e => typeof e.recipient === 'string' && (e.kind === 'xwing' || e.kind === 'x25519'),
}, dir);

export function ageIdentitiesPath(keystoreDir: string): string {
  return path.join(keystoreDir, FILE_NAME);
}

/** The age recipient string of a receiving public key: age1… for X25519, age1pq1… for X-Wing. */
export function ageRecipientOf(kind: RecipientKindName, publicKey: Uint8Array): string {
  return kind === 'xwing' ? encodeAgeHybridRecipient(publicKey) : encodeAgeRecipient(publicKey);
}

function sealEntry(dir: string, key: ReceivingKey, master: MasterKey): Sealed<HeldAgeIdentityInfo> {
  return store(dir).seal({ recipient: ageRecipientOf(key.kind, key.publicKey), kind: key.kind }, key.secretKey, master);
}

/** Seals `keys` into the store; returns the recipients added and those already held. */
export async function importAgeIdentities(dir: string, keys: readonly ReceivingKey[], master: MasterKey): Promise<{ added: string[]; already: string[] }> {
  return store(dir).update(entries => {
    const added: string[] = [], already: string[] = [];
    for (const key of keys) {
      const recipient = ageRecipientOf(key.kind, key.publicKey);
      if (entries.some(e => e.recipient === recipient) || added.includes(recipient)) { already.push(recipient); continue; }
      entries.push(sealEntry(dir, key, master));
      added.push(recipient);
    }
    return { entries: added.length ? entries : null, result: { added, already } };
  });
}

/** The public halves held (no key needed). */
export async function listAgeIdentities(dir: string): Promise<HeldAgeIdentityInfo[]> {
  return (await store(dir).read()).map(e => ({ recipient: e.recipient, kind: e.kind }));
}

/** Removes the identity of `recipient`; false when it was not held. */
export async function forgetAgeIdentity(dir: string, recipient: string): Promise<boolean> {
  return store(dir).update(entries => {
    const kept = entries.filter(e => e.recipient !== recipient.trim().toLowerCase());
    return { entries: kept.length !== entries.length ? kept : null, result: kept.length !== entries.length };
  });
}

/** One entry's key pair, checked against its public half (the caller wipes the secret). */
function openEntry(dir: string, e: Sealed<HeldAgeIdentityInfo>, keys: MasterKeys): ReceivingKey {
  const name = `The imported age identity ${e.recipient.slice(0, 16)}…`;
  const secret = store(dir).open(e, keys, name);
  const publicKey = e.kind === 'xwing' ? xwingPublicOf(secret) : x25519.publicOf(secret);
  if (!constantTimeEqual(utf8(ageRecipientOf(e.kind, publicKey)), utf8(e.recipient))) {
    wipe(secret);
    throw store(dir).damaged(`${name} does not match its public half.`);
  }
  return { kind: e.kind, secretKey: secret, publicKey };
}

/** Every held identity's key pair, opened with the master keys (the caller wipes the secrets). */
export async function loadAgeIdentities(dir: string, keys: MasterKeys): Promise<ReceivingKey[]> {
  const out: ReceivingKey[] = [];
  try {
    for (const e of await store(dir).read()) out.push(openEntry(dir, e, keys));
  } catch (e) { for (const k of out) wipe(k.secretKey); throw e; }
  return out;
}

/** After a rotation: rewraps every entry not yet under the current master key. Returns how many changed. */
export async function rewrapAgeIdentities(dir: string, keys: MasterKeys): Promise<number> {
  return store(dir).rewrap(keys, e => openEntry(dir, e, keys).secretKey);
}
