// Imported dotenvx private keys (docs/KEYS.md, "Imported dotenvx private keys"): the DOTENV_PRIVATE_KEY… entries of
// a `.env.keys` file moved into the key store, each sealed under the master key like imported age
// identities, so lock wipes them, rotation rewraps them and nothing of them stays in plaintext. The public
// halves (the DOTENV_PUBLIC_KEY… they open) are readable without unlocking.
//   <keystore>/dotenvx-keys.json  { format, version: 1, keys: [{ publicKey, masterKeyId, nonce, ciphertext }] }
//   ciphertext = AES-256-GCM(HKDF(master, "dotenvx-key-wrap" ‖ id), the 32-byte secret, AAD "noteseal/v1/dotenvx-key\0" ‖ publicKey)
// The store itself (reading, locking, sealing, rewrapping) is sealed-secrets.ts, shared with age identities.
import path from 'node:path';
import { NoteSealError } from '../crypto/errors';
import { secp256k1 } from './noble-lazy';
import { wipe } from './bytes';
import type { MasterKey, MasterKeys } from './keyfile';
import { SealedSecrets, type Sealed } from './sealed-secrets';

const FILE_NAME = 'dotenvx-keys.json';

interface HeldDotenvxKey { publicKey: string }

const store = (dir: string) => new SealedSecrets<HeldDotenvxKey>({
  file: FILE_NAME, format: 'noteseal-dotenvx-keys', list: 'keys', what: 'the imported dotenvx keys',
  wrapInfo: 'dotenvx-key-wrap', aadPrefix: 'noteseal/v1/dotenvx-key\0',
  idOf: e => e.publicKey,
  wellFormed: e => typeof e.publicKey === 'string',
}, dir);

/** The public key a 32-byte secret key opens (compressed, hex, as dotenvx prints it); null for a malformed one. */
export function publicHexOfSecret(secretKey: Uint8Array): string | null {
  try { return Buffer.from(secp256k1().getPublicKey(secretKey, true)).toString('hex'); } catch { return null; }
}

export function dotenvxKeysPath(keystoreDir: string): string {
  return path.join(keystoreDir, FILE_NAME);
}

/** Seals private keys into the store; returns the public keys (hex) added and those already held. */
export async function importDotenvxKeys(dir: string, secrets: readonly Uint8Array[], master: MasterKey): Promise<{ added: string[]; already: string[] }> {
  return store(dir).update(entries => {
    const added: string[] = [], already: string[] = [];
    for (const secret of secrets) {
      const publicKey = publicHexOfSecret(secret);
      if (!publicKey) throw new NoteSealError('INVALID_ARGUMENT', 'a DOTENV_PRIVATE_KEY value is not a secp256k1 private key');
      if (entries.some(e => e.publicKey === publicKey) || added.includes(publicKey)) { already.push(publicKey); continue; }
      entries.push(store(dir).seal({ publicKey }, secret, master));
      added.push(publicKey);
    }
    return { entries: added.length ? entries : null, result: { added, already } };
  });
}

/** The public keys (hex) whose private keys are held: no key needed. */
export async function listDotenvxKeys(dir: string): Promise<string[]> {
  return (await store(dir).read()).map(e => e.publicKey);
}

/** Removes the private key of `publicKey` (hex); false when it was not held. */
export async function forgetDotenvxKey(dir: string, publicKey: string): Promise<boolean> {
  const hex = publicKey.trim().toLowerCase();
  return store(dir).update(entries => {
    const kept = entries.filter(e => e.publicKey !== hex);
    return { entries: kept.length !== entries.length ? kept : null, result: kept.length !== entries.length };
  });
}

/** One entry's private key, checked against its public key (the caller wipes it). */
function openEntry(dir: string, e: Sealed<HeldDotenvxKey>, keys: MasterKeys): Uint8Array {
  const name = `The imported dotenvx key for ${e.publicKey.slice(0, 10)}…`;
  const secret = store(dir).open(e, keys, name);
  if (publicHexOfSecret(secret) !== e.publicKey) { wipe(secret); throw store(dir).damaged(`${name} does not match its public key.`); }
  return secret;
}

/** The private key for `publicKey` (hex), opened with the master keys, or null when none is held (the caller wipes it). */
export async function loadDotenvxKey(dir: string, keys: MasterKeys, publicKey: string): Promise<Uint8Array | null> {
  const e = (await store(dir).read()).find(x => x.publicKey === publicKey);
  return e ? openEntry(dir, e, keys) : null;
}

/** After a rotation: rewraps every entry not yet under the current master key. Returns how many changed. */
export async function rewrapDotenvxKeys(dir: string, keys: MasterKeys): Promise<number> {
  return store(dir).rewrap(keys, e => openEntry(dir, e, keys));
}
