// Foreign secret keys sealed in the key store: one JSON file per kind (imported age identities, imported
// dotenvx keys), each entry a 32-byte secret sealed under the master key, so lock wipes them, rotation
// rewraps them and nothing of them is in plaintext on disk. The public half that names an entry (its `id`)
// is readable without unlocking and is bound to the sealed secret as AAD.
//   <keystore>/<file>  { format, version: 1, <list>: [{ …public fields, masterKeyId, nonce, ciphertext }] }
//   ciphertext = AES-256-GCM(HKDF(master, wrapInfo ‖ id), the secret, AAD aadPrefix ‖ id)
import fs from 'node:fs/promises';
import path from 'node:path';
import { NoteSealError } from '../crypto/errors';
import { writeFileAtomic } from '../crypto/format';
import { deriveSubkey, open, seal } from './aead';
import { fromBase64, toBase64, utf8, wipe } from './bytes';
import type { MasterKey, MasterKeys } from './keyfile';
import { withLock } from './lockfile';

export interface SealedFields { masterKeyId: string; nonce: string; ciphertext: string }
export type Sealed<M> = M & SealedFields;

export interface SealedSecretsKind<M> {
  /** File name in the key store folder, its `format` tag and the name of its list. */
  file: string;
  format: string;
  list: string;
  /** What the store holds, for messages ("the imported age identities"). */
  what: string;
  /** HKDF info of the wrapping key and the AAD's prefix: distinct per kind. */
  wrapInfo: string;
  aadPrefix: string;
  /** The public name of an entry (bound as AAD), and whether a parsed entry's public fields are well formed. */
  idOf(meta: M): string;
  wellFormed(entry: Record<string, unknown>): boolean;
}

export class SealedSecrets<M extends object> {
  constructor(private readonly kind: SealedSecretsKind<M>, private readonly dir: string) {}

  get path(): string { return path.join(this.dir, this.kind.file); }

  async read(): Promise<Sealed<M>[]> {
    let text: string;
    try { text = await fs.readFile(this.path, 'utf8'); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const damaged = () => new NoteSealError('DAMAGED_KEYFILE', `${this.kind.what[0]!.toUpperCase()}${this.kind.what.slice(1)} in ${this.path} are damaged.`);
    let json: Record<string, unknown>;
    try { json = JSON.parse(text) as Record<string, unknown>; } catch { throw damaged(); }
    const list = json?.[this.kind.list];
    if (json?.format !== this.kind.format || json.version !== 1 || !Array.isArray(list)) throw damaged();
    for (const e of list as Record<string, unknown>[]) {
      if (typeof e !== 'object' || e === null || !this.kind.wellFormed(e) || typeof e.masterKeyId !== 'string'
        || typeof e.nonce !== 'string' || typeof e.ciphertext !== 'string') throw damaged();
    }
    return list as Sealed<M>[];
  }

  /** Read-modify-write under the store's lock, so two imports (two windows, the CLI) never lose one. */
  async update<T>(fn: (entries: Sealed<M>[]) => Promise<{ entries: Sealed<M>[] | null; result: T }> | { entries: Sealed<M>[] | null; result: T }): Promise<T> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    return withLock(path.join(this.dir, `${this.kind.file}.lock`), { waitMs: 10_000, what: this.kind.what }, async () => {
      const { entries, result } = await fn(await this.read());
      if (entries) {
        const json = { format: this.kind.format, version: 1, [this.kind.list]: entries };
        await writeFileAtomic(this.path, utf8(JSON.stringify(json, null, 2) + '\n'), 0o600);
      }
      return result;
    });
  }

  seal(meta: M, secret: Uint8Array, master: MasterKey): Sealed<M> {
    const wrapKey = this.wrapKeyFor(master);
    const sealed = seal(wrapKey, secret, this.aadFor(meta));
    wipe(wrapKey);
    return { ...meta, masterKeyId: master.id, nonce: toBase64(sealed.nonce), ciphertext: toBase64(sealed.ciphertext) };
  }

  /** The secret of `entry`, opened with the master keys (the caller wipes it); DAMAGED_KEYFILE naming `name`. */
  open(entry: Sealed<M>, keys: MasterKeys, name: string): Uint8Array {
    const damaged = (why: string) => this.damaged(`${name} ${why}.`);
    const master = [keys.current, ...keys.retired].find(k => k.id === entry.masterKeyId);
    if (!master) throw damaged(`is wrapped under master key ${entry.masterKeyId}, which this keyfile does not hold`);
    const wrapKey = this.wrapKeyFor(master);
    const nonce = fromBase64(entry.nonce), ciphertext = fromBase64(entry.ciphertext);
    const secret = nonce && ciphertext ? open(wrapKey, { nonce, ciphertext }, this.aadFor(entry)) : null;
    wipe(wrapKey);
    if (!secret || secret.length !== 32) throw damaged('fails its integrity check');
    return secret;
  }

  /** After a rotation: reseals every entry not yet under the current master key. Returns how many changed. */
  async rewrap(keys: MasterKeys, openOne: (entry: Sealed<M>) => Uint8Array): Promise<number> {
    const stale = (await this.read()).filter(e => e.masterKeyId !== keys.current.id);
    if (stale.length === 0) return 0;
    const opened = new Map<string, Uint8Array>();
    try {
      for (const e of stale) opened.set(this.kind.idOf(e), openOne(e));
      return await this.update(entries => {
        let changed = 0;
        const next = entries.map(e => {
          const secret = e.masterKeyId === keys.current.id ? undefined : opened.get(this.kind.idOf(e));
          if (!secret) return e;
          changed++;
          return this.seal(this.publicPart(e), secret, keys.current);
        });
        return { entries: changed ? next : null, result: changed };
      });
    } finally { for (const s of opened.values()) wipe(s); }
  }

  damaged(message: string): NoteSealError { return new NoteSealError('DAMAGED_KEYFILE', message); }

  private publicPart(e: Sealed<M>): M {
    const { masterKeyId: _m, nonce: _n, ciphertext: _c, ...meta } = e;
    return meta as unknown as M;
  }

  private wrapKeyFor(master: MasterKey): Uint8Array { return deriveSubkey(master.key, this.kind.wrapInfo, master.id); }
  private aadFor(meta: M): Uint8Array { return utf8(`${this.kind.aadPrefix}${this.kind.idOf(meta)}`); }
}
