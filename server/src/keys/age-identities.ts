// Imported age identities (docs/KEYS.md, "Imported age identities"): AGE-SECRET-KEY-1… (X25519) and
// AGE-SECRET-KEY-PQ-1… (X-Wing) keys moved out of plaintext `keys.txt` files into the key store, each sealed
// under the master key like the identity entry, so lock wipes them, rotation rewraps them and nothing of
// them is in plaintext on disk. The public halves are readable without unlocking (`identity list`).
//   <keystore>/age-identities.json  { format, version: 1, identities: [{ recipient, kind, masterKeyId, nonce, ciphertext }] }
//   ciphertext = AES-256-GCM(HKDF(master, "age-identity-wrap" ‖ id), the 32-byte secret, AAD "noteseal/v1/age-identity\0" ‖ recipient)
import fs from 'node:fs/promises';
import path from 'node:path';
import { NoteSealError } from '../crypto/errors';
import { writeFileAtomic } from '../crypto/format';
import { deriveSubkey, open, seal } from './aead';
import { constantTimeEqual, fromBase64, toBase64, utf8, wipe } from './bytes';
import { x25519 } from './curves';
import { encodeAgeHybridRecipient, encodeAgeRecipient } from './identity-strings';
import type { MasterKey, MasterKeys } from './keyfile';
import { withLock } from './lockfile';
import { xwingPublicOf, type ReceivingKey, type RecipientKindName } from './recipients';

const FORMAT = 'noteseal-age-identities';
const FILE_NAME = 'age-identities.json';

export interface HeldAgeIdentityInfo { recipient: string; kind: RecipientKindName }
interface Entry extends HeldAgeIdentityInfo { masterKeyId: string; nonce: string; ciphertext: string }

export function ageIdentitiesPath(keystoreDir: string): string {
  return path.join(keystoreDir, FILE_NAME);
}

/** The age recipient string of a receiving public key: age1… for X25519, age1pq1… for X-Wing. */
export function ageRecipientOf(kind: RecipientKindName, publicKey: Uint8Array): string {
  return kind === 'xwing' ? encodeAgeHybridRecipient(publicKey) : encodeAgeRecipient(publicKey);
}

const wrapKeyFor = (master: MasterKey) => deriveSubkey(master.key, 'age-identity-wrap', master.id);
const aadFor = (recipient: string) => utf8(`noteseal/v1/age-identity\0${recipient}`);

async function readEntries(dir: string): Promise<Entry[]> {
  let text: string;
  try { text = await fs.readFile(ageIdentitiesPath(dir), 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const damaged = () => new NoteSealError('DAMAGED_KEYFILE', `The imported age identities in ${ageIdentitiesPath(dir)} are damaged.`);
  let json: { format?: unknown; version?: unknown; identities?: unknown };
  try { json = JSON.parse(text) as typeof json; } catch { throw damaged(); }
  if (json?.format !== FORMAT || json.version !== 1 || !Array.isArray(json.identities)) throw damaged();
  for (const e of json.identities as Entry[]) {
    if (typeof e?.recipient !== 'string' || (e.kind !== 'xwing' && e.kind !== 'x25519') || typeof e.masterKeyId !== 'string'
      || typeof e.nonce !== 'string' || typeof e.ciphertext !== 'string') throw damaged();
  }
  return json.identities as Entry[];
}

async function writeEntries(dir: string, entries: readonly Entry[]): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(ageIdentitiesPath(dir), utf8(JSON.stringify({ format: FORMAT, version: 1, identities: entries }, null, 2) + '\n'), 0o600);
}

/** Read-modify-write under the store's lock, so two imports (two windows, the CLI) never lose one. */
async function update<T>(dir: string, fn: (entries: Entry[]) => Promise<{ entries: Entry[] | null; result: T }>): Promise<T> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  return withLock(path.join(dir, `${FILE_NAME}.lock`), { waitMs: 10_000, what: 'the imported age identities' }, async () => {
    const { entries, result } = await fn(await readEntries(dir));
    if (entries) await writeEntries(dir, entries);
    return result;
  });
}

