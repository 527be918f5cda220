// The identity of a keyfile (docs/KEYS.md, "Identities"): a receiving key pair (X-Wing by default) that
// other members wrap data keys to, and an Ed25519 key pair that signs writes and recipient lists. The
// private halves live in the key store, wrapped under the master key like a detached data key, so a
// rotation rewraps them, the recovery key opens them and lock wipes them. Nothing new in plaintext on disk.
//   <keystore>/identity.json  { format, version, identity (the public text), masterKeyId, nonce, ciphertext }
//   ciphertext = AES-256-GCM(HKDF(master, "identity-wrap" ‖ id), kind ‖ receiving secret (32) ‖ signing secret (32),
//                            AAD "noteseal/v1/identity\0" ‖ identity text)
import fs from 'node:fs/promises';
import path from 'node:path';
import { NoteSealError } from '../crypto/errors';
import { tempSiblingPath, fsyncDirectory } from '../crypto/atomic';
import { writeFileAtomic } from '../crypto/format';
import { deriveSubkey, open, seal } from './aead';
import { concatBytes, fromBase64, toBase64, utf8, wipe } from './bytes';
import { ed25519, x25519, type RawKeyPair } from './curves';
import { encodeIdentity, parsePublicIdentity, type PublicIdentity } from './identity-strings';
import type { MasterKey, MasterKeys } from './keyfile';
import { RECIPIENT_KINDS, xwingPublicOf, type ReceivingKey, type RecipientKindName } from './recipients';

const ENTRY_FORMAT = 'noteseal-identity';
const ENTRY_NAME = 'identity.json';
const KIND_BYTE: Record<RecipientKindName, number> = { xwing: 1, x25519: 2 };
/** New identities receive with X-Wing (ML-KEM-768 + X25519): see docs/KEYS.md for why. */
export const DEFAULT_IDENTITY_KIND: RecipientKindName = 'xwing';

/** An unlocked identity: its public form and its secret keys (wipe with `wipeIdentity`). */
export interface HeldIdentity {
  public: PublicIdentity & { signingKey: Uint8Array };
  receiving: ReceivingKey;
  signing: RawKeyPair;
}

export function wipeIdentity(id: HeldIdentity | null | undefined): void {
  if (id) wipe(id.receiving.secretKey, id.signing.secretKey);
}

export function identityPath(keystoreDir: string): string {
  return path.join(keystoreDir, ENTRY_NAME);
}

const wrapKeyFor = (master: MasterKey) => deriveSubkey(master.key, 'identity-wrap', master.id);
const aadFor = (text: string) => utf8(`noteseal/v1/identity\0${text}`);

/** A new identity (not stored). */
export function generateIdentity(kind: RecipientKindName = DEFAULT_IDENTITY_KIND): HeldIdentity {
  const receiving = { kind, ...RECIPIENT_KINDS[kind].generate() };
  const signing = ed25519.generate();
  const text = encodeIdentity(kind, signing.publicKey, receiving.publicKey);
  return { public: { ...parsePublicIdentity(text), signingKey: signing.publicKey }, receiving, signing };
}

function receivingPublicOf(kind: RecipientKindName, secretKey: Uint8Array): Uint8Array {
  return kind === 'xwing' ? xwingPublicOf(secretKey) : x25519.publicOf(secretKey);
}

/** The identity from its stored secret bytes, checked against the public text it was stored with. */
function identityFromSecret(secret: Uint8Array, text: string): HeldIdentity | null {
  const kind = (Object.keys(KIND_BYTE) as RecipientKindName[]).find(k => KIND_BYTE[k] === secret[0]);
  if (!kind || secret.length !== 65) return null;
  const receivingSecret = secret.slice(1, 33);
  const signingSecret = secret.slice(33, 65);
  const receiving = { kind, secretKey: receivingSecret, publicKey: receivingPublicOf(kind, receivingSecret) };
  const signing = { secretKey: signingSecret, publicKey: ed25519.publicOf(signingSecret) };
  const expected = encodeIdentity(kind, signing.publicKey, receiving.publicKey);
  if (expected !== text) { wipe(receivingSecret, signingSecret); return null; }
  return { public: { ...parsePublicIdentity(text), signingKey: signing.publicKey }, receiving, signing };
}

