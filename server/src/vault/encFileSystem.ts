// The file operations behind the `noteseal:` FileSystemProvider. A logical path `/notes/plan.md` is the
// decrypted view of `/notes/plan.md.enc`; folders are the same folders. Plaintext exists only in memory:
// reads decrypt into a buffer returned over IPC, writes encrypt in memory and replace the `.enc` file
// crash-safely (temp sibling, fsync, rename). Every write gets a fresh data key and salt.
import fs from 'node:fs/promises';
import path from 'node:path';
import { decryptBuffer, encryptBuffer, writeFileAtomic } from '../crypto/format';
import { wipe } from '../keys/bytes';
import { ENC_SUFFIX, encPathOf, isEncPath, isTempSibling } from '../encPaths';
import type { DirectoryEntry, FileStatInfo } from '../protocol';
import type { VaultService } from './vaultService';
import { WorkerError } from './workerErrors';

type Target = { kind: 'file'; real: string } | { kind: 'directory'; real: string } | { kind: 'missing'; real: string };

async function statOrNull(p: string) {
  try { return await fs.stat(p); } catch (e) { if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null; throw e; }
}

export class EncFileSystem {
  constructor(private readonly vault: VaultService) {}

  /** The unlocked keyring (LOCKED / NOT_INITIALIZED otherwise). */
  vaultKeyring() { return this.vault.unlocked(); }

  /** What a logical path names on disk: its `.enc` file, a folder, or nothing yet (a new file). */
  private async resolve(logical: string): Promise<Target> {
    const enc = encPathOf(logical);
    const encStat = await statOrNull(enc);
    if (encStat?.isFile()) return { kind: 'file', real: enc };
    const dirStat = await statOrNull(logical);
    if (dirStat?.isDirectory()) return { kind: 'directory', real: logical };
    return { kind: 'missing', real: enc };
  }

  async stat(logical: string): Promise<FileStatInfo> {
    const t = await this.resolve(logical);
    if (t.kind === 'missing') throw new WorkerError('FileNotFound', `No such encrypted file: ${t.real}`);
    const s = await fs.stat(t.real);
    let readonly = false;
    try { await fs.access(t.real, fs.constants.W_OK); } catch { readonly = true; }
    return { type: t.kind, ctime: s.ctimeMs, mtime: s.mtimeMs, size: s.size, readonly };
  }

  async readDirectory(logical: string): Promise<DirectoryEntry[]> {
    const entries = await fs.readdir(logical, { withFileTypes: true });
    const out: DirectoryEntry[] = [];
    for (const e of entries) {
      if (isTempSibling(e.name)) continue;
      if (e.isDirectory()) out.push([e.name, 'directory']);
      else if (e.isFile() && isEncPath(e.name)) out.push([e.name.slice(0, -ENC_SUFFIX.length), 'file']);
    }
    return out;
  }

  async readFile(logical: string): Promise<Buffer> {
    const t = await this.resolve(logical);
    if (t.kind === 'directory') throw new WorkerError('FileIsADirectory', `${t.real} is a folder`);
    if (t.kind === 'missing') throw new WorkerError('FileNotFound', `No such encrypted file: ${t.real}`);
    const keyring = this.vault.unlocked();
    const sealed = await fs.readFile(t.real);
    if (isNewEmptyNote(sealed)) return Buffer.alloc(0);
    return decryptBuffer(sealed, keyring.unwrap);
  }

  async writeFile(logical: string, plaintext: Uint8Array, flags: { create: boolean; overwrite: boolean }): Promise<void> {
    const t = await this.resolve(logical);
    if (t.kind === 'directory') throw new WorkerError('FileIsADirectory', `${t.real} is a folder`);
    if (t.kind === 'missing' && !flags.create) throw new WorkerError('FileNotFound', `No such encrypted file: ${t.real}`);
    if (t.kind === 'file' && !flags.overwrite) throw new WorkerError('FileExists', `${t.real} already exists`);
    const parent = await statOrNull(path.dirname(t.real));
    if (!parent?.isDirectory()) throw new WorkerError('FileNotFound', `The folder ${path.dirname(t.real)} does not exist`);
    await this.encryptTo(t.real, plaintext);
  }

  /** Encrypts `plaintext` under a fresh data key and replaces `encPath` crash-safely (its mode is kept). */
  async encryptTo(encPath: string, plaintext: Uint8Array): Promise<void> {
    const keyring = this.vault.unlocked();
    const { dataKey, stanzas } = await keyring.newFileStanzas();
    let sealed: Buffer;
    try { sealed = encryptBuffer(plaintext, dataKey, stanzas); } finally { wipe(dataKey); }
    await writeFileAtomic(encPath, sealed);
  }

  async delete(logical: string, recursive: boolean): Promise<void> {
    const t = await this.resolve(logical);
    if (t.kind === 'missing') throw new WorkerError('FileNotFound', `No such encrypted file: ${t.real}`);
    if (t.kind === 'file') await fs.unlink(t.real);
    else await fs.rm(t.real, { recursive, force: false });
  }

  async rename(from: string, to: string, overwrite: boolean): Promise<void> {
    const src = await this.resolve(from);
    if (src.kind === 'missing') throw new WorkerError('FileNotFound', `No such encrypted file: ${src.real}`);
    const dst = src.kind === 'file' ? encPathOf(to) : to;
    const existing = await statOrNull(dst);
    if (existing && !overwrite) throw new WorkerError('FileExists', `${dst} already exists`);
    await fs.rename(src.real, dst);
  }

  async createDirectory(logical: string): Promise<void> {
    await fs.mkdir(logical);
  }
}

/**
 * A 0-byte `.enc` (Explorer → New File `secret.md.enc`, or a Save As that NoteSeal emptied before VS Code
 * wrote it, client/src/encGuard.ts) is an empty note that was never sealed: it opens empty and its first save
 * seals it. It holds nothing to leak or to authenticate; any other non-NoteSeal content stays NOT_NOTESEAL.
 */
function isNewEmptyNote(bytes: Uint8Array): boolean {
  return bytes.length === 0;
}