function sealEntry(key: ReceivingKey, master: MasterKey): Entry {
  const recipient = ageRecipientOf(key.kind, key.publicKey);
  const wrapKey = wrapKeyFor(master);
  const sealed = seal(wrapKey, key.secretKey, aadFor(recipient));
  wipe(wrapKey);
  return { recipient, kind: key.kind, masterKeyId: master.id, nonce: toBase64(sealed.nonce), ciphertext: toBase64(sealed.ciphertext) };
}

/** Seals `keys` into the store; returns the recipients added and those already held. */
export async function importAgeIdentities(dir: string, keys: readonly ReceivingKey[], master: MasterKey): Promise<{ added: string[]; already: string[] }> {
  return update(dir, async entries => {
    const added: string[] = [], already: string[] = [];
    for (const key of keys) {
      const recipient = ageRecipientOf(key.kind, key.publicKey);
      if (entries.some(e => e.recipient === recipient) || added.includes(recipient)) { already.push(recipient); continue; }
      entries.push(sealEntry(key, master));
      added.push(recipient);
    }
    return { entries: added.length ? entries : null, result: { added, already } };
  });
}

/** The public halves held (no key needed). */
export async function listAgeIdentities(dir: string): Promise<HeldAgeIdentityInfo[]> {
  return (await readEntries(dir)).map(e => ({ recipient: e.recipient, kind: e.kind }));
}

/** Removes the identity of `recipient`; false when it was not held. */
export async function forgetAgeIdentity(dir: string, recipient: string): Promise<boolean> {
  return update(dir, async entries => {
    const kept = entries.filter(e => e.recipient !== recipient.trim().toLowerCase());
    return { entries: kept.length !== entries.length ? kept : null, result: kept.length !== entries.length };
  });
}

/** Every held identity's key pair, opened with the master keys (the caller wipes the secrets). */
export async function loadAgeIdentities(dir: string, keys: MasterKeys): Promise<ReceivingKey[]> {
  const out: ReceivingKey[] = [];
  for (const e of await readEntries(dir)) {
    const damaged = (why: string) => new NoteSealError('DAMAGED_KEYFILE', `The imported age identity ${e.recipient.slice(0, 16)}… ${why}.`);
    const master = [keys.current, ...keys.retired].find(k => k.id === e.masterKeyId);
    if (!master) throw damaged(`is wrapped under master key ${e.masterKeyId}, which this keyfile does not hold`);
    const wrapKey = wrapKeyFor(master);
    const nonce = fromBase64(e.nonce), ciphertext = fromBase64(e.ciphertext);
    const secret = nonce && ciphertext ? open(wrapKey, { nonce, ciphertext }, aadFor(e.recipient)) : null;
    wipe(wrapKey);
    if (!secret || secret.length !== 32) throw damaged('fails its integrity check');
    const publicKey = e.kind === 'xwing' ? xwingPublicOf(secret) : x25519.publicOf(secret);
    if (ageRecipientOf(e.kind, publicKey) !== e.recipient) { wipe(secret); throw damaged('does not match its public half'); }
    out.push({ kind: e.kind, secretKey: secret, publicKey });
  }
  return out;
}

/** After a rotation: rewraps every entry not yet under the current master key. Returns how many changed. */
export async function rewrapAgeIdentities(dir: string, keys: MasterKeys): Promise<number> {
  if ((await readEntries(dir)).every(e => e.masterKeyId === keys.current.id)) return 0;
  const held = await loadAgeIdentities(dir, keys);
  try {
    return await update(dir, async entries => {
      let changed = 0;
      const next = entries.map(e => {
        if (e.masterKeyId === keys.current.id) return e;
        const key = held.find(k => constantTimeEqual(utf8(ageRecipientOf(k.kind, k.publicKey)), utf8(e.recipient)));
        if (!key) return e;
        changed++;
        return sealEntry(key, keys.current);
      });
      return { entries: changed ? next : null, result: changed };
    });
  } finally { for (const k of held) wipe(k.secretKey); }
}
