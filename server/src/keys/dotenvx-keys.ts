// Imported dotenvx private keys (docs/KEYS.md, "Imported dotenvx private keys"): the DOTENV_PRIVATE_KEY… entries of
// a `.env.keys` file moved into the key store, each sealed under the master key like imported age
// identities, so lock wipes them, rotation rewraps them and nothing of them stays in plaintext. The public
// halves (the DOTENV_PUBLIC_KEY… they open) are readable without unlocking.
//   <keystore>/dotenvx-keys.json  { format, version: 1, keys: [{ publicKey, masterKeyId, nonce, ciphertext }] }
//   ciphertext = AES-256-GCM(HKDF(master, "dotenvx-key-wrap" ‖ id), the 32-byte secret, AAD "noteseal/v1/dotenvx-key\0" ‖ publicKey)
import fs from 'node:fs/promises';
import path from 'node:path';
import { NoteSealError } from '../crypto/errors';
import { writeFileAtomic } from '../crypto/format';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { deriveSubkey, open, seal } from './aead';
import { fromBase64, toBase64, utf8, wipe } from './bytes';
import type { MasterKey, MasterKeys } from './keyfile';
import { withLock } from './lockfile';

const FORMAT = 'noteseal-dotenvx-keys';
const FILE_NAME = 'dotenvx-keys.json';

interface Entry { publicKey: string; masterKeyId: string; nonce: string; ciphertext: string }

/** The public key a 32-byte secret key opens (compressed, hex, as dotenvx prints it); null for a malformed one. */
export function publicHexOfSecret(secretKey: Uint8Array): string | null {
  try { return Buffer.from(secp256k1.getPublicKey(secretKey, true)).toString('hex'); } catch { return null; }
}

export function dotenvxKeysPath(keystoreDir: string): string {
  return path.join(keystoreDir, FILE_NAME);
}

const wrapKeyFor = (master: MasterKey) => deriveSubkey(master.key, 'dotenvx-key-wrap', master.id);
const aadFor = (publicKey: string) => utf8(`noteseal/v1/dotenvx-key\0${publicKey}`);

async function readEntries(dir: string): Promise<Entry[]> {
  let text: string;
  try { text = await fs.readFile(dotenvxKeysPath(dir), 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const damaged = () => new NoteSealError('DAMAGED_KEYFILE', `The imported dotenvx keys in ${dotenvxKeysPath(dir)} are damaged.`);
  let json: { format?: unknown; version?: unknown; keys?: unknown };
  try { json = JSON.parse(text) as typeof json; } catch { throw damaged(); }
  if (json?.format !== FORMAT || json.version !== 1 || !Array.isArray(json.keys)) throw damaged();
  for (const e of json.keys as Entry[]) {
    if (typeof e?.publicKey !== 'string' || typeof e.masterKeyId !== 'string' || typeof e.nonce !== 'string' || typeof e.ciphertext !== 'string') throw damaged();
  }
  return json.keys as Entry[];
}

/** Read-modify-write under the store's lock, so two imports never lose one. */
async function update<T>(dir: string, fn: (entries: Entry[]) => { entries: Entry[] | null; result: T }): Promise<T> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  return withLock(path.join(dir, `${FILE_NAME}.lock`), { waitMs: 10_000, what: 'the imported dotenvx keys' }, async () => {
    const { entries, result } = fn(await readEntries(dir));
    if (entries) await writeFileAtomic(dotenvxKeysPath(dir), utf8(JSON.stringify({ format: FORMAT, version: 1, keys: entries }, null, 2) + '\n'), 0o600);
    return result;
  });
}

function sealEntry(publicKey: string, secret: Uint8Array, master: MasterKey): Entry {
  const wrapKey = wrapKeyFor(master);
  const sealed = seal(wrapKey, secret, aadFor(publicKey));
  wipe(wrapKey);
  return { publicKey, masterKeyId: master.id, nonce: toBase64(sealed.nonce), ciphertext: toBase64(sealed.ciphertext) };
}

/** Seals private keys into the store; returns the public keys (hex) added and those already held. */
export async function importDotenvxKeys(dir: string, secrets: readonly Uint8Array[], master: MasterKey): Promise<{ added: string[]; already: string[] }> {
  return update(dir, entries => {
    const added: string[] = [], already: string[] = [];
    for (const secret of secrets) {
      const publicKey = publicHexOfSecret(secret);
      if (!publicKey) throw new NoteSealError('INVALID_ARGUMENT', 'a DOTENV_PRIVATE_KEY value is not a secp256k1 private key');
      if (entries.some(e => e.publicKey === publicKey) || added.includes(publicKey)) { already.push(publicKey); continue; }
      entries.push(sealEntry(publicKey, secret, master));
      added.push(publicKey);
    }
    return { entries: added.length ? entries : null, result: { added, already } };
  });
}

/** The public keys (hex) whose private keys are held: no key needed. */
export async function listDotenvxKeys(dir: string): Promise<string[]> {
  return (await readEntries(dir)).map(e => e.publicKey);
}

/** The private key for `publicKey` (hex), opened with the master keys, or null when none is held (the caller wipes it). */
export async function loadDotenvxKey(dir: string, keys: MasterKeys, publicKey: string): Promise<Uint8Array | null> {
  const e = (await readEntries(dir)).find(x => x.publicKey === publicKey);
  if (!e) return null;
  const damaged = (why: string) => new NoteSealError('DAMAGED_KEYFILE', `The imported dotenvx key for ${publicKey.slice(0, 10)}… ${why}.`);
  const master = [keys.current, ...keys.retired].find(k => k.id === e.masterKeyId);
  if (!master) throw damaged(`is wrapped under master key ${e.masterKeyId}, which this keyfile does not hold`);
  const wrapKey = wrapKeyFor(master);
  const nonce = fromBase64(e.nonce), ciphertext = fromBase64(e.ciphertext);
  const secret = nonce && ciphertext ? open(wrapKey, { nonce, ciphertext }, aadFor(e.publicKey)) : null;
  wipe(wrapKey);
  if (!secret || secret.length !== 32) throw damaged('fails its integrity check');
  if (publicHexOfSecret(secret) !== publicKey) { wipe(secret); throw damaged('does not match its public key'); }
  return secret;
}

/** After a rotation: rewraps every entry not yet under the current master key. Returns how many changed. */
export async function rewrapDotenvxKeys(dir: string, keys: MasterKeys): Promise<number> {
  const stale = (await readEntries(dir)).filter(e => e.masterKeyId !== keys.current.id);
  if (stale.length === 0) return 0;
  const opened = new Map<string, Uint8Array>();
  try {
    for (const e of stale) { const s = await loadDotenvxKey(dir, keys, e.publicKey); if (s) opened.set(e.publicKey, s); }
    return await update(dir, entries => {
      let changed = 0;
      const next = entries.map(e => {
        const secret = e.masterKeyId === keys.current.id ? undefined : opened.get(e.publicKey);
        if (!secret) return e;
        changed++;
        return sealEntry(e.publicKey, secret, keys.current);
      });
      return { entries: changed ? next : null, result: changed };
    });
  } finally { for (const s of opened.values()) wipe(s); }
}
