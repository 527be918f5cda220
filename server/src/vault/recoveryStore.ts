// Sealed recovery copies: the unsaved text of a note that could not be saved (locked, a conflict, a worker
// restart), kept encrypted until the next unlock offers it back. Sealing must work while NoteSeal is locked
// (a restarted worker holds no key), so it is public-key sealing: an X25519 recipient key pair whose
// private half is itself a NoteSeal file under the master key, and whose public half lets anyone, keyless,
// seal to it. Each copy is an ordinary NoteSeal `.enc` file (so it is authenticated like any note) whose
// data key is wrapped in stanza type 3 for the recipient (docs/ARCHITECTURE.md, "Stanzas").
//
// Layout, beside the keyfile and its key store (the user's private config folder, never a repository):
//   <keyfile minus .json>.recovery/recipient.json     { format, version, publicKey }   (not secret)
//   <keyfile minus .json>.recovery/recipient.key.enc  the private key, a NoteSeal file (type-1 stanza)
//   <keyfile minus .json>.recovery/<32 hex>.enc        one sealed copy per note
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { decryptBuffer, encryptBuffer, writeFileAtomic, type Stanza } from '../crypto/format';
import { concatBytes, utf8, wipe } from '../keys/bytes';
import { x25519 } from '../keys/curves';
import { openFromX25519, sealToX25519 } from '../keys/recipients';
import type { Keyring } from '../keys/keyring';
import type { RecoveryCopy } from '../protocol';
import { WorkerError } from './workerErrors';
import { withWipedDataKeys } from './dataKeys';

export const STANZA_RECOVERY = 3;
const RECIPIENT_FORMAT = 'noteseal-recovery-recipient';
const ID = /^[0-9a-f]{32}$/;

export function recoveryDirFor(keyfilePath: string): string {
  return path.join(path.dirname(keyfilePath), `${path.basename(keyfilePath).replace(/\.json$/i, '')}.recovery`);
}

function b64url(b: Uint8Array): string { return Buffer.from(b).toString('base64url'); }

/** Type 3 is the X25519 recipient stanza's layout (keys/recipients/x25519.ts) with labels of its own. */
const RECOVERY_LABELS = { info: 'noteseal/v1/recovery-wrap', aadPrefix: 'noteseal/v1/stanza-3\0' };

export class RecoveryStore {
  constructor(readonly dir: string) {}

  private file(id: string): string {
    if (!ID.test(id)) throw new WorkerError('INVALID_ARGUMENT', 'Not a recovery copy id.');
    return path.join(this.dir, `${id}.enc`);
  }

  private async readRecipient(): Promise<Uint8Array | undefined> {
    let json: { format?: string; publicKey?: string };
    try { json = JSON.parse(await fs.readFile(path.join(this.dir, 'recipient.json'), 'utf8')); } catch { return undefined; }
    const key = json.format === RECIPIENT_FORMAT && typeof json.publicKey === 'string' ? Buffer.from(json.publicKey, 'base64url') : undefined;
    return key?.length === 32 ? new Uint8Array(key) : undefined;
  }

  private async writeRecipient(publicKey: Uint8Array): Promise<void> {
    await writeFileAtomic(path.join(this.dir, 'recipient.json'), utf8(JSON.stringify({ format: RECIPIENT_FORMAT, version: 1, publicKey: b64url(publicKey) }) + '\n'));
  }

  /** The recipient's private key, decrypted with the unlocked keyring (caller wipes `d`). */
  private async privateKey(keyring: Keyring): Promise<{ x: Uint8Array; d: Uint8Array } | undefined> {
    let sealed: Buffer;
    try { sealed = await fs.readFile(path.join(this.dir, 'recipient.key.enc')); } catch { return undefined; }
    const plain = await withWipedDataKeys(keyring.unwrap, unwrap => decryptBuffer(sealed, unwrap));
    try {
      const { x, d } = JSON.parse(plain.toString('utf8')) as { x: string; d: string };
      return { x: new Uint8Array(Buffer.from(x, 'base64url')), d: new Uint8Array(Buffer.from(d, 'base64url')) };
    } finally { wipe(plain); }
  }