function entryText(identity: HeldIdentity, master: MasterKey): string {
  const secret = concatBytes(Uint8Array.of(KIND_BYTE[identity.receiving.kind]), identity.receiving.secretKey, identity.signing.secretKey);
  const wrapKey = wrapKeyFor(master);
  const sealed = seal(wrapKey, secret, aadFor(identity.public.text));
  wipe(wrapKey, secret);
  return JSON.stringify({
    format: ENTRY_FORMAT, version: 1, identity: identity.public.text, masterKeyId: master.id,
    nonce: toBase64(sealed.nonce), ciphertext: toBase64(sealed.ciphertext),
  }, null, 2) + '\n';
}

/** The public identity text from the store, without unlocking (null if there is none). Not authenticated. */
export async function readPublicIdentity(keystoreDir: string): Promise<PublicIdentity | null> {
  const entry = await readEntry(keystoreDir);
  return entry ? parsePublicIdentity(entry.identity) : null;
}

interface Entry { identity: string; masterKeyId: string; nonce: Uint8Array; ciphertext: Uint8Array }

async function readEntry(keystoreDir: string): Promise<Entry | null> {
  let text: string;
  try { text = await fs.readFile(identityPath(keystoreDir), 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const damaged = () => new NoteSealError('DAMAGED_KEYFILE', `The identity in ${identityPath(keystoreDir)} is damaged.`);
  let json: Record<string, unknown>;
  try { json = JSON.parse(text) as Record<string, unknown>; } catch { throw damaged(); }
  const nonce = typeof json.nonce === 'string' ? fromBase64(json.nonce) : null;
  const ciphertext = typeof json.ciphertext === 'string' ? fromBase64(json.ciphertext) : null;
  if (json.format !== ENTRY_FORMAT || json.version !== 1 || typeof json.identity !== 'string'
    || typeof json.masterKeyId !== 'string' || !nonce || !ciphertext) throw damaged();
  return { identity: json.identity, masterKeyId: json.masterKeyId, nonce, ciphertext };
}

/** The stored identity opened with the master keys; null when there is none. DAMAGED_KEYFILE if it fails its checks. */
export async function loadIdentity(keystoreDir: string, keys: MasterKeys): Promise<HeldIdentity | null> {
  const entry = await readEntry(keystoreDir);
  if (!entry) return null;
  const damaged = (why: string) => new NoteSealError('DAMAGED_KEYFILE', `The identity in ${identityPath(keystoreDir)} ${why}.`);
  const master = [keys.current, ...keys.retired].find(k => k.id === entry.masterKeyId);
  if (!master) throw damaged(`is wrapped under master key ${entry.masterKeyId}, which this keyfile does not hold`);
  const wrapKey = wrapKeyFor(master);
  const secret = open(wrapKey, entry, aadFor(entry.identity));
  wipe(wrapKey);
  if (!secret) throw damaged('fails its integrity check');
  const identity = identityFromSecret(secret, entry.identity);
  wipe(secret);
  if (!identity) throw damaged('does not match its public half');
  return identity;
}

/**
 * Stores `identity` under the current master key. With `create`, never replaces an existing identity (two
 * windows creating one at once: one wins, and `false` tells the loser to load the winner's).
 */
export async function storeIdentity(keystoreDir: string, identity: HeldIdentity, master: MasterKey, opts: { create?: boolean } = {}): Promise<boolean> {
  await fs.mkdir(keystoreDir, { recursive: true, mode: 0o700 });
  const file = identityPath(keystoreDir);
  const text = entryText(identity, master);
  if (!opts.create) {
    await writeFileAtomic(file, utf8(text), 0o600);
    return true;
  }
  const tmp = tempSiblingPath(file);
  const handle = await fs.open(tmp, 'wx', 0o600);
  try { await handle.writeFile(text, 'utf8'); await handle.sync(); } finally { await handle.close(); }
  try {
    await fs.link(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await fs.unlink(tmp).catch(() => undefined);
  }
  await fsyncDirectory(keystoreDir);
  return true;
}

/** After a rotation: rewraps the identity under the new current master key (if it is not already). */
export async function rewrapIdentity(keystoreDir: string, keys: MasterKeys): Promise<boolean> {
  const entry = await readEntry(keystoreDir);
  if (!entry || entry.masterKeyId === keys.current.id) return false;
  const identity = await loadIdentity(keystoreDir, keys);
  if (!identity) return false;
  try { await storeIdentity(keystoreDir, identity, keys.current); } finally { wipeIdentity(identity); }
  return true;
}