  /**
   * Run after every unlock: makes the recipient key pair if there is none, and puts the public half back
   * if it went missing or was altered (it is checked against the private half, which only the key opens).
   */
  async ensureRecipient(keyring: Keyring): Promise<'created' | 'repaired' | 'ok'> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const existing = await this.privateKey(keyring);
    if (existing) {
      wipe(existing.d);
      const pub = await this.readRecipient();
      if (pub && Buffer.from(pub).equals(existing.x)) return 'ok';
      await this.writeRecipient(existing.x);
      return 'repaired';
    }
    const pair = x25519.generate();
    const { dataKey, stanzas } = await keyring.newFileStanzas();
    const plain = utf8(JSON.stringify({ x: b64url(pair.publicKey), d: b64url(pair.secretKey) }));
    try { await writeFileAtomic(path.join(this.dir, 'recipient.key.enc'), encryptBuffer(plain, dataKey, stanzas)); } finally { wipe(dataKey, plain, pair.secretKey); }
    await this.writeRecipient(pair.publicKey);
    return 'created';
  }

  /** Seals `data` (the text of the note at `notePath`); needs no key. Returns the copy's id. */
  async seal(notePath: string, data: Uint8Array): Promise<string> {
    const recipient = await this.readRecipient();
    if (!recipient) throw new WorkerError('NOT_INITIALIZED', 'No recovery key yet: NoteSeal makes one the first time it is unlocked.');
    const dataKey = new Uint8Array(randomBytes(32));
    const meta = utf8(JSON.stringify({ path: notePath, savedAt: new Date().toISOString() }));
    const payload = concatBytes(new Uint8Array(Buffer.alloc(4)), meta, data);
    new DataView(payload.buffer, payload.byteOffset).setUint32(0, meta.length);
    try {
      const stanza: Stanza = { type: STANZA_RECOVERY, body: sealToX25519(recipient, dataKey, RECOVERY_LABELS) };
      const id = randomBytes(16).toString('hex');
      await writeFileAtomic(this.file(id), encryptBuffer(payload, dataKey, [stanza]));
      return id;
    } finally { wipe(dataKey, payload); }
  }

  /** Opens one copy with the recipient key (needs the vault unlocked). */
  private async openCopy(id: string, d: Uint8Array, x: Uint8Array): Promise<{ path: string; savedAt: string; data: Buffer }> {
    const plain = await decryptBuffer(await fs.readFile(this.file(id)), stanzas => {
      for (const s of stanzas) {
        if (s.type !== STANZA_RECOVERY || s.body.length !== 32 + 12 + 48) continue;
        const dataKey = openFromX25519(s.body, d, x, RECOVERY_LABELS);
        if (dataKey) return dataKey;
      }
      throw new WorkerError('WRONG_KEY', 'This recovery copy was sealed for another recovery key.');
    });
    const metaLength = plain.readUInt32BE(0);
    const meta = JSON.parse(plain.subarray(4, 4 + metaLength).toString('utf8')) as { path: string; savedAt: string };
    return { path: meta.path, savedAt: meta.savedAt, data: plain.subarray(4 + metaLength) };
  }

  private async withRecipient<T>(keyring: Keyring, run: (d: Uint8Array, x: Uint8Array) => Promise<T>): Promise<T | undefined> {
    const key = await this.privateKey(keyring);
    if (!key) return undefined;
    try { return await run(key.d, key.x); } finally { wipe(key.d); }
  }

  /** Every copy that opens (oldest first); copies that do not open are reported by the log, not deleted. */
  async list(keyring: Keyring, onBroken: (id: string, e: Error) => void = () => undefined): Promise<RecoveryCopy[]> {
    let names: string[];
    try { names = await fs.readdir(this.dir); } catch { return []; }
    const ids = names.filter(n => n.endsWith('.enc') && ID.test(n.slice(0, -4))).map(n => n.slice(0, -4));
    const copies = await this.withRecipient(keyring, async (d, x) => {
      const out: RecoveryCopy[] = [];
      for (const id of ids) {
        try {
          const c = await this.openCopy(id, d, x);
          out.push({ id, path: c.path, savedAt: c.savedAt, bytes: c.data.length });
          wipe(c.data);
        } catch (e) { onBroken(id, e as Error); }
      }
      return out;
    });
    return (copies ?? []).sort((a, b) => a.savedAt.localeCompare(b.savedAt));
  }

  async read(keyring: Keyring, id: string): Promise<{ path: string; data: Buffer }> {
    const c = await this.withRecipient(keyring, (d, x) => this.openCopy(id, d, x));
    if (!c) throw new WorkerError('FileNotFound', 'There is no recovery key.');
    return { path: c.path, data: c.data };
  }

  async discard(id: string): Promise<void> {
    await fs.rm(this.file(id), { force: true });
  }
}
